package servicebus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
)

func TestSenderIsMadeOnceAndReused(t *testing.T) {
	s, c := newFake()
	const workers, each = 16, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				m := OutgoingMessage{MessageID: fmt.Sprintf("m-%d-%d", w, i)}
				if i%2 == 0 {
					errs <- s.SendMessage(context.Background(), m)
				} else {
					errs <- s.ScheduleMessage(context.Background(), m, time.Now().Add(time.Minute))
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	if got, want := c.news.Load(), int32(1); got != want {
		t.Errorf("sender factory calls = %d, want %d", got, want)
	}
	sent, scheduled := len(c.sender.sent), len(c.sender.scheduled)
	if got, want := sent+scheduled, workers*each; got != want {
		t.Errorf("messages handed to the SDK = %d, want %d", got, want)
	}
	if sent == 0 || scheduled == 0 {
		t.Errorf("sent %d, scheduled %d; want both above 0", sent, scheduled)
	}
}

func TestFactoryErrorIsNotKept(t *testing.T) {
	s, c := newFake()
	c.newErr = errors.New("namespace unavailable")
	err := s.SendMessage(context.Background(), OutgoingMessage{MessageID: "m"})
	if err == nil || !strings.Contains(err.Error(), "namespace unavailable") {
		t.Fatalf("first send err = %v, want the factory's error", err)
	}
	c.newErr = nil
	if err := s.SendMessage(context.Background(), OutgoingMessage{MessageID: "m"}); err != nil {
		t.Fatalf("second send: %v, want nil", err)
	}
	if got, want := c.news.Load(), int32(2); got != want {
		t.Errorf("sender factory calls = %d, want %d", got, want)
	}
}

func TestClose(t *testing.T) {
	tests := []struct {
		name            string
		sendFirst       bool
		wantSenderClose int
	}{
		{"after_send", true, 1},
		{"before_any_send", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newFake()
			ctx := context.Background()
			if tt.sendFirst {
				if err := s.SendMessage(ctx, OutgoingMessage{MessageID: "m"}); err != nil {
					t.Fatalf("SendMessage: %v", err)
				}
			}
			for i := range 2 {
				if err := s.Close(ctx); err != nil {
					t.Fatalf("Close #%d: %v, want nil", i+1, err)
				}
			}
			if got, want := c.sender.closes, tt.wantSenderClose; got != want {
				t.Errorf("SDK sender closes = %d, want %d", got, want)
			}
			if got, want := c.closes.Load(), int32(1); got != want {
				t.Errorf("client closes = %d, want %d", got, want)
			}
			newsBefore := c.news.Load()

			errSend := s.SendMessage(ctx, OutgoingMessage{MessageID: "late"})
			errSchedule := s.ScheduleMessage(ctx, OutgoingMessage{MessageID: "late"}, time.Now())
			for _, err := range []error{errSend, errSchedule} {
				if !errors.Is(err, errClosed) {
					t.Errorf("send after Close: err = %v, want errClosed", err)
				}
				if err != nil && !strings.Contains(err.Error(), "closed") {
					t.Errorf("send after Close: err = %q, want it to say closed", err)
				}
			}
			if got := c.news.Load(); got != newsBefore {
				t.Errorf("sender factory calls after Close = %d, want %d", got, newsBefore)
			}
		})
	}
}

func TestCloseConcurrent(t *testing.T) {
	s, c := newFake()
	if err := s.SendMessage(context.Background(), OutgoingMessage{MessageID: "m"}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := s.Close(context.Background()); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	wg.Wait()
	if got, want := c.sender.closes, 1; got != want {
		t.Errorf("SDK sender closes = %d, want %d", got, want)
	}
	if got, want := c.closes.Load(), int32(1); got != want {
		t.Errorf("client closes = %d, want %d", got, want)
	}
}

func TestCloseReportsBothErrors(t *testing.T) {
	s, c := newFake()
	c.sender.closeErr = errors.New("sender detach failed")
	c.closeErr = errors.New("connection close failed")
	if err := s.SendMessage(context.Background(), OutgoingMessage{MessageID: "m"}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	err := s.Close(context.Background())
	if !errors.Is(err, c.sender.closeErr) || !errors.Is(err, c.closeErr) {
		t.Errorf("Close err = %v, want both the sender's and the client's error", err)
	}
	if got, want := c.closes.Load(), int32(1); got != want {
		t.Errorf("client closes = %d, want %d (closed even when the sender failed to)", got, want)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
}

func TestNewClientAndSenderValidation(t *testing.T) {
	const secret = "c2VjcmV0LWtleS12YWx1ZQ"
	tests := []struct {
		name      string
		namespace string
		queue     string
		nilCred   bool
		wantErr   string // "" means success
	}{
		{"public_cloud", "contoso.servicebus.windows.net", "pal-onboarding", false, ""},
		{"us_government", "contoso.servicebus.usgovcloudapi.net", "pal-onboarding", false, ""},
		{"china", "contoso.servicebus.chinacloudapi.cn", "pal-onboarding", false, ""},
		{"queue_with_path_chars", "contoso.servicebus.windows.net", "pal/onboarding_v2.x", false, ""},
		{"empty_namespace", "", "q", false, "namespace is empty"},
		{"amqps_scheme", "sb://contoso.servicebus.windows.net", "q", false, `"sb://contoso.servicebus.windows.net" has a scheme`},
		{"https_scheme", "https://contoso.servicebus.windows.net/", "q", false, "has a scheme"},
		{"port", "contoso.servicebus.windows.net:5671", "q", false, "is not a host name"},
		{"path", "contoso.servicebus.windows.net/q", "q", false, "is not a host name"},
		{"single_label", "contoso", "q", false, "not fully qualified"},
		{"trailing_dot", "contoso.servicebus.windows.net.", "q", false, "is not a host name"},
		{"leading_hyphen", "-contoso.servicebus.windows.net", "q", false, "is not a host name"},
		{"space", "contoso .servicebus.windows.net", "q", false, "(value not shown) is not a host name"},
		{"too_long", strings.Repeat("a.", 127) + "net", "q", false, "at most 253"},
		{"connection_string", "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=" + secret, "q", false, "looks like a connection string"},
		{"user_info", "https://user:" + secret + "@contoso.servicebus.windows.net", "q", false, "(value not shown) has a scheme"},
		{"empty_queue", "contoso.servicebus.windows.net", "", false, "queue name is empty"},
		{"queue_space", "contoso.servicebus.windows.net", "pal onboarding", false, "queue name"},
		{"queue_leading_slash", "contoso.servicebus.windows.net", "/pal", false, "must start and end"},
		{"queue_too_long", "contoso.servicebus.windows.net", strings.Repeat("q", 261), false, "at most 260"},
		{"nil_credential", "contoso.servicebus.windows.net", "q", true, "credential is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cred azcore.TokenCredential = &fake.TokenCredential{}
			if tt.nilCred {
				cred = nil
			}
			var s *Sender
			c, err := NewClient(tt.namespace, cred, nil)
			if err == nil {
				t.Cleanup(func() { _ = c.Close(context.Background()) })
				s, err = c.NewSender(tt.queue)
			}
			if tt.wantErr == "" {
				if err != nil || s == nil {
					t.Fatalf("NewClient, NewSender = %v, %v; want a Sender", s, err)
				}
				if err := s.Close(context.Background()); err != nil {
					t.Errorf("Close: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if s != nil {
				t.Errorf("Sender = %v, want nil with an error", s)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("err = %q, holds the secret", err)
			}
			if !strings.HasPrefix(err.Error(), "servicebus: ") {
				t.Errorf("err = %q, want the prefix %q", err, "servicebus: ")
			}
		})
	}
}
