package servicebus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// messageSender is the part of *azservicebus.Sender that [Sender] uses; tests
// replace it with a fake.
type messageSender interface {
	SendMessage(ctx context.Context, message *azservicebus.Message, options *azservicebus.SendMessageOptions) error
	ScheduleMessages(ctx context.Context, messages []*azservicebus.Message, scheduledEnqueueTime time.Time, options *azservicebus.ScheduleMessagesOptions) ([]int64, error)
	Close(ctx context.Context) error
}

var _ messageSender = (*azservicebus.Sender)(nil)

// senderFactory makes the SDK sender for a queue. The real one is
// (*azservicebus.Client).NewSender, which opens no connection.
type senderFactory func(queue string) (messageSender, error)

// Options adjusts [NewClient]. nil means the SDK's defaults.
type Options struct {
	// ClientOptions are passed to azservicebus.NewClient: retry policy, TLS
	// configuration, a custom endpoint or a WebSocket dialer. The zero value
	// gives the SDK's defaults (3 retries from a 4 s delay).
	ClientOptions azservicebus.ClientOptions
}

// Sender sends messages to one Service Bus queue over its [Client]'s
// connection ([Client.NewSender]): one per process and queue, shared between
// goroutines, closed at shutdown before the client.
//
// The SDK sender is made on the first send and reused after; the AMQP
// connection is opened by the first send, not by [Client.NewSender].
type Sender struct {
	queue       string
	newSender   senderFactory
	closeClient func(context.Context) error

	mu     sync.Mutex    // guards sender and closed
	sender messageSender // nil until the first send
	closed bool
}

// newSender builds a Sender over a factory and a client closer; NewSender and
// the tests use it.
func newSender(queue string, factory senderFactory, closeClient func(context.Context) error) *Sender {
	return &Sender{queue: queue, newSender: factory, closeClient: closeClient}
}

// SendMessage sends m to the queue now. The error wraps the SDK's, so
// errors.As finds an *azservicebus.Error.
func (s *Sender) SendMessage(ctx context.Context, m OutgoingMessage) error {
	msg, err := m.toSDK()
	if err != nil {
		return fmt.Errorf("servicebus: send to queue %q: %w", s.queue, err)
	}
	snd, err := s.get()
	if err != nil {
		return fmt.Errorf("servicebus: send message %q to queue %q: %w", m.MessageID, s.queue, err)
	}
	if err := snd.SendMessage(ctx, msg, nil); err != nil {
		return fmt.Errorf("servicebus: send message %q to queue %q: %w", m.MessageID, s.queue, err)
	}
	return nil
}

// ScheduleMessage hands m to the queue now, to become visible to receivers at
// enqueueAt (at once if enqueueAt has passed). enqueueAt must not be zero.
func (s *Sender) ScheduleMessage(ctx context.Context, m OutgoingMessage, enqueueAt time.Time) error {
	if enqueueAt.IsZero() {
		return fmt.Errorf("servicebus: schedule message %q to queue %q: enqueue time is zero", m.MessageID, s.queue)
	}
	msg, err := m.toSDK()
	if err != nil {
		return fmt.Errorf("servicebus: schedule to queue %q: %w", s.queue, err)
	}
	snd, err := s.get()
	if err != nil {
		return fmt.Errorf("servicebus: schedule message %q to queue %q: %w", m.MessageID, s.queue, err)
	}
	if _, err := snd.ScheduleMessages(ctx, []*azservicebus.Message{msg}, enqueueAt, nil); err != nil {
		return fmt.Errorf("servicebus: schedule message %q to queue %q for %s: %w",
			m.MessageID, s.queue, enqueueAt.UTC().Format(time.RFC3339), err)
	}
	return nil
}

// get returns the SDK sender, making it on first use, or errClosed.
func (s *Sender) get() (messageSender, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	if s.sender == nil {
		snd, err := s.newSender(s.queue)
		if err != nil {
			return nil, fmt.Errorf("new sender: %w", err)
		}
		s.sender = snd
	}
	return s.sender, nil
}

// Close closes the SDK sender, if one was made, and the client with its
// connection. Sends in flight fail; later sends fail with [errClosed]. Only
// the first call does anything; later calls return nil at once, and a
// concurrent call waits for the first to finish.
func (s *Sender) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	if s.sender != nil {
		if err := s.sender.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("servicebus: close sender for queue %q: %w", s.queue, err))
		}
		s.sender = nil
	}
	if err := s.closeClient(ctx); err != nil {
		errs = append(errs, fmt.Errorf("servicebus: close client: %w", err))
	}
	return errors.Join(errs...)
}
