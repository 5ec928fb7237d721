package main

import (
	"context"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/servicebus"
	"github.com/pal-keeper/pal-keeper/internal/trigger"
)

// queueSender sends to one Service Bus queue: a *servicebus.Sender (AMQP, the
// product's), or the end-to-end tests' REST sender (queue_rest_test.go).
type queueSender interface {
	SendMessage(ctx context.Context, m servicebus.OutgoingMessage) error
	ScheduleMessage(ctx context.Context, m servicebus.OutgoingMessage, enqueueAt time.Time) error
	SendMessages(ctx context.Context, ms []servicebus.OutgoingMessage) error
}

var _ queueSender = (*servicebus.Sender)(nil)

// serviceBusQueue adapts a queue sender to the triggers' Queue.
type serviceBusQueue struct{ sender queueSender }

var _ trigger.Queue = serviceBusQueue{}

func outgoing(m trigger.QueueMessage) servicebus.OutgoingMessage {
	return servicebus.OutgoingMessage{
		Body: m.Body, MessageID: m.MessageID, CorrelationID: m.CorrelationID,
		ContentType: m.ContentType, ApplicationProperties: m.Properties,
	}
}

// SendMessage enqueues m now.
func (q serviceBusQueue) SendMessage(ctx context.Context, m trigger.QueueMessage) error {
	return q.sender.SendMessage(ctx, outgoing(m))
}

// ScheduleMessage enqueues m at enqueueAt.
func (q serviceBusQueue) ScheduleMessage(ctx context.Context, m trigger.QueueMessage, enqueueAt time.Time) error {
	return q.sender.ScheduleMessage(ctx, outgoing(m), enqueueAt)
}
