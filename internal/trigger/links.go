package trigger

import (
	"context"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/message"
	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// errorBody is the JSON body of every HTTP error answer.
type errorBody struct {
	Error  string            `json:"error"`
	Fields map[string]string `json:"fields"`
}

// Links handles the HTTP trigger: POST onboards one customer (JSON or an
// HTML form), GET reports the same evaluation without writing anything.
func Links(engine Engine) customhandler.HandlerFunc {
	return func(ctx context.Context, inv *customhandler.Invocation) customhandler.Result {
		log := inv.Log
		raw, ok := inv.Data[httpBinding]
		if !ok {
			return respond(nil, customhandler.JSONResponse(http.StatusBadRequest,
				errorBody{Error: "the invocation carries no HTTP request", Fields: map[string]string{}}, nil))
		}
		hr, err := customhandler.ParseHTTPRequest(raw)
		if err != nil {
			log.Error().Err(err).Msg("unreadable HTTP request object")
			return respond(nil, customhandler.JSONResponse(http.StatusBadRequest,
				errorBody{Error: "the HTTP request could not be read", Fields: map[string]string{}}, nil))
		}
		log = log.With().Str("method", hr.Method).Logger()

		var req pal.Request
		write := false
		switch strings.ToUpper(hr.Method) {
		case http.MethodGet:
			req, err = message.DecodeQuery(hr.Query)
		case http.MethodPost:
			write = true
			req, err = decodePost(hr)
		default:
			return respond(nil, customhandler.JSONResponse(http.StatusMethodNotAllowed,
				errorBody{Error: "use GET to read the status or POST to onboard", Fields: map[string]string{}},
				map[string]string{"Allow": "GET, POST"}))
		}
		var res *pal.Result
		if err == nil {
			log = log.With().Str("tenant_id", req.TenantID).Logger()
			if write {
				res, err = engine.Onboard(ctx, &log, req)
			} else {
				res, err = engine.Status(ctx, &log, req)
			}
		}
		if err == nil {
			if transient, _ := res.Transient(); transient {
				logResult(&log, res)
				err = resultError(res)
			}
		}
		if err != nil {
			status := httpStatusOf(err)
			headers := map[string]string{}
			if status == http.StatusServiceUnavailable {
				headers["Retry-After"] = retryAfterSeconds(pal.RetryAfterOf(err))
			}
			ev := log.Warn()
			if status >= 500 && status != http.StatusServiceUnavailable {
				ev = log.Error()
			}
			ev.Int("status", status).Str("error_code", string(pal.ErrorCodeOf(err))).
				Interface("fields", fieldsOf(err)).Str("reason", publicMessage(err)).Msg("links request failed")
			return respond(nil, customhandler.JSONResponse(status, errorBody{Error: publicMessage(err), Fields: fieldsOf(err)}, headers))
		}
		logResult(&log, res)
		log.Info().Interface("summary", res.Summary).Str("link_action", string(res.Link.Action)).Msg("links request answered")
		return respond(res, customhandler.JSONResponse(http.StatusOK, res, nil))
	}
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

// respond wraps an HTTP answer as the invocation result.
func respond(res *pal.Result, out customhandler.HTTPResponse) customhandler.Result {
	r := customhandler.Result{Outputs: map[string]any{httpOutput: out}}
	if res != nil {
		r.ReturnValue = res
	}
	return r
}
