package servicebus

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// str dereferences an optional string for comparisons; nil gives "<nil>".
func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func TestSendMessageMapping(t *testing.T) {
	tests := []struct {
		name              string
		in                OutgoingMessage
		wantContentType   string
		wantCorrelationID string
		wantProps         map[string]any
	}{
		{
			name:              "minimal",
			in:                OutgoingMessage{Body: []byte(`{"tenantId":"t"}`), MessageID: "m-1"},
			wantContentType:   DefaultContentType,
			wantCorrelationID: "<nil>",
		},
		{
			name: "every_field",
			in: OutgoingMessage{
				Body:          []byte(`{"tenantId":"t"}`),
				MessageID:     "m-2",
				CorrelationID: "corr-2",
				ContentType:   "application/cloudevents+json",
				ApplicationProperties: map[string]any{
					"palAttempt": int64(3), "palOrigin": "onboarding", "palTransient": true,
					"palAt": time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
				},
			},
			wantContentType:   "application/cloudevents+json",
			wantCorrelationID: "corr-2",
			wantProps: map[string]any{
				"palAttempt": int64(3), "palOrigin": "onboarding", "palTransient": true,
				"palAt": time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
			},
		},
		{
			name:              "empty_body",
			in:                OutgoingMessage{MessageID: "m-3", ContentType: "text/plain"},
			wantContentType:   "text/plain",
			wantCorrelationID: "<nil>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newFake()
			if err := s.SendMessage(context.Background(), tt.in); err != nil {
				t.Fatalf("SendMessage: %v", err)
			}
			if got, want := len(c.sender.sent), 1; got != want {
				t.Fatalf("messages sent = %d, want %d", got, want)
			}
			checkMapped(t, c.sender.sent[0], tt.in, tt.wantContentType, tt.wantCorrelationID, tt.wantProps)
		})
	}
}

// checkMapped compares one SDK message with what the OutgoingMessage asked for.
func checkMapped(t *testing.T, got *azservicebus.Message, in OutgoingMessage, wantContentType, wantCorrelationID string, wantProps map[string]any) {
	t.Helper()
	if g, w := str(got.MessageID), in.MessageID; g != w {
		t.Errorf("MessageID = %q, want %q", g, w)
	}
	if g, w := str(got.ContentType), wantContentType; g != w {
		t.Errorf("ContentType = %q, want %q", g, w)
	}
	if g, w := str(got.CorrelationID), wantCorrelationID; g != w {
		t.Errorf("CorrelationID = %q, want %q", g, w)
	}
	if g, w := string(got.Body), string(in.Body); g != w {
		t.Errorf("Body = %q, want %q", g, w)
	}
	if g, w := len(got.ApplicationProperties), len(wantProps); g != w || (w > 0 && !reflect.DeepEqual(got.ApplicationProperties, wantProps)) {
		t.Errorf("ApplicationProperties = %v, want %v", got.ApplicationProperties, wantProps)
	}
	if got.ScheduledEnqueueTime != nil || got.PartitionKey != nil || got.SessionID != nil || got.TimeToLive != nil || got.ReplyTo != nil {
		t.Errorf("unexpected optional fields set: %+v", got)
	}
}

func TestApplicationPropertiesAreCopied(t *testing.T) {
	s, c := newFake()
	props := map[string]any{"palAttempt": 1}
	if err := s.SendMessage(context.Background(), OutgoingMessage{MessageID: "m", ApplicationProperties: props}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	props["palAttempt"] = 2
	if got, want := c.sender.sent[0].ApplicationProperties["palAttempt"], 1; got != want {
		t.Errorf("palAttempt after the caller changed its map = %v, want %v", got, want)
	}
}

func TestScheduleMessage(t *testing.T) {
	at := time.Date(2030, 6, 7, 8, 9, 10, 11, time.FixedZone("CEST", 2*60*60))
	in := OutgoingMessage{
		Body: []byte(`{}`), MessageID: "m-retry-2", CorrelationID: "corr",
		ApplicationProperties: map[string]any{"palAttempt": int64(2)},
	}
	s, c := newFake()
	if err := s.ScheduleMessage(context.Background(), in, at); err != nil {
		t.Fatalf("ScheduleMessage: %v", err)
	}
	if got, want := len(c.sender.scheduled), 1; got != want {
		t.Fatalf("ScheduleMessages calls = %d, want %d", got, want)
	}
	call := c.sender.scheduled[0]
	if !call.at.Equal(at) || call.at.Location() != at.Location() {
		t.Errorf("scheduled time = %v, want %v", call.at, at)
	}
	if got, want := len(call.messages), 1; got != want {
		t.Fatalf("scheduled messages = %d, want %d", got, want)
	}
	checkMapped(t, call.messages[0], in, DefaultContentType, "corr", map[string]any{"palAttempt": int64(2)})
	if got := len(c.sender.sent); got != 0 {
		t.Errorf("SendMessage calls = %d, want 0", got)
	}
}

func TestInvalidMessage(t *testing.T) {
	tests := []struct {
		name    string
		in      OutgoingMessage
		at      time.Time
		wantErr string
	}{
		{"send_no_message_id", OutgoingMessage{Body: []byte("{}")}, time.Time{}, "no MessageID"},
		{"send_long_message_id", OutgoingMessage{MessageID: strings.Repeat("é", 129)}, time.Time{}, "at most 128"},
		{"schedule_no_message_id", OutgoingMessage{}, time.Now(), "no MessageID"},
		{"schedule_zero_time", OutgoingMessage{MessageID: "m"}, time.Time{}, "enqueue time is zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newFake()
			var err error
			if strings.HasPrefix(tt.name, "schedule") {
				err = s.ScheduleMessage(context.Background(), tt.in, tt.at)
			} else {
				err = s.SendMessage(context.Background(), tt.in)
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if got := c.news.Load(); got != 0 {
				t.Errorf("sender factory calls = %d, want 0 (nothing to send)", got)
			}
		})
	}
	// 128 characters, multi-byte, is still accepted.
	s, _ := newFake()
	if err := s.SendMessage(context.Background(), OutgoingMessage{MessageID: strings.Repeat("é", 128)}); err != nil {
		t.Errorf("128-character MessageID: %v, want nil", err)
	}
}

func TestSendErrorIsWrapped(t *testing.T) {
	for _, op := range []string{"send", "schedule"} {
		t.Run(op, func(t *testing.T) {
			s, c := newFake()
			c.sender.err = &azservicebus.Error{Code: azservicebus.CodeConnectionLost}
			m := OutgoingMessage{MessageID: "m-9"}
			var err error
			if op == "send" {
				err = s.SendMessage(context.Background(), m)
			} else {
				err = s.ScheduleMessage(context.Background(), m, time.Now().Add(time.Minute))
			}
			var sbErr *azservicebus.Error
			if !errors.As(err, &sbErr) || sbErr.Code != azservicebus.CodeConnectionLost {
				t.Fatalf("err = %v, want one wrapping *azservicebus.Error with CodeConnectionLost", err)
			}
			for _, want := range []string{`"m-9"`, `"pal-onboarding"`} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %q, want it to name %s", err, want)
				}
			}
		})
	}
}
