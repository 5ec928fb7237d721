package servicebus

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// countingCredential is an azcore.TokenCredential that counts GetToken calls.
type countingCredential struct {
	calls atomic.Int32
}

const fakeToken = "fake-token-must-not-leak"

func (c *countingCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.calls.Add(1)
	return azcore.AccessToken{Token: fakeToken, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// TestRealSenderIsLazy builds a real Sender, pointed through CustomEndpoint at
// a loopback listener, and checks that neither NewClient, NewSender nor making the SDK
// sender connects or asks for a token. The first send then does reach the
// listener, which shows the check looks at the right place. Nothing leaves
// the machine.
func TestRealSenderIsLazy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var accepted atomic.Int32
	firstConn := make(chan struct{}, 1)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // listener closed
			}
			accepted.Add(1)
			_ = conn.Close() // no AMQP here: the handshake fails at once
			select {
			case firstConn <- struct{}{}:
			default:
			}
		}
	}()

	cred := &countingCredential{}
	client, err := NewClient("contoso.servicebus.windows.net", cred, &Options{
		ClientOptions: azservicebus.ClientOptions{
			CustomEndpoint: ln.Addr().String(),
			RetryOptions:   azservicebus.RetryOptions{MaxRetries: -1}, // one try
		},
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { _ = client.Close(context.Background()) })
	s, err := client.NewSender("pal-onboarding")
	if err != nil {
		t.Fatalf("NewSender: %v", err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	if _, err := s.get(); err != nil { // makes the azservicebus.Sender
		t.Fatalf("get: %v", err)
	}
	time.Sleep(50 * time.Millisecond) // room for a stray background dial to show
	if got := accepted.Load(); got != 0 {
		t.Errorf("connections after NewSender = %d, want 0", got)
	}
	if got := cred.calls.Load(); got != 0 {
		t.Errorf("GetToken calls after NewSender = %d, want 0", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = s.SendMessage(ctx, OutgoingMessage{MessageID: "m-1", Body: []byte(`{}`)})
	if err == nil {
		t.Fatal("SendMessage to a listener that speaks no AMQP: err = nil, want an error")
	}
	select {
	case <-firstConn:
	case <-time.After(5 * time.Second):
		t.Fatal("the send never reached the loopback listener; the laziness check above proves nothing")
	}
	if strings.Contains(err.Error(), fakeToken) {
		t.Errorf("err = %q, holds the token", err)
	}
	var sbErr *azservicebus.Error
	if !errors.As(err, &sbErr) || sbErr.Code != azservicebus.CodeConnectionLost {
		t.Errorf("err = %v, want one wrapping *azservicebus.Error with CodeConnectionLost", err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Errorf("Close after a failed connect: %v, want nil", err)
	}
}
