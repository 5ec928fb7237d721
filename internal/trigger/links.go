package trigger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/message"
	"github.com/pal-keeper/pal-keeper/internal/outcome"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/rs/zerolog"
)

// maxHTTPBody is the largest request body the links function accepts.
const maxHTTPBody = 64 << 10

// errorBody is the JSON body of every HTTP error answer.
type errorBody struct {
	Error  string            `json:"error"`
	Fields map[string]string `json:"fields"`
}

// acceptedBody answers an asynchronous request.
type acceptedBody struct {
	Status        string `json:"status"`
	MessageID     string `json:"messageId"`
	CorrelationID string `json:"correlationId"`
	// StatusURL is the read-only GET that reports the outcome.
	StatusURL string `json:"statusUrl"`
}

// Links handles the HTTP trigger: POST onboards one customer (JSON or an HTML
// form) and answers with the result; POST ?async=true enqueues the request
// instead (202); GET reports the same evaluation without writing anything.
func Links(engine Engine, options *Options) (customhandler.HandlerFunc, error) {
	opts, err := options.checked()
	if err != nil {
		return nil, err
	}
	rec := opts.recorder(LinksFunction)
	return func(ctx context.Context, inv *customhandler.Invocation) customhandler.Result {
		log := inv.Log
		raw, ok := inv.Data[httpBinding]
		if !ok {
			return answerError(&log, http.StatusBadRequest, "the invocation carries no HTTP request", nil, nil)
		}
		hr, err := customhandler.ParseHTTPRequest(raw)
		if err != nil {
			log.Error().Err(err).Msg("unreadable HTTP request object")
			return answerError(&log, http.StatusBadRequest, "the HTTP request could not be read", nil, nil)
		}
		method := strings.ToUpper(hr.Method)
		log = log.With().Str("method", method).Logger()
		if method != http.MethodGet && method != http.MethodPost {
			return answerError(&log, http.StatusMethodNotAllowed, "use GET to read the status or POST to onboard", nil,
				map[string]string{"Allow": "GET, POST"})
		}
		if status, why := authorize(hr.Header, opts.HTTPRole); status != 0 {
			return answerError(&log, status, why, nil, nil)
		}
		if len(hr.Body) > maxHTTPBody {
			return tooLarge(&log)
		}

		if method == http.MethodPost && len(hr.Body) == 0 && lengthUnknown(hr.Header) {
			return answerError(&log, http.StatusLengthRequired, msgLengthRequired,
				map[string]string{"Content-Length": "required: send the body with a Content-Length header, not chunked"}, nil)
		}

		var req pal.Request
		if method == http.MethodGet {
			req, err = message.DecodeQuery(withoutKey(hr.Query, "async"))
		} else {
			req, err = decodePost(hr)
		}
		if err != nil {
			return answerOutcome(&log, outcome.Decide(ctx, nil, err))
		}
		async := method == http.MethodPost && isTrue(hr.Query.Get("async"))
		if async && req.CorrelationID == "" {
			req.CorrelationID = inv.ID
		}
		// The record's lines (the drift line) carry each subscription's own
		// tenant_id, so their logger has the request's context but its tenant.
		recLog := log.With().Str("correlation_id", req.CorrelationID).Str("requested_by", req.RequestedBy).Logger()
		log = log.With().Str("tenant_id", req.TenantID).Str("correlation_id", req.CorrelationID).
			Str("requested_by", req.RequestedBy).Logger()
		if async {
			return opts.enqueue(ctx, &log, engine, req)
		}

		workCtx, cancel := workContext(ctx, opts.InvocationTimeout)
		defer cancel()
		var res *pal.Result
		if method == http.MethodPost {
			res, err = engine.Onboard(workCtx, &log, req)
		} else {
			res, err = engine.Status(workCtx, &log, req)
		}
		if err == nil && method == http.MethodPost {
			err = rec.Save(workCtx, &recLog, res)
		} else if err == nil {
			err = rec.saveRead(workCtx, &recLog, res)
		}
		out := outcome.Decide(workCtx, res, err)
		logResult(&log, res, out)
		if out.Kind != outcome.KindDone {
			return answerOutcome(&log, out)
		}
		return respond(res, customhandler.JSONResponse(http.StatusOK, res, nil))
	}, nil
}

// msgLengthRequired explains a 411: the Functions host copies a request body
// into the invocation only when Content-Length is greater than 0, so a
// chunked POST arrives without its body.
const msgLengthRequired = "the request body arrived empty and the request has no Content-Length: " +
	"send the body with a Content-Length header (the Functions host drops a chunked body)"

// lengthUnknown reports whether a request's headers give no body length: no
// Content-Length, or Transfer-Encoding chunked.
func lengthUnknown(h http.Header) bool {
	return strings.TrimSpace(h.Get("Content-Length")) == "" ||
		strings.Contains(strings.ToLower(strings.Join(h.Values("Transfer-Encoding"), ",")), "chunked")
}

// enqueue puts a portal request on the onboarding queue and answers 202 with
// the read-only GET that reports its outcome.
// The caller has set req.CorrelationID (the invocation ID when the request
// named none) and put it in log's context.
func (o Options) enqueue(ctx context.Context, log *zerolog.Logger, engine Engine, req pal.Request) customhandler.Result {
	if o.Queue == nil {
		return answerError(log, http.StatusBadRequest,
			"async=true needs Service Bus: set ServiceBusConnection__fullyQualifiedNamespace, or drop async to be answered synchronously",
			map[string]string{"async": "Service Bus is not configured"}, nil)
	}
	if req.PartnerID != "" && !engine.Allowed(req.PartnerID) {
		return answerOutcome(log, outcome.Decide(ctx, nil, pal.PartnerNotAllowed(req.PartnerID)))
	}
	// The message ID is a hash of the request without its correlation ID, so a
	// form submitted twice within the duplicate-detection window runs once.
	idReq := req
	idReq.CorrelationID = ""
	idBytes, _ := json.Marshal(idReq)
	sum := sha256.Sum256(idBytes)
	messageID := "portal-" + hex.EncodeToString(sum[:16])
	body, err := json.Marshal(req)
	if err != nil {
		return answerOutcome(log, outcome.Decide(ctx, nil, err))
	}
	err = o.Queue.SendMessage(ctx, QueueMessage{Body: body, MessageID: messageID, CorrelationID: req.CorrelationID, ContentType: "application/json"})
	if err != nil {
		log.Error().Str("error", err.Error()).Msg("could not enqueue the request")
		return answerOutcome(log, outcome.Decide(ctx, nil, &pal.Error{Code: pal.CodeTransient, Message: "the request could not be queued; try again", Err: err}))
	}
	status := statusURL(req)
	log.Info().Str("message_id", messageID).Msg("request queued")
	return respond(nil, customhandler.JSONResponse(http.StatusAccepted,
		acceptedBody{Status: "queued", MessageID: messageID, CorrelationID: req.CorrelationID, StatusURL: status},
		map[string]string{"Location": status}))
}

// statusURL is the read-only query for a request.
func statusURL(req pal.Request) string {
	q := url.Values{"tenantId": {req.TenantID}}
	if len(req.SubscriptionIDs) > 0 {
		q["subscriptionId"] = req.SubscriptionIDs
	}
	if req.PartnerID != "" {
		q.Set("partnerId", req.PartnerID)
	}
	return "/api/links?" + q.Encode()
}

// decodePost reads a JSON or form-encoded onboarding request.
func decodePost(hr *customhandler.HTTPRequest) (pal.Request, error) {
	ct := hr.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	if len(strings.TrimSpace(string(hr.Body))) == 0 {
		return pal.Request{}, &pal.Error{Code: pal.CodeInvalidInput, Message: "the request body is empty",
			Fields: map[string]string{"body": "required: the onboarding message as JSON, or a form"}}
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		values, err := url.ParseQuery(string(hr.Body))
		if err != nil {
			return pal.Request{}, &pal.Error{Code: pal.CodeInvalidInput, Message: "the form body is not URL-encoded",
				Fields: map[string]string{"body": "not application/x-www-form-urlencoded"}}
		}
		return message.DecodeForm(values)
	case "", "application/json", "text/json", "application/cloudevents+json":
		return message.Decode(hr.Body)
	default:
		return pal.Request{}, &pal.Error{Code: pal.CodeInvalidInput,
			Message: "unsupported Content-Type " + mt + "; send application/json or application/x-www-form-urlencoded",
			Fields:  map[string]string{"Content-Type": "want application/json or application/x-www-form-urlencoded"}}
	}
}

// withoutKey returns values without key.
func withoutKey(values url.Values, key string) url.Values {
	if _, ok := values[key]; !ok {
		return values
	}
	out := url.Values{}
	for k, v := range values {
		if k != key {
			out[k] = v
		}
	}
	return out
}

func isTrue(s string) bool {
	switch strings.ToLower(s) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// answerOutcome answers an outcome that is not done with its status: 4xx
// for the caller's mistakes, 503 with Retry-After for transient trouble,
// 499 when the caller cancelled, 5xx for ours or Azure's. The body is
// {"error", "fields"}: an answer that is not 200 never carries a result, so
// a partial one cannot be mistaken for the verdict (the log has it).
func answerOutcome(log *zerolog.Logger, out outcome.Outcome) customhandler.Result {
	headers := map[string]string{}
	if out.Kind == outcome.KindRetry {
		headers["Retry-After"] = out.RetryAfterHeader()
	}
	return answerError(log, out.Status, out.Reason, out.Fields, headers)
}

// answerError answers status with {"error", "fields"} and logs it.
func answerError(log *zerolog.Logger, status int, msg string, fields map[string]string, headers map[string]string) customhandler.Result {
	if fields == nil {
		fields = map[string]string{}
	}
	ev := log.Warn()
	if status >= 500 && status != http.StatusServiceUnavailable {
		ev = log.Error()
	}
	ev.Int("status", status).Interface("fields", fields).Str("reason", msg).Msg("links request failed")
	return respond(nil, customhandler.JSONResponse(status, errorBody{Error: msg, Fields: fields}, headers))
}

// respond wraps an HTTP answer as the invocation result.
func respond(res *pal.Result, out customhandler.HTTPResponse) customhandler.Result {
	r := customhandler.Result{Outputs: map[string]any{httpOutput: out}}
	if res != nil {
		r.ReturnValue = res
	}
	return r
}
