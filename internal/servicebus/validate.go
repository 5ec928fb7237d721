package servicebus

import (
	"errors"
	"fmt"
	"strings"
)

// Service Bus limits on names, from the service's documented rules.
const (
	maxHostNameLen  = 253
	maxLabelLen     = 63
	maxQueueNameLen = 260
)

// CheckNamespace reports whether ns is a fully qualified namespace host name
// such as contoso.servicebus.windows.net: no scheme, port, path or connection
// string. A value that may hold a secret is not repeated in the error.
func CheckNamespace(ns string) error {
	const want = "want a host name such as contoso.servicebus.windows.net"
	switch {
	case ns == "":
		return errors.New("namespace is empty; " + want)
	case strings.ContainsAny(ns, "=;"):
		return errors.New("namespace looks like a connection string (value not shown); " + want + ": pal-keeper authenticates with a token credential")
	case strings.Contains(ns, "://"):
		return fmt.Errorf("namespace %s has a scheme; %s, without scheme, port or path", shown(ns), want)
	}
	if len(ns) > maxHostNameLen {
		return fmt.Errorf("namespace is %d characters long; want at most %d", len(ns), maxHostNameLen)
	}
	labels := strings.Split(ns, ".")
	if len(labels) < 2 {
		return fmt.Errorf("namespace %s is not fully qualified; %s", shown(ns), want)
	}
	for _, l := range labels {
		if !isHostLabel(l) {
			return fmt.Errorf("namespace %s is not a host name; %s, without scheme, port or path", shown(ns), want)
		}
	}
	return nil
}

// isHostLabel reports whether l is one DNS label: 1 to 63 letters, digits and
// hyphens, neither starting nor ending with a hyphen.
func isHostLabel(l string) bool {
	if l == "" || len(l) > maxLabelLen || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		if !isAlnum(l[i]) && l[i] != '-' {
			return false
		}
	}
	return true
}

// CheckQueue reports whether q is a valid Service Bus queue name: 1 to 260
// letters, digits, periods, hyphens, underscores and slashes, starting and
// ending with a letter or digit.
func CheckQueue(q string) error {
	if q == "" {
		return errors.New("queue name is empty")
	}
	if len(q) > maxQueueNameLen {
		return fmt.Errorf("queue name is %d characters long; want at most %d", len(q), maxQueueNameLen)
	}
	if !isAlnum(q[0]) || !isAlnum(q[len(q)-1]) {
		return fmt.Errorf("queue name %s must start and end with a letter or digit", shown(q))
	}
	for i := 0; i < len(q); i++ {
		if c := q[i]; !isAlnum(c) && !strings.ContainsRune(".-_/", rune(c)) {
			return fmt.Errorf("queue name %s has %q; want letters, digits, '.', '-', '_' and '/'", shown(q), c)
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// shown quotes v for an error message when it is made only of characters a
// host name, URL without user info, or queue name uses; anything else (user
// info, query strings, keys) is replaced by "(value not shown)".
func shown(v string) string {
	for i := 0; i < len(v); i++ {
		if c := v[i]; !isAlnum(c) && !strings.ContainsRune(".-_/:", rune(c)) {
			return "(value not shown)"
		}
	}
	return fmt.Sprintf("%q", v)
}
