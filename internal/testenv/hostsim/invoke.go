package hostsim

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// InvocationResult is what happened to one invocation.
type InvocationResult struct {
	Function     string
	InvocationID string // the X-Azure-Functions-InvocationId sent
	// Request is the body sent to the handler (the {"Data","Metadata"} envelope, or the
	// raw request body in forwarding mode).
	Request []byte

	// Status, Header and Body are the handler's answer as received (Status is 0 when
	// there was no answer).
	Status int
	Header http.Header
	Body   []byte

	// Outputs and Logs are parsed from an answer the host accepted (2xx, JSON). The
	// host ingests those Logs (Host.Ingested); the Logs of any other answer are not
	// parsed and never reach the host's logs.
	Outputs map[string]json.RawMessage
	Logs    []string
	// ReturnValue is what the handler answered in ReturnValue. The real host ignores
	// it unless the function has a binding named "$return" (then it is that binding's
	// value, see BoundReturnValue): nothing of it is visible in Azure otherwise. Tests
	// and local tools may read it.
	ReturnValue json.RawMessage
	// BoundReturnValue is ReturnValue when the function has a "$return" binding, and
	// nil otherwise: what the host does something with.
	BoundReturnValue json.RawMessage

	// Failed is true when the host would count the invocation as failed; Err says why
	// (it wraps ErrInvalidResponse, ErrFunctionTimeout or the transport error).
	Failed bool
	Err    error

	Duration time.Duration
}

// envelope is HttpScriptInvocationContext.
type envelope struct {
	Data     map[string]any `json:"Data"`
	Metadata map[string]any `json:"Metadata"`
}

// Invoke sends one invocation with exactly the given Data and Metadata (values are
// JSON-encoded as they are; use this for full control of the payload). Metadata.sys is
// added when absent. The error is non-nil only when nothing could be invoked (unknown
// function, host stopped, ctx ended); a failing handler is reported in the result.
func (h *Host) Invoke(ctx context.Context, function string, data, metadata map[string]any) (*InvocationResult, error) {
	f, err := h.lookupTrigger(function, "")
	if err != nil {
		return nil, err
	}
	if data == nil {
		data = map[string]any{}
	}
	md := make(map[string]any, len(metadata)+1)
	for k, v := range metadata {
		md[k] = v
	}
	if _, ok := md["sys"]; !ok {
		md["sys"] = newSys(f.Name, time.Now())
	}
	res, _, err := h.invoke(ctx, f, envelope{Data: data, Metadata: md})
	return res, err
}

// invoke sends an envelope to POST /{function} and applies the host's rules to the answer
// and to the output bindings. For a function with an http output binding it also returns
// the HTTP response the host would write.
func (h *Host) invoke(ctx context.Context, f *Function, env envelope) (*InvocationResult, *httpAnswer, error) {
	body, err := marshalWire(env)
	if err != nil {
		return nil, nil, fmt.Errorf("hostsim: encoding invocation for %s: %w", f.Name, err)
	}
	res := &InvocationResult{Function: f.Name, InvocationID: newGUID(), Request: body}
	err = h.roundTrip(ctx, res, h.client, func(base string) (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, base+"/"+f.Name, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.ContentLength = 0 // unknown length: sent chunked, like ObjectContent
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		return req, nil
	})
	if err != nil {
		return nil, nil, err
	}
	if !res.Failed {
		res.parseAnswer()
	}
	if !res.Failed {
		// ProcessLogsFromHttpResponse runs after EnsureSuccessStatusCode and the body's
		// parse, before the outputs are bound: Logs of an accepted answer are ingested
		// even when binding its outputs fails later.
		h.ingestAnswerLogs(res)
	}
	var answer *httpAnswer
	if !res.Failed {
		answer = h.bindOutputs(f, res)
	}
	h.logResult(res)
	return res, answer, nil
}

// roundTrip sends one request to the handler with the host's headers and the function
// timeout, filling res. It returns an error only when the caller's ctx ended or no
// handler could be reached at all.
func (h *Host) roundTrip(ctx context.Context, res *InvocationResult, client *http.Client, newRequest func(base string) (*http.Request, error)) error {
	w, err := h.acquire(ctx)
	if err != nil {
		return err
	}
	req, err := newRequest(w.base)
	if err != nil {
		return fmt.Errorf("hostsim: building request for %s: %w", res.Function, err)
	}
	req.Header.Set("X-Azure-Functions-InvocationId", res.InvocationID)
	req.Header.Set("X-Azure-Functions-HostVersion", h.hostVersion)
	req.Header.Set("User-Agent", "Azure-Functions-Host/"+h.hostVersion)
	req.Header.Set("traceparent", newTraceparent())

	ictx, cancel := ctx, context.CancelFunc(func() {})
	if h.functionTimeout > 0 {
		ictx, cancel = context.WithTimeoutCause(ctx, h.functionTimeout, ErrFunctionTimeout)
	}
	defer cancel()
	start := time.Now()
	resp, err := client.Do(req.WithContext(ictx))
	if err == nil {
		res.Status, res.Header = resp.StatusCode, resp.Header
		res.Body, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
		_ = resp.Body.Close()
	}
	res.Duration = time.Since(start)
	if err == nil {
		return nil
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(context.Cause(ictx), ErrFunctionTimeout):
		res.Failed = true
		res.Err = fmt.Errorf("%w: Timeout value of %s was exceeded by function: Functions.%s",
			ErrFunctionTimeout, formatTimeSpan(h.functionTimeout), res.Function)
		h.restartAfterTimeout(w, res.Function, res.InvocationID)
	default:
		res.Failed = true
		res.Err = fmt.Errorf("hostsim: invoking %s: %w", res.Function, err)
		// A broken connection usually means the process is dying: wait a moment for it
		// so that the failure names the exit and later invocations wait for the restart.
		exit := time.NewTimer(time.Second)
		defer exit.Stop()
		select {
		case <-w.done:
			res.Err = fmt.Errorf("hostsim: invoking %s: handler exited (%s): %w", res.Function, w.describeExit(), err)
		case <-exit.C:
		}
	}
	return nil
}

// parseAnswer applies DefaultHttpWorkerService's rules: EnsureSuccessStatusCode, then
// ReadAsAsync<HttpScriptInvocationResult> (JSON media type, Newtonsoft, keys matched
// case-insensitively).
func (res *InvocationResult) parseAnswer() {
	fail := func(format string, args ...any) {
		res.Failed = true
		res.Err = fmt.Errorf("%w: %s", ErrInvalidResponse, fmt.Sprintf(format, args...))
	}
	if res.Status < 200 || res.Status > 299 {
		fail("handler answered %d %s%s", res.Status, http.StatusText(res.Status), excerpt(res.Body))
		return
	}
	ct := res.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && mt != "text/json") {
		fail("Content-Type %q is not a JSON media type (the host's formatters reject it)%s", ct, excerpt(res.Body))
		return
	}
	trimmed := bytes.TrimSpace(res.Body)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		fail("empty invocation result (the real host would wait until functionTimeout); answer at least {}")
		return
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil {
		fail("answer is not a JSON object: %v%s", err, excerpt(res.Body))
		return
	}
	if raw := fieldFold(top, "Outputs"); !isNull(raw) {
		if err := json.Unmarshal(raw, &res.Outputs); err != nil {
			fail("Outputs is not an object: %v", err)
			return
		}
	}
	if raw := fieldFold(top, "Logs"); !isNull(raw) {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			fail("Logs is not an array: %v", err)
			return
		}
		for _, it := range items {
			switch {
			case isNull(it):
				res.Logs = append(res.Logs, "")
			case it[0] == '"':
				var s string
				_ = json.Unmarshal(it, &s)
				res.Logs = append(res.Logs, s)
			case it[0] == '{' || it[0] == '[':
				fail("Logs holds a non-string value %s", it)
				return
			default:
				res.Logs = append(res.Logs, string(it))
			}
		}
	}
	if raw := fieldFold(top, "ReturnValue"); !isNull(raw) {
		res.ReturnValue = raw
	}
}

// fieldFold looks a key up like Newtonsoft: exact match first, then ignoring case.
func fieldFold(m map[string]json.RawMessage, key string) json.RawMessage {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

func excerpt(body []byte) string {
	const limit = 512
	if len(body) == 0 {
		return ""
	}
	s := string(body)
	if len(s) > limit {
		s = s[:limit]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return ": " + s
}

// bindOutputs does what the host does with a successful result: it builds the HTTP
// response from the http output binding (a malformed one fails the invocation) and
// sends Service Bus output binding values to their queues.
func (h *Host) bindOutputs(f *Function, res *InvocationResult) *httpAnswer {
	value := func(b Binding) (json.RawMessage, bool) {
		if b.Name == "$return" {
			return res.ReturnValue, res.ReturnValue != nil
		}
		v, ok := res.Outputs[b.Name]
		return v, ok
	}
	// HttpScriptInvocationResultExtensions.ToScriptInvocationResult: ReturnValue feeds
	// the "$return" binding; without one it reaches no binding and no log (only
	// Durable Functions' triggers use an implicit $return).
	// https://github.com/Azure/azure-functions-host/blob/89dc438d476542786f2fc4070f553423213a6223/src/WebJobs.Script/Workers/Http/HttpScriptInvocationResultExtensions.cs#L31-L42
	for _, b := range f.Bindings {
		if b.Name == "$return" && strings.EqualFold(b.Direction, "out") {
			res.BoundReturnValue = res.ReturnValue
		}
	}
	var answer *httpAnswer
	if outs := f.output("http"); len(outs) > 0 {
		var (
			a   *httpAnswer
			err error
		)
		if outs[0].Name == "$return" {
			a, err = parseHTTPReturn(res.ReturnValue)
		} else {
			raw, ok := value(outs[0])
			a, err = parseHTTPOutput(raw, ok)
		}
		if err != nil {
			res.Failed = true
			res.Err = fmt.Errorf("%w: %v", ErrInvalidResponse, err)
			return nil
		}
		answer = a
	}
	for _, b := range f.output("serviceBus") {
		raw, ok := value(b)
		if !ok || isNull(raw) {
			continue
		}
		entity := b.String("queueName")
		if entity == "" {
			entity = b.String("topicName")
		}
		if entity == "" {
			continue
		}
		q := h.Queue(entity)
		for _, body := range outputMessages(raw, strings.EqualFold(b.DataType, "binary")) {
			q.Send(body, nil)
		}
	}
	return answer
}

// outputMessages turns an output binding value into message bodies: an array is one
// message per element; a top-level string of a non-binary binding is tried as base64
// first (HttpScriptInvocationResultExtensions.GetBindingValue).
func outputMessages(raw json.RawMessage, binary bool) [][]byte {
	one := func(v json.RawMessage, top bool) []byte {
		if v[0] != '"' {
			var buf bytes.Buffer
			if json.Compact(&buf, v) == nil {
				return buf.Bytes()
			}
			return v
		}
		var s string
		_ = json.Unmarshal(v, &s)
		if top || binary {
			if b, err := base64.StdEncoding.DecodeString(stripSpace(s)); err == nil {
				return b
			}
		}
		return []byte(s)
	}
	raw = bytes.TrimSpace(raw)
	if raw[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err == nil {
			out := make([][]byte, 0, len(items))
			for _, it := range items {
				if !isNull(it) {
					out = append(out, one(bytes.TrimSpace(it), false))
				}
			}
			return out
		}
	}
	return [][]byte{one(raw, true)}
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}

func (h *Host) logResult(res *InvocationResult) {
	for _, line := range res.Logs {
		h.log.Info().Str("function", res.Function).Str("invocationId", res.InvocationID).Msg(line)
	}
	ev := h.log.Debug()
	if res.Failed {
		ev = h.log.Warn().Err(res.Err)
	}
	ev.Str("function", res.Function).Str("invocationId", res.InvocationID).Int("status", res.Status).
		Dur("duration", res.Duration).Bool("failed", res.Failed).Msg("invocation finished")
}
