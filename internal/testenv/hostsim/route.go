package hostsim

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// routeSegment is one "/"-separated part of an ASP.NET Core route template: a literal,
// or a parameter "{name}", "{name?}", "{name=default}", "{name:constraint}", "{*name}".
type routeSegment struct {
	literal     string
	param       string
	optional    bool
	def         *string
	catchAll    bool
	constraints []routeConstraint
}

type routeConstraint func(string) bool

type routeTemplate []routeSegment

// parseRoute parses a route template; complex segments such as "{a}.{b}" are not supported.
func parseRoute(tmpl string) (routeTemplate, error) {
	tmpl = strings.Trim(tmpl, "/")
	if tmpl == "" {
		return nil, nil
	}
	var t routeTemplate
	for i, raw := range strings.Split(tmpl, "/") {
		if raw == "" {
			return nil, fmt.Errorf("empty segment")
		}
		if !strings.ContainsAny(raw, "{}") {
			t = append(t, routeSegment{literal: raw})
			continue
		}
		if !strings.HasPrefix(raw, "{") || !strings.HasSuffix(raw, "}") || strings.Count(raw, "{") != 1 {
			return nil, fmt.Errorf("segment %q: only whole-segment parameters are supported", raw)
		}
		seg, err := parseParam(raw[1 : len(raw)-1])
		if err != nil {
			return nil, fmt.Errorf("segment %q: %w", raw, err)
		}
		if seg.catchAll && i != strings.Count(tmpl, "/") {
			return nil, fmt.Errorf("catch-all parameter %q must be the last segment", seg.param)
		}
		t = append(t, seg)
	}
	for i, seg := range t {
		if (seg.optional || seg.def != nil) && i+1 < len(t) {
			if next := t[i+1]; !next.optional && next.def == nil && !next.catchAll {
				return nil, fmt.Errorf("optional parameter %q must be followed only by optional parameters", seg.param)
			}
		}
	}
	return t, nil
}

func parseParam(s string) (routeSegment, error) {
	var seg routeSegment
	if strings.HasPrefix(s, "*") {
		seg.catchAll = true
		s = strings.TrimLeft(s, "*")
	}
	if name, def, ok := strings.Cut(s, "="); ok {
		s = name
		seg.def = &def
	}
	if strings.HasSuffix(s, "?") {
		seg.optional = true
		s = strings.TrimSuffix(s, "?")
	}
	parts := strings.Split(s, ":")
	seg.param = parts[0]
	if seg.param == "" {
		return seg, fmt.Errorf("parameter without a name")
	}
	for _, c := range parts[1:] {
		fn, err := parseConstraint(c)
		if err != nil {
			return seg, err
		}
		seg.constraints = append(seg.constraints, fn)
	}
	return seg, nil
}

var constraintCall = regexp.MustCompile(`^([a-z]+)(?:\((.*)\))?$`)

func parseConstraint(c string) (routeConstraint, error) {
	m := constraintCall.FindStringSubmatch(strings.ToLower(c))
	if m == nil {
		return nil, fmt.Errorf("constraint %q is not supported", c)
	}
	arg := m[2]
	num := func(i int) (float64, error) {
		args := strings.Split(arg, ",")
		if i >= len(args) {
			return 0, fmt.Errorf("constraint %q needs %d arguments", c, i+1)
		}
		return strconv.ParseFloat(strings.TrimSpace(args[i]), 64)
	}
	isFloat := func(v string) bool { _, err := strconv.ParseFloat(v, 64); return err == nil }
	switch m[1] {
	case "int":
		return func(v string) bool { _, err := strconv.ParseInt(v, 10, 32); return err == nil }, nil
	case "long":
		return func(v string) bool { _, err := strconv.ParseInt(v, 10, 64); return err == nil }, nil
	case "bool":
		return func(v string) bool { return strings.EqualFold(v, "true") || strings.EqualFold(v, "false") }, nil
	case "double", "float", "decimal":
		return isFloat, nil
	case "guid":
		re := regexp.MustCompile(`^\{?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\}?$`)
		return re.MatchString, nil
	case "alpha":
		return func(v string) bool {
			return v != "" && strings.IndexFunc(v, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsLetter(r) }) < 0
		}, nil
	case "datetime":
		return func(v string) bool {
			if _, ok := parseNetDate(v); ok {
				return true
			}
			_, err := time.Parse(time.DateOnly, v)
			return err == nil
		}, nil
	case "min", "max", "range":
		lo, hi := -1e308, 1e308
		var err error
		switch m[1] {
		case "min":
			lo, err = num(0)
		case "max":
			hi, err = num(0)
		default:
			if lo, err = num(0); err == nil {
				hi, err = num(1)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("constraint %q: %w", c, err)
		}
		return func(v string) bool {
			n, err := strconv.ParseInt(v, 10, 64)
			return err == nil && float64(n) >= lo && float64(n) <= hi
		}, nil
	case "length", "minlength", "maxlength":
		lo, err := num(0)
		if err != nil {
			return nil, fmt.Errorf("constraint %q: %w", c, err)
		}
		hi := lo
		switch {
		case m[1] == "minlength":
			hi = 1e308
		case m[1] == "maxlength":
			lo, hi = 0, lo
		case strings.Contains(arg, ","):
			if hi, err = num(1); err != nil {
				return nil, fmt.Errorf("constraint %q: %w", c, err)
			}
		}
		return func(v string) bool {
			n := float64(len([]rune(v)))
			return n >= lo && n <= hi
		}, nil
	case "regex":
		re, err := regexp.Compile("(?i)" + arg)
		if err != nil {
			return nil, fmt.Errorf("constraint %q: %w", c, err)
		}
		return re.MatchString, nil
	}
	return nil, fmt.Errorf("constraint %q is not supported", c)
}

// match matches URL path segments (already unescaped) against the template and returns
// the route parameters.
func (t routeTemplate) match(segs []string) (map[string]string, bool) {
	params := map[string]string{}
	for i, seg := range t {
		if seg.catchAll {
			if rest := strings.Join(segs[min(i, len(segs)):], "/"); rest != "" {
				params[seg.param] = rest
			} else if seg.def != nil {
				params[seg.param] = *seg.def
			}
			return params, true
		}
		if i >= len(segs) {
			switch {
			case seg.def != nil:
				params[seg.param] = *seg.def
			case seg.optional:
			default:
				return nil, false
			}
			continue
		}
		v := segs[i]
		if seg.param == "" {
			if !strings.EqualFold(seg.literal, v) {
				return nil, false
			}
			continue
		}
		for _, ok := range seg.constraints {
			if !ok(v) {
				return nil, false
			}
		}
		params[seg.param] = v
	}
	if len(segs) > len(t) {
		return nil, false
	}
	return params, true
}

// precedence ranks templates like ASP.NET Core's inbound route precedence: per segment,
// literals before constrained parameters before parameters before catch-alls.
func (t routeTemplate) precedence() []int {
	p := make([]int, len(t))
	for i, seg := range t {
		switch {
		case seg.param == "":
			p[i] = 1
		case seg.catchAll:
			p[i] = 5
		case len(seg.constraints) > 0:
			p[i] = 3
		default:
			p[i] = 4
		}
	}
	return p
}

func lessPrecedence(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) > len(b)
}

// splitPath splits an escaped URL path into unescaped segments; a trailing slash is
// ignored. ok is false for a path that cannot be unescaped or has empty segments.
func splitPath(escaped string) ([]string, bool) {
	p := strings.TrimSuffix(strings.TrimPrefix(escaped, "/"), "/")
	if p == "" {
		return nil, true
	}
	raw := strings.Split(p, "/")
	segs := make([]string, len(raw))
	for i, r := range raw {
		if r == "" {
			return nil, false
		}
		s, err := url.PathUnescape(r)
		if err != nil {
			return nil, false
		}
		segs[i] = s
	}
	return segs, true
}
