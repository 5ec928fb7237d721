package main

import (
	"context"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/servicebus"
	"github.com/pal-keeper/pal-keeper/internal/trigger"
)

// serviceBusQueue adapts the Service Bus sender to the triggers' Queue.
type serviceBusQueue struct{ sender *servicebus.Sender }

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
