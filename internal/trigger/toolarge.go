package trigger

import (
	"net/http"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/rs/zerolog"
)

// The answer to a request body over maxHTTPBody, whether the links function
// read it (the body alone is too large) or the custom handler refused the
// host's whole envelope (TooLarge).
const (
	msgBodyTooLarge   = "the request body is larger than 64 KiB"
	fieldBodyTooLarge = "at most 64 KiB"
)

// tooLarge is the 413 answer to a body over maxHTTPBody.
func tooLarge(log *zerolog.Logger) customhandler.Result {
	return answerError(log, http.StatusRequestEntityTooLarge, msgBodyTooLarge, map[string]string{"body": fieldBodyTooLarge}, nil)
}

// TooLarge is the answer of the HTTP functions to an invocation whose host
// request was over the custom handler's limit and was not read
// (customhandler.Server.HandleHTTP): 413 with the error body. Every request
// they accept fits in that limit (docs/contracts.md, "Limits"), so the
// answer names the body limit. The server logs the refusal.
func TooLarge() customhandler.Result {
	nop := zerolog.Nop()
	return tooLarge(&nop)
}

// IsHTTP reports whether function is one of the HTTP-triggered functions
// (links, report, dashboard): the custom handler answers their oversized
// requests with TooLarge.
func IsHTTP(function string) bool {
	switch function {
	case LinksFunction, ReportFunction, DashboardFunction:
		return true
	}
	return false
}
