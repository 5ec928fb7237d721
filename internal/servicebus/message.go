package servicebus

import (
	"errors"
	"fmt"
	"maps"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// DefaultContentType is the content type of an [OutgoingMessage] that names none.
const DefaultContentType = "application/json"

// maxMessageIDLen is the longest MessageId Service Bus accepts.
const maxMessageIDLen = 128

// OutgoingMessage is a message pal-keeper sends to its onboarding queue.
type OutgoingMessage struct {
	// Body is the payload, sent as the message's single data section.
	Body []byte
	// MessageID identifies the message for duplicate detection. Required, at
	// most 128 characters. Derive it from the content (for example the original
	// message ID and the attempt number), never at random, so that a resend of
	// the same message is dropped by the queue.
	MessageID string
	// CorrelationID ties the message to the request it belongs to; optional.
	CorrelationID string
	// ContentType is the RFC 2045 content type of Body; empty means
	// [DefaultContentType].
	ContentType string
	// ApplicationProperties are custom properties, such as an attempt count.
	// Values must be AMQP simple types: strings, booleans, integers, floats,
	// time.Time or []byte.
	ApplicationProperties map[string]any
}

// toSDK checks m and maps it to an azservicebus message.
func (m OutgoingMessage) toSDK() (*azservicebus.Message, error) {
	if m.MessageID == "" {
		return nil, errors.New("message has no MessageID; one is required for duplicate detection")
	}
	if n := utf8.RuneCountInString(m.MessageID); n > maxMessageIDLen {
		return nil, fmt.Errorf("MessageID is %d characters long; Service Bus accepts at most %d", n, maxMessageIDLen)
	}
	id, contentType := m.MessageID, m.ContentType
	if contentType == "" {
		contentType = DefaultContentType
	}
	msg := &azservicebus.Message{
		Body:                  m.Body,
		MessageID:             &id,
		ContentType:           &contentType,
		ApplicationProperties: maps.Clone(m.ApplicationProperties),
	}
	if m.CorrelationID != "" {
		correlationID := m.CorrelationID
		msg.CorrelationID = &correlationID
	}
	return msg, nil
}
