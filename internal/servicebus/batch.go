package servicebus

import (
	"context"
	"errors"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// batchSender is the batch part of *azservicebus.Sender.
type batchSender interface {
	NewMessageBatch(ctx context.Context, options *azservicebus.MessageBatchOptions) (*azservicebus.MessageBatch, error)
	SendMessageBatch(ctx context.Context, batch *azservicebus.MessageBatch, options *azservicebus.SendMessageBatchOptions) error
}

var _ batchSender = (*azservicebus.Sender)(nil)

// SendMessages sends ms to the queue now, packed into as few batches as the
// namespace's message size allows (each batch is one send). A sender without
// batches (a test double) sends them one by one. On error some messages may
// have been sent; their MessageIds make a resend a duplicate the queue drops.
func (s *Sender) SendMessages(ctx context.Context, ms []OutgoingMessage) error {
	snd, err := s.get()
	if err != nil {
		return fmt.Errorf("servicebus: send %d message(s) to queue %q: %w", len(ms), s.queue, err)
	}
	bs, ok := snd.(batchSender)
	if !ok {
		for _, m := range ms {
			if err := s.SendMessage(ctx, m); err != nil {
				return err
			}
		}
		return nil
	}
	var batch *azservicebus.MessageBatch
	send := func() error {
		if batch == nil || batch.NumMessages() == 0 {
			return nil
		}
		if err := bs.SendMessageBatch(ctx, batch, nil); err != nil {
			return fmt.Errorf("servicebus: send a batch of %d message(s) to queue %q: %w", batch.NumMessages(), s.queue, err)
		}
		batch = nil
		return nil
	}
	for _, m := range ms {
		msg, err := m.toSDK()
		if err != nil {
			return fmt.Errorf("servicebus: send to queue %q: %w", s.queue, err)
		}
		for {
			if batch == nil {
				if batch, err = bs.NewMessageBatch(ctx, nil); err != nil {
					return fmt.Errorf("servicebus: new batch for queue %q: %w", s.queue, err)
				}
			}
			err = batch.AddMessage(msg, nil)
			if err == nil {
				break
			}
			if !errors.Is(err, azservicebus.ErrMessageTooLarge) || batch.NumMessages() == 0 {
				return fmt.Errorf("servicebus: message %q for queue %q: %w", m.MessageID, s.queue, err)
			}
			if err := send(); err != nil {
				return err
			}
		}
	}
	return send()
}
