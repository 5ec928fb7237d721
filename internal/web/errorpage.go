package web

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
)

type fieldProblem struct{ Name, Problem string }

type errorData struct {
	Title, Message string
	Fields         []fieldProblem
	RetryAfter     string
	DashboardHref  string
}

// ErrorPage is an HTML answer for a failed request: the message, each field
// with its problem, and a link back to the dashboard carrying key (the
// caller's ?code=; "" for none). A 503 carries Retry-After.
func ErrorPage(status int, msg string, fields map[string]string, key string) customhandler.HTTPResponse {
	return errorPage(status, msg, fields, key, retryAfter)
}

func errorPage(status int, msg string, fields map[string]string, key, retry string) customhandler.HTTPResponse {
	d := errorData{Title: http.StatusText(status), Message: msg, DashboardHref: withKey(dashboardPath, url.Values{}, validKey(key))}
	if d.Title == "" {
		d.Title = "Error"
	}
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		d.Fields = append(d.Fields, fieldProblem{Name: n, Problem: fields[n]})
	}
	headers := htmlHeaders()
	if status == http.StatusServiceUnavailable {
		if retry == "" {
			retry = retryAfter
		}
		d.RetryAfter = retry
		headers["Retry-After"] = retry
	}
	var buf bytes.Buffer
	if err := errorPageBody(&d).Render(context.Background(), &buf); err != nil {
		return customhandler.HTTPResponse{StatusCode: status, Headers: headers, Body: "<!doctype html><title>Error</title><p>" +
			http.StatusText(status)}
	}
	return customhandler.HTTPResponse{StatusCode: status, Headers: headers, Body: buf.String()}
}

// validKey returns key when it may be carried into links, else "".
func validKey(key string) string {
	if len(key) > maxKeyLen {
		return ""
	}
	return key
}
