package azure

import "strings"

// lastSegment returns the last non-empty segment of an ARM resource path, so
// "/providers/Microsoft.Authorization/roleDefinitions/ABC" gives "ABC" and a
// bare "ABC" gives itself.
func lastSegment(p string) string {
	p = strings.TrimRight(p, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// deref returns *p, or the zero value for nil.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
