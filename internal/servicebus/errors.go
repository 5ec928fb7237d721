package servicebus

import (
	"context"
	"errors"
	"io"
	"net"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// ErrClosed is returned, wrapped, by [Sender.SendMessage] and
// [Sender.ScheduleMessage] once [Sender.Close] has been called.
var ErrClosed = errors.New("servicebus: sender is closed")

// IsTransient reports whether err, returned by a [Sender], is a failure that
// may pass if the same message is sent again later: a connection lost after
// the SDK's own retries, a service timeout, a context that ended, a token
// request that failed, or a network error.
//
// Everything else is not transient, notably an *azservicebus.Error with
// CodeUnauthorizedAccess (the identity may not send to the queue) or
// CodeNotFound (no such namespace or queue), azservicebus.ErrMessageTooLarge,
// an invalid message, and a closed sender ([ErrClosed], or CodeClosed when
// Close raced a send): a closed Sender never sends again, so the caller
// must fail the invocation and let the host redeliver.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, ErrClosed) {
		return false
	}
	var sbErr *azservicebus.Error
	if errors.As(err, &sbErr) {
		switch sbErr.Code {
		case azservicebus.CodeConnectionLost, azservicebus.CodeTimeout:
			return true
		default: // CodeUnauthorizedAccess, CodeNotFound, CodeClosed, CodeLockLost
			return false
		}
	}
	var (
		authErr *azidentity.AuthenticationFailedError
		netErr  net.Error
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return true
	case errors.As(err, &authErr):
		// The token endpoint failed or refused; the design counts a token
		// endpoint that is down as transient trouble.
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &netErr):
		return true
	}
	return false
}
