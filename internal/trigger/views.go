package trigger

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/web"
)

// The read-only views of the compliance record: folders under functions/.
const (
	ReportFunction    = "report"
	DashboardFunction = "dashboard"
)

// ViewOptions holds the optional settings of [Report] and [Dashboard].
type ViewOptions struct {
	// HTTPRole, when set, is the App Service Authentication role a caller
	// must hold (X-MS-CLIENT-PRINCIPAL), as [Options.HTTPRole].
	HTTPRole string
	// Directory names the dashboard's tenants and says which identity acts
	// and how it is linked; nil shows IDs only.
	Directory web.Directory
	// now returns the current time (nil: time.Now); the package's tests set it.
	now func() time.Time
}

// Report handles GET /api/report: the compliance record as JSON, or CSV with
// format=csv. It reads the record only. A nil record answers 503 "the
// compliance record is not configured".
func Report(record web.Reader, options *ViewOptions) customhandler.HandlerFunc {
	return view(record, options, false)
}

// Dashboard handles GET /api/dashboard: the compliance record as an HTML page
// rendered on the server, with the onboarding form. A nil record answers 503.
func Dashboard(record web.Reader, options *ViewOptions) customhandler.HandlerFunc {
	return view(record, options, true)
}

// view is the shared handler of the report and the dashboard: GET only,
// the PAL_HTTP_ROLE gate, then the page.
func view(record web.Reader, options *ViewOptions, html bool) customhandler.HandlerFunc {
	var opts ViewOptions
	if options != nil {
		opts = *options
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	name := "report"
	if html {
		name = "dashboard"
	}
	return func(ctx context.Context, inv *customhandler.Invocation) customhandler.Result {
		log := inv.Log
		fail := func(status int, msg string, headers map[string]string, key string) customhandler.Result {
			log.Warn().Int("status", status).Str("reason", msg).Msg(name + " request failed")
			out := web.JSONError(status, msg)
			if html {
				out = web.ErrorPage(status, msg, nil, key)
			}
			for k, v := range headers {
				out.Headers[k] = v
			}
			return respond(nil, out)
		}
		raw, ok := inv.Data[httpBinding]
		if !ok {
			return fail(http.StatusBadRequest, "the invocation carries no HTTP request", nil, "")
		}
		hr, err := customhandler.ParseHTTPRequest(raw)
		if err != nil {
			log.Error().Err(err).Msg("unreadable HTTP request object")
			return fail(http.StatusBadRequest, "the HTTP request could not be read", nil, "")
		}
		key := hr.Query.Get("code")
		if method := strings.ToUpper(hr.Method); method != http.MethodGet {
			return fail(http.StatusMethodNotAllowed, "use GET", map[string]string{"Allow": "GET"}, key)
		}
		if status, why := authorize(hr.Header, opts.HTTPRole); status != 0 {
			return fail(status, why, nil, key)
		}
		query := hr.Query
		if query == nil {
			query = url.Values{}
		}
		var out customhandler.HTTPResponse
		if html {
			out, err = web.ServeDashboard(ctx, record, opts.Directory, query, opts.now())
		} else {
			out, err = web.ServeReport(ctx, record, query, opts.now())
		}
		if err != nil {
			ev := log.Warn()
			if out.StatusCode >= 500 {
				ev = log.Error()
			}
			// err may carry a storage SDK's detail: logged, never answered.
			ev.Int("status", out.StatusCode).Str("error", err.Error()).Msg(name + " request failed")
		} else {
			log.Info().Int("status", out.StatusCode).Msg(name + " request answered")
		}
		return respond(nil, out)
	}
}

// LinksForBrowsers wraps the links function so that a request preferring
// text/html (a browser's default Accept, or the dashboard's onboarding form)
// is answered with an HTML page carrying the same verdicts or errors. Every
// other request (no Accept, */*, application/json) gets next's answer unchanged.
func LinksForBrowsers(next customhandler.HandlerFunc) customhandler.HandlerFunc {
	return func(ctx context.Context, inv *customhandler.Invocation) customhandler.Result {
		out := next(ctx, inv)
		raw, ok := inv.Data[httpBinding]
		if !ok {
			return out
		}
		hr, err := customhandler.ParseHTTPRequest(raw)
		if err != nil || !web.PrefersHTML(hr.Header.Get("Accept")) {
			return out
		}
		answer, ok := out.Outputs[httpOutput].(customhandler.HTTPResponse)
		if !ok {
			return out
		}
		res, _ := out.ReturnValue.(*pal.Result)
		outputs := make(map[string]any, len(out.Outputs))
		for k, v := range out.Outputs {
			outputs[k] = v
		}
		outputs[httpOutput] = web.LinksHTML(answer, res, hr.Query.Get("code"), hr.Method)
		out.Outputs = outputs
		return out
	}
}
