package web

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
)

// Query parameter names.
const (
	paramTenantID = "tenantId"
	paramStatus   = "status"
	paramFormat   = "format"
	// paramPageSize and paramContinuation page the report.
	paramPageSize     = "pageSize"
	paramContinuation = "continuation"
	// paramView=runs asks the report for the last runs, paramLimit of them.
	paramView  = "view"
	paramLimit = "limit"
	// paramPage pages the dashboard's subscription list; paramTenantPage its
	// tenant table (each a continuation token).
	paramPage       = "page"
	paramTenantPage = "tenantPage"
	// paramCode is the function key; it is never echoed except into the
	// dashboard's own links.
	paramCode = "code"
)

// maxKeyLen bounds the function key carried into links.
const maxKeyLen = 256

// maxTokenLen bounds a continuation token in the query.
const maxTokenLen = 2048

// FieldError is a caller's mistake in the query: Fields names each bad
// parameter with what is wrong with it.
type FieldError struct {
	Message string
	Fields  map[string]string
}

// Error implements error.
func (e *FieldError) Error() string { return e.Message }

// view is a validated query of the report or the dashboard.
type view struct {
	filter record.Filter
	format string
	// pageSize and token page the report (pageSize of CSV rows with format=csv).
	pageSize int
	token    string
	// runs is set by view=runs: how many runs to return.
	runs int
	// page and tenantPage are the dashboard's tokens of its list and its
	// tenant table ("" the first page).
	page       string
	tenantPage string
	// key is the caller's ?code= function key, carried into links.
	key string
}

// parseView validates q. allowed lists the parameters besides tenantId,
// status and code.
func parseView(q url.Values, allowed ...string) (view, error) {
	v := view{}
	fields := map[string]string{}
	for name := range q {
		switch {
		case name == paramTenantID, name == paramStatus, name == paramCode, slices.Contains(allowed, name):
		default:
			fields[short(name)] = "unknown parameter"
		}
	}
	for _, raw := range q[paramTenantID] {
		for _, s := range splitList(raw) {
			if !pal.IsGUID(s) {
				fields[paramTenantID] = fmt.Sprintf("not a tenant ID (a GUID): %q", short(s))
				continue
			}
			s = strings.ToLower(s)
			if !slices.Contains(v.filter.TenantIDs, s) {
				v.filter.TenantIDs = append(v.filter.TenantIDs, s)
			}
		}
	}
	if n := len(v.filter.TenantIDs); n > record.MaxFilterTenants && fields[paramTenantID] == "" {
		fields[paramTenantID] = fmt.Sprintf("names %d tenants; at most %d", n, record.MaxFilterTenants)
	}
	for _, raw := range q[paramStatus] {
		for _, s := range splitList(raw) {
			st := pal.Status(s)
			if !slices.Contains(pal.Statuses, st) {
				fields[paramStatus] = fmt.Sprintf("unknown status %q; one of %s", short(s), statusList())
				continue
			}
			if !slices.Contains(v.filter.Statuses, st) {
				v.filter.Statuses = append(v.filter.Statuses, st)
			}
		}
	}
	if f := q[paramFormat]; len(f) > 0 {
		switch {
		case len(f) > 1:
			fields[paramFormat] = "given more than once"
		case f[0] == "json", f[0] == "":
			v.format = "json"
		case f[0] == "csv":
			v.format = "csv"
		default:
			fields[paramFormat] = fmt.Sprintf("unknown format %q; json or csv", short(f[0]))
		}
	}
	maxSize, defSize := MaxPageSize, DefaultPageSize
	if v.format == "csv" {
		maxSize, defSize = MaxCSVRows, DefaultCSVRows
	}
	v.pageSize = number(q, paramPageSize, defSize, maxSize, fields)
	if s := q[paramView]; len(s) > 0 {
		if len(s) > 1 || s[0] != "runs" {
			fields[paramView] = "runs is the one view"
		} else {
			v.runs = number(q, paramLimit, DefaultRuns, MaxRuns, fields)
		}
	} else if _, ok := q[paramLimit]; ok && slices.Contains(allowed, paramLimit) {
		fields[paramLimit] = "only with view=runs"
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{paramContinuation, &v.token}, {paramPage, &v.page}, {paramTenantPage, &v.tenantPage}} {
		if s := q[p.name]; len(s) > 0 {
			if len(s) > 1 || len(s[0]) > maxTokenLen || strings.Trim(s[0], tokenChars) != "" {
				fields[p.name] = "not a continuation token of this view"
				continue
			}
			*p.dst = s[0]
		}
	}
	if k := q.Get(paramCode); k != "" && len(k) <= maxKeyLen {
		v.key = k
	}
	if len(fields) > 0 {
		return view{}, &FieldError{Message: "the query is not valid: " + describe(fields), Fields: fields}
	}
	return v, nil
}

// tokenChars are the characters of a continuation token (base64url, and
// the dashboard's phase prefix).
const tokenChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_:"

// number reads the whole number parameter name in [1, limit], def when
// absent; a bad value is noted in fields.
func number(q url.Values, name string, def, limit int, fields map[string]string) int {
	s := q[name]
	if len(s) == 0 {
		return def
	}
	n, err := strconv.Atoi(s[0])
	if len(s) > 1 || err != nil || n < 1 || n > limit {
		fields[name] = fmt.Sprintf("not a whole number from 1 to %d", limit)
		return def
	}
	return n
}

// describe lists fields as "name: problem; ...", in name order.
func describe(fields map[string]string) string {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + ": " + fields[n]
	}
	return strings.Join(parts, "; ")
}

// splitList splits a parameter value at commas, keeping non-empty trimmed parts.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// statusList is "attributed, ineligible-role, ...".
func statusList() string {
	s := make([]string, len(pal.Statuses))
	for i, st := range pal.Statuses {
		s[i] = string(st)
	}
	return strings.Join(s, ", ")
}

// short cuts a caller's value for an error message.
func short(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	for i := limit; i > 0; i-- {
		if isRuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
