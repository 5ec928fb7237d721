package customhandler

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Log field names.
const (
	fieldInvocationID = "invocation_id"
	fieldFunction     = "function"
)

const (
	// invocationIDHeader carries the host's invocation ID.
	invocationIDHeader = "X-Azure-Functions-InvocationId"

	defaultMaxBodyBytes      = 4 << 20
	defaultReadHeaderTimeout = 10 * time.Second
	defaultShutdownTimeout   = 30 * time.Second
	// maxInvocationIDLen bounds an invocation ID taken from the header.
	maxInvocationIDLen = 128
	// maxDrainBytes bounds how much of an oversized invocation request is
	// read (and discarded) after its first MaxBodyBytes, so that the host can
	// finish sending it and read the answer on a connection still open. The
	// Functions host accepts HTTP requests of up to 100 MB; their envelope
	// carries the body at most twice, JSON-escaped. Beyond this the
	// connection is closed after the answer.
	maxDrainBytes = 1 << 30
)

// ServerOptions configures a Server. The zero value is ready to use.
type ServerOptions struct {
	// Stdout receives every log line, one JSON object per line, serialised.
	// Default os.Stdout, which the host captures: it is the only path by which
	// log lines reach the host (answers carry no Logs).
	Stdout io.Writer
	// ReadHeaderTimeout bounds reading a request's header. Default 10s.
	ReadHeaderTimeout time.Duration
	// ShutdownTimeout bounds how long Serve waits for in-flight invocations
	// after its context ends. Default 30s.
	ShutdownTimeout time.Duration
	// MaxBodyBytes bounds an invocation request body; larger ones are read
	// no further and fail with 413, or, for a function registered with
	// HandleHTTP, get its too-large answer. Default 4 MiB.
	MaxBodyBytes int64
}

// Server is the custom handler's HTTP server: it answers the host's
// readiness probes on "/" and dispatches POST /{function} to handlers.
type Server struct {
	log      zerolog.Logger
	opts     ServerOptions
	mu       sync.RWMutex
	handlers map[string]registered
}

// registered is a handler and the name it was registered under.
type registered struct {
	name string
	h    HandlerFunc
	// tooLarge answers an invocation request over MaxBodyBytes; nil: the
	// invocation fails with 413.
	tooLarge func() Result
}

// NewServer returns a Server that logs through log: its level, context fields
// and hooks are kept, but its lines go to opts.Stdout. opts may be nil.
func NewServer(log zerolog.Logger, opts *ServerOptions) *Server {
	var o ServerOptions
	if opts != nil {
		o = *opts
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.ReadHeaderTimeout <= 0 {
		o.ReadHeaderTimeout = defaultReadHeaderTimeout
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = defaultShutdownTimeout
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = defaultMaxBodyBytes
	}
	return &Server{
		log:      log.Output(zerolog.SyncWriter(o.Stdout)),
		opts:     o,
		handlers: make(map[string]registered),
	}
}

// Handle registers h for the function named function (the function's folder
// name; matched case-insensitively, as the host does). It panics on an empty
// or duplicate name, like http.ServeMux.
func (s *Server) Handle(function string, h HandlerFunc) {
	s.register(function, registered{name: function, h: h})
}

// HandleHTTP registers h for an HTTP-triggered function, like Handle, and
// tooLarge as the answer to its invocation requests larger than
// MaxBodyBytes: such a request is read no further and the invocation
// succeeds with tooLarge's answer, which should set the function's http
// output to a 413. (A failed invocation would reach the caller as the host's
// empty 500.) tooLarge is called only then, so registering builds no answer
// at start (docs/reliability.md, "Fast start").
func (s *Server) HandleHTTP(function string, h HandlerFunc, tooLarge func() Result) {
	if tooLarge == nil {
		panic(fmt.Sprintf("customhandler: nil tooLarge for function %q", function))
	}
	s.register(function, registered{name: function, h: h, tooLarge: tooLarge})
}

// register adds reg under function, panicking on an invalid or duplicate name.
func (s *Server) register(function string, reg registered) {
	if function == "" || strings.Contains(function, "/") || reg.h == nil {
		panic(fmt.Sprintf("customhandler: invalid registration of function %q", function))
	}
	key := strings.ToLower(function)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.handlers[key]; dup {
		panic(fmt.Sprintf("customhandler: function %q registered twice", function))
	}
	s.handlers[key] = reg
}

// Serve serves on ln until ctx ends. Then it stops accepting, waits up to
// ShutdownTimeout for in-flight invocations to finish and returns nil; if
// they do not finish in time it closes their connections and returns an
// error. It also returns an error when serving fails.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ErrorLog:          stdlog.New(s.log.With().Str("component", "http").Logger(), "", 0),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info().Str("addr", ln.Addr().String()).Msg("custom handler listening")

	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	s.log.Info().Dur("timeout", s.opts.ShutdownTimeout).Msg("shutting down: waiting for in-flight invocations")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc // http.ErrServerClosed once Shutdown has begun
	if err != nil {
		closeErr := srv.Close()
		return fmt.Errorf("shutdown after %s: %w", s.opts.ShutdownTimeout, errors.Join(err, closeErr))
	}
	s.log.Info().Msg("custom handler stopped")
	return nil
}

// ServeHTTP implements http.Handler: any request to "/" is a readiness or
// health probe and gets 200 at once; POST /{function} is an invocation.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/" {
		w.WriteHeader(http.StatusOK)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/")
	s.mu.RLock()
	reg, ok := s.handlers[strings.ToLower(name)]
	s.mu.RUnlock()
	if !ok || strings.Contains(name, "/") {
		s.log.Warn().Str("path", truncate(r.URL.Path, 100)).Str("method", r.Method).Msg("request for an unknown function")
		writeJSON(w, http.StatusNotFound, errorBody{Error: fmt.Sprintf("no function %q", truncate(name, 100))})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: fmt.Sprintf("method %s not allowed; invocations are POST", truncate(r.Method, 20))})
		return
	}
	s.invoke(w, r, reg)
}

// invocationRequest is the host's request body.
type invocationRequest struct {
	Data     map[string]json.RawMessage `json:"Data"`
	Metadata map[string]json.RawMessage `json:"Metadata"`
}

// invocationResponse is the success answer. Newtonsoft matches keys
// case-insensitively; these are the documented spellings. Logs is always
// empty: log lines go to stdout only (see logs.go). ReturnValue is kept for
// local tools and tests; the host ignores it, as no function has a $return
// binding.
type invocationResponse struct {
	Outputs     map[string]any `json:"Outputs"`
	Logs        emptyLogs      `json:"Logs"`
	ReturnValue any            `json:"ReturnValue"`
}

// failureResponse is the answer that fails an invocation. The host ignores
// the body of a non-2xx answer; the error is there for people and tests, and
// the invocation's log lines are on stdout.
type failureResponse struct {
	Error string `json:"error"`
}

// errorBody is the answer to a request that is not an invocation.
type errorBody struct {
	Error string `json:"error"`
}

// invoke runs one invocation and answers the host.
func (s *Server) invoke(w http.ResponseWriter, r *http.Request, reg registered) {
	start := time.Now()
	id := r.Header.Get(invocationIDHeader)
	generated := !validInvocationID(id)
	if generated {
		id = newInvocationID()
	}
	// One path only: the lines go to stdout, never also into the answer's Logs.
	log := s.log.With().Str(fieldInvocationID, id).Str(fieldFunction, reg.name).Logger()
	if generated {
		log.Debug().Msg("no usable invocation ID header; generated one")
	}

	res := s.run(w, r, reg, id, log)

	if f := res.Failure; f != nil {
		status := f.Status
		if status < 400 || status > 599 {
			log.Warn().Int("status", status).Msg("failure status is not 4xx or 5xx; answering 500")
			status = http.StatusInternalServerError
		}
		ev := log.Error()
		if status < 500 {
			ev = log.Warn()
		}
		ev.Int("status", status).Str("error", f.Message).Dur("duration", time.Since(start)).Msg("invocation failed")
		writeJSON(w, status, failureResponse{Error: f.Message})
		return
	}

	outputs := res.Outputs
	if outputs == nil {
		outputs = map[string]any{}
	}
	resp := invocationResponse{Outputs: outputs, ReturnValue: res.ReturnValue}
	// Encode once to find values that cannot be encoded before logging success.
	if _, err := json.Marshal(resp); err != nil {
		log.Error().Err(err).Msg("invocation failed: cannot encode the result")
		writeJSON(w, http.StatusInternalServerError, failureResponse{Error: "internal error: cannot encode the result"})
		return
	}
	log.Info().Dur("duration", time.Since(start)).Msg("invocation succeeded")
	writeJSON(w, http.StatusOK, resp)
}

// run reads the invocation request and calls the handler, turning bad
// requests and panics into failures.
func (s *Server) run(w http.ResponseWriter, r *http.Request, reg registered, id string, log zerolog.Logger) (res Result) {
	body, err := io.ReadAll(io.LimitReader(r.Body, s.opts.MaxBodyBytes+1))
	if err != nil {
		log.Warn().Err(err).Msg("cannot read the invocation request")
		return fail(http.StatusBadRequest, "cannot read the invocation request")
	}
	if int64(len(body)) > s.opts.MaxBodyBytes {
		// Decided on the first MaxBodyBytes+1 bytes: the rest is discarded
		// as it arrives, never held, so the host can read the answer.
		drained, _ := io.Copy(io.Discard, io.LimitReader(r.Body, maxDrainBytes))
		log.Warn().Int64("limit", s.opts.MaxBodyBytes).Int64("bytes_read", int64(len(body))+drained).
			Msg("invocation request too large; not read")
		if reg.tooLarge != nil {
			return reg.tooLarge()
		}
		return fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("invocation request larger than %d bytes", s.opts.MaxBodyBytes))
	}
	var req invocationRequest
	if err := json.Unmarshal(body, &req); err != nil {
		log.Warn().Err(err).Int("bytes", len(body)).Msg("invocation request is not the host's JSON envelope")
		return fail(http.StatusBadRequest, "invocation request is not a JSON object with Data and Metadata")
	}
	if req.Data == nil {
		req.Data = map[string]json.RawMessage{}
	}
	if req.Metadata == nil {
		req.Metadata = map[string]json.RawMessage{}
	}
	inv := &Invocation{
		ID:       id,
		Function: reg.name,
		Data:     req.Data,
		Metadata: req.Metadata,
		Header:   r.Header.Clone(),
		Log:      log,
	}
	defer func() {
		if v := recover(); v != nil {
			log.Error().Str("panic", truncate(fmt.Sprint(v), 1000)).Bytes("stack", debug.Stack()).Msg("handler panicked")
			res = fail(http.StatusInternalServerError, "internal error")
		}
	}()
	return reg.h(log.WithContext(r.Context()), inv)
}

// writeJSON answers status with v as JSON, Content-Type set explicitly (Go
// would otherwise sniff text/plain, which the host rejects).
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"internal error: cannot encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b) // the host went away; nothing left to tell it
}

// validInvocationID reports whether a header value is usable as an
// invocation ID in logs: short, and only letters, digits and -_.:
func validInvocationID(id string) bool {
	if id == "" || len(id) > maxInvocationIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == ':'
		if !ok {
			return false
		}
	}
	return true
}

// newInvocationID returns a random (version 4) UUID.
func newInvocationID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// truncate cuts s to at most n bytes for logs and answers.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
