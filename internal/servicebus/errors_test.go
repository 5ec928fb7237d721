package servicebus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

func TestIsTransient(t *testing.T) {
	sbErr := func(c azservicebus.Code) error { return &azservicebus.Error{Code: c} }
	wrap := func(err error) error { return fmt.Errorf("servicebus: send message %q to queue %q: %w", "m", "q", err) }
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"connection_lost", sbErr(azservicebus.CodeConnectionLost), true},
		{"service_timeout", sbErr(azservicebus.CodeTimeout), true},
		{"wrapped_connection_lost", wrap(sbErr(azservicebus.CodeConnectionLost)), true},
		{"unauthorized", sbErr(azservicebus.CodeUnauthorizedAccess), false},
		{"wrapped_unauthorized", wrap(sbErr(azservicebus.CodeUnauthorizedAccess)), false},
		{"not_found", sbErr(azservicebus.CodeNotFound), false},
		{"sdk_closed", sbErr(azservicebus.CodeClosed), false},
		{"lock_lost", sbErr(azservicebus.CodeLockLost), false},
		{"our_closed", fmt.Errorf("x: %w", ErrClosed), false},
		{"deadline", wrap(context.DeadlineExceeded), true},
		{"cancelled", wrap(context.Canceled), true},
		{"token_request_failed", wrap(&azidentity.AuthenticationFailedError{}), true},
		{"eof", wrap(io.EOF), true},
		{"unexpected_eof", wrap(io.ErrUnexpectedEOF), true},
		{"net_op_error", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), true},
		{"dns_error", wrap(&net.DNSError{Err: "no such host", Name: "contoso.servicebus.windows.net", IsNotFound: true}), true},
		{"message_too_large", wrap(azservicebus.ErrMessageTooLarge), false},
		{"other", errors.New("boom"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsTransient(tt.err); got != tt.want {
				t.Errorf("IsTransient(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
