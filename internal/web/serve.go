package web

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
)

// msgNotConfigured answers when no record is wired.
const msgNotConfigured = "the compliance record is not configured"

// msgUnavailable answers when the record cannot be read (transient).
const msgUnavailable = "the compliance record could not be read; try again"

// retryAfter is the Retry-After of a 503, in seconds.
const retryAfter = "30"

// msgRefused answers when the record refuses the request as built from our
// own data (a bug, not the caller's or the service's state).
const msgRefused = "the compliance record refused the query"

// ServeReport answers GET /api/report for query q: one page of JSON, one
// part of CSV with format=csv (a Link header to the next), or the last runs
// with view=runs. A bad query (a continuation token of another query
// included) is a 400 naming the field; no record (r nil) or a record that
// cannot be read is a 503; a query the record refuses is a 500. The error,
// when not nil, is for the log (it may carry SDK detail) and is never part
// of the answer.
func ServeReport(ctx context.Context, r Reader, q url.Values, now time.Time) (customhandler.HTTPResponse, error) {
	v, err := parseView(q, paramFormat, paramPageSize, paramContinuation, paramView, paramLimit)
	if err != nil {
		var fe *FieldError
		errors.As(err, &fe)
		return jsonError(http.StatusBadRequest, fe.Message, fe.Fields), err
	}
	if r == nil {
		return jsonError(http.StatusServiceUnavailable, msgNotConfigured, nil), errors.New(msgNotConfigured)
	}
	switch {
	case v.runs > 0:
		runs, err := BuildRuns(ctx, r, v.runs, now)
		if err != nil {
			return readFailure(err), err
		}
		return customhandler.JSONResponse(http.StatusOK, runs, nil), nil
	case v.format == "csv":
		return serveCSV(ctx, r, v)
	}
	rep, err := BuildReport(ctx, r, v, MaxChanges, now)
	if err != nil {
		return readFailure(err), err
	}
	return customhandler.JSONResponse(http.StatusOK, rep, nil), nil
}

// recordCode is the code of the record's *pal.Error in err's chain, "" when
// there is none (an unexpected error: the record could not be read).
func recordCode(err error) pal.ErrorCode {
	var pe *pal.Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// readFailure is the answer to a record read that failed: 400 for a
// continuation token the record does not know, 500 for a query it refuses,
// else 503.
func readFailure(err error) customhandler.HTTPResponse {
	switch recordCode(err) {
	case pal.CodeInvalidInput:
		msg := "the query is not valid: " + paramContinuation + ": not a continuation token of this query"
		return jsonError(http.StatusBadRequest, msg, map[string]string{paramContinuation: "not a continuation token of this query"})
	case pal.CodeInternal:
		return jsonError(http.StatusInternalServerError, msgRefused, nil)
	}
	return jsonError(http.StatusServiceUnavailable, msgUnavailable, nil)
}

// serveCSV answers one part of the CSV: up to v.pageSize rows, read a
// record page at a time and written as they come; a Link header (rel="next")
// and X-Continuation name the next part.
func serveCSV(ctx context.Context, r Reader, v view) (customhandler.HTTPResponse, error) {
	var buf bytes.Buffer
	cw, err := newCSVWriter(&buf)
	if err != nil {
		return jsonError(http.StatusInternalServerError, "the CSV could not be written", nil), err
	}
	token, rows := v.token, 0
	for {
		page, err := r.PageVerdicts(ctx, v.filter, record.Page{Size: min(record.MaxPageSize, v.pageSize-rows), Token: token})
		if err != nil {
			return readFailure(err), err
		}
		for _, s := range page.Verdicts {
			if matches(v.filter, s.TenantID, s.Status) {
				if err := cw.write(subscriptionOf(s)); err != nil {
					return jsonError(http.StatusInternalServerError, "the CSV could not be written", nil), err
				}
			}
		}
		rows += len(page.Verdicts)
		token = page.Next
		if token == "" || rows >= v.pageSize {
			break
		}
	}
	if err := cw.flush(); err != nil {
		return jsonError(http.StatusInternalServerError, "the CSV could not be written", nil), err
	}
	headers := map[string]string{
		"Content-Type":           "text/csv; charset=utf-8; header=present",
		"Content-Disposition":    `attachment; filename="pal-keeper-report.csv"`,
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "no-store",
	}
	if token != "" {
		q := filterQuery(v.filter.TenantIDs, v.filter.Statuses)
		q.Set(paramFormat, "csv")
		if v.pageSize != DefaultCSVRows {
			q.Set(paramPageSize, strconv.Itoa(v.pageSize))
		}
		q.Set(paramContinuation, token)
		headers["Link"] = "<" + withKey(reportPath, q, "") + `>; rel="next"`
		headers["X-Continuation"] = token
	}
	return customhandler.HTTPResponse{StatusCode: http.StatusOK, Body: buf.String(), Headers: headers}, nil
}

// jsonError is the {"error", "fields"} answer the links function uses too.
func jsonError(status int, msg string, fields map[string]string) customhandler.HTTPResponse {
	if fields == nil {
		fields = map[string]string{}
	}
	var headers map[string]string
	if status == http.StatusServiceUnavailable {
		headers = map[string]string{"Retry-After": retryAfter}
	}
	return customhandler.JSONResponse(status, struct {
		Error  string            `json:"error"`
		Fields map[string]string `json:"fields"`
	}{msg, fields}, headers)
}

// JSONError answers status with {"error", "fields"}; the role gate of the
// report uses it.
func JSONError(status int, msg string) customhandler.HTTPResponse {
	return jsonError(status, msg, nil)
}

// htmlHeaders are the headers of every HTML answer: a strict
// Content-Security-Policy (no script, no external asset, the page's own style
// only, forms post to this origin only), no MIME sniffing, no Referer (the
// function key may be in the URL), no framing, no caching.
func htmlHeaders() map[string]string {
	return map[string]string{
		"Content-Type": "text/html; charset=utf-8",
		"Content-Security-Policy": "default-src 'none'; style-src '" + styleHash + "'; form-action 'self'; " +
			"base-uri 'none'; frame-ancestors 'none'",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
		"Cache-Control":          "no-store",
	}
}
