package web

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
)

// msgNotConfigured answers when no record is wired.
const msgNotConfigured = "the compliance record is not configured"

// msgUnavailable answers when the record cannot be read (transient).
const msgUnavailable = "the compliance record could not be read; try again"

// retryAfter is the Retry-After of a 503, in seconds.
const retryAfter = "30"

// ServeReport answers GET /api/report for query q: JSON, or CSV with
// format=csv. A bad query is a 400 naming the field; no record (r nil) or a
// record that cannot be read is a 503. The error, when not nil, is for the
// log (it may carry SDK detail) and is never part of the answer.
func ServeReport(ctx context.Context, r Reader, q url.Values, now time.Time) (customhandler.HTTPResponse, error) {
	v, err := parseView(q, paramFormat)
	if err != nil {
		var fe *FieldError
		errors.As(err, &fe)
		return jsonError(http.StatusBadRequest, fe.Message, fe.Fields), err
	}
	if r == nil {
		return jsonError(http.StatusServiceUnavailable, msgNotConfigured, nil), errors.New(msgNotConfigured)
	}
	rep, err := BuildReport(ctx, r, v.filter, MaxChanges, now)
	if err != nil {
		return jsonError(http.StatusServiceUnavailable, msgUnavailable, nil), err
	}
	if v.format != "csv" {
		return customhandler.JSONResponse(http.StatusOK, rep, nil), nil
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rep); err != nil {
		return jsonError(http.StatusInternalServerError, "the CSV could not be written", nil), err
	}
	return customhandler.HTTPResponse{StatusCode: http.StatusOK, Body: buf.String(), Headers: map[string]string{
		"Content-Type":           "text/csv; charset=utf-8; header=present",
		"Content-Disposition":    `attachment; filename="pal-keeper-report.csv"`,
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "no-store",
	}}, nil
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
