package customhandler

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/rs/zerolog"
)

// Invocation is one function invocation as the host sent it.
type Invocation struct {
	// ID is the host's invocation ID (X-Azure-Functions-InvocationId), or a
	// generated one when the host sent none.
	ID string
	// Function is the name the handler was registered under.
	Function string
	// Data holds the trigger and input binding values, keyed by binding name.
	Data map[string]json.RawMessage
	// Metadata holds the trigger metadata (scalars arrive JSON-encoded inside
	// strings; see MetadataString).
	Metadata map[string]json.RawMessage
	// Header is the header of the host's request.
	Header http.Header
	// Log is this invocation's logger: it carries "invocation_id" and
	// "function", and its lines go to stdout only (the host ingests stdout;
	// the answer's Logs stays empty, see logs.go).
	Log zerolog.Logger
}

// Result is what a handler answers for an invocation.
type Result struct {
	// Outputs holds output binding values, keyed by binding name.
	Outputs map[string]any
	// ReturnValue is answered as the invocation's ReturnValue. The host binds
	// it to a $return binding and otherwise ignores it; no pal-keeper function
	// has one, so it is seen only by local tools and tests, never in Azure.
	ReturnValue any
	// Failure, when set, fails the invocation; Outputs and ReturnValue are
	// then ignored.
	Failure *Failure
}

// Failure fails an invocation: the host sees a non-2xx answer, so a Service
// Bus message is abandoned and eventually dead-lettered.
type Failure struct {
	// Status is the HTTP status to answer, 400 to 599; anything else becomes 500.
	Status int
	// Message is safe to show: it goes into the answer and the log.
	Message string
}

// HandlerFunc handles one invocation. ctx ends when the host's request does;
// it also carries inv.Log (see zerolog.Ctx).
type HandlerFunc func(ctx context.Context, inv *Invocation) Result

// fail returns a Result that fails the invocation with status and message.
func fail(status int, message string) Result {
	return Result{Failure: &Failure{Status: status, Message: message}}
}
