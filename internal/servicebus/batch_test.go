package servicebus

import (
	"context"
	"testing"
)

func TestSendMessagesWithoutBatchesSendsEachInOrder(t *testing.T) {
	s, c := newFake()
	ms := []OutgoingMessage{{Body: []byte(`{}`), MessageID: "run/t/0"}, {Body: []byte(`{}`), MessageID: "run/t/1"}}
	if err := s.SendMessages(context.Background(), ms); err != nil {
		t.Fatal(err)
	}
	sent := c.sender.sent
	if len(sent) != 2 || *sent[0].MessageID != "run/t/0" || *sent[1].MessageID != "run/t/1" {
		t.Errorf("got %d messages, want run/t/0 then run/t/1", len(sent))
	}
	if err := s.SendMessages(context.Background(), []OutgoingMessage{{Body: []byte(`{}`)}}); err == nil {
		t.Error("a message without MessageId was sent")
	}
}
