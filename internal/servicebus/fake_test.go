package servicebus

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// fakeSender records what a Sender hands to the SDK.
type fakeSender struct {
	err      error // returned by SendMessage and ScheduleMessages
	closeErr error // returned by Close

	mu        sync.Mutex
	sent      []*azservicebus.Message
	scheduled []scheduledCall
	closes    int
}

type scheduledCall struct {
	messages []*azservicebus.Message
	at       time.Time
}

var _ messageSender = (*fakeSender)(nil)

func (f *fakeSender) SendMessage(_ context.Context, m *azservicebus.Message, _ *azservicebus.SendMessageOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, m)
	return f.err
}

func (f *fakeSender) ScheduleMessages(_ context.Context, ms []*azservicebus.Message, at time.Time, _ *azservicebus.ScheduleMessagesOptions) ([]int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scheduled = append(f.scheduled, scheduledCall{messages: ms, at: at})
	if f.err != nil {
		return nil, f.err
	}
	return []int64{int64(len(f.scheduled))}, nil
}

func (f *fakeSender) Close(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closes++
	return f.closeErr
}

// fakeClient stands in for the azservicebus.Client: a sender factory that
// counts its calls and a Close that counts its calls.
type fakeClient struct {
	sender   *fakeSender
	newErr   error // returned by the factory while set
	closeErr error

	news   atomic.Int32
	closes atomic.Int32
}

func (c *fakeClient) factory(queue string) (messageSender, error) {
	c.news.Add(1)
	if c.newErr != nil {
		return nil, c.newErr
	}
	return c.sender, nil
}

func (c *fakeClient) close(context.Context) error {
	c.closes.Add(1)
	return c.closeErr
}

// newFake returns a Sender for queue "pal-onboarding" over a fake client.
func newFake() (*Sender, *fakeClient) {
	c := &fakeClient{sender: &fakeSender{}}
	return newSender("pal-onboarding", c.factory, c.close), c
}
