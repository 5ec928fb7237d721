package record

// Paging: the tokens of PageVerdicts and TenantSummaries, the filter's
// bounds, the same rules for every store.

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// pageToken is what a continuation token carries: the filter it belongs to,
// and where the next page starts (a store's own meaning: the Table store's
// query group and the service's next keys, the memory store's last keys).
type pageToken struct {
	Filter string `json:"f"`
	Group  int    `json:"g,omitempty"`
	PK     string `json:"p,omitempty"`
	RK     string `json:"r,omitempty"`
}

// maxTokenLen bounds a token a caller hands back.
const maxTokenLen = 2048

// encode returns the token as opaque URL-safe text.
func (t pageToken) encode() string {
	b, _ := json.Marshal(t) // strings and an int: never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeToken reads the token of the filter identified by fid; "" is the
// first page (nil).
func decodeToken(s, fid string) (*pageToken, error) {
	if s == "" {
		return nil, nil
	}
	bad := invalid("continuation", "is not a continuation token of this query")
	if len(s) > maxTokenLen {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	var t pageToken
	if err := json.Unmarshal(b, &t); err != nil || t.Filter != fid || t.Group < 0 {
		return nil, bad
	}
	return &t, nil
}

// verdictPage checks a request for the page p of the verdicts of f: f
// normalised, its identity and p's token of it (nil: the first page).
func verdictPage(f Filter, p Page) (Filter, string, *pageToken, error) {
	f, fid, err := normFilter(f)
	if err != nil {
		return f, "", nil, err
	}
	tok, err := decodeToken(p.Token, fid)
	return f, fid, tok, err
}

// pageSize is p's size within [1, MaxPageSize].
func (p Page) size() int {
	if p.Size < 1 || p.Size > MaxPageSize {
		return MaxPageSize
	}
	return p.Size
}

// normFilter checks f (at most MaxFilterTenants tenants) and returns it with
// its tenants and statuses sorted and deduplicated, and its identity for
// tokens.
func normFilter(f Filter) (Filter, string, error) {
	tenants := slices.Clone(f.TenantIDs)
	slices.Sort(tenants)
	tenants = slices.Compact(tenants)
	if len(tenants) > MaxFilterTenants {
		return f, "", invalid("tenantId", fmt.Sprintf("names %d tenants; at most %d", len(tenants), MaxFilterTenants))
	}
	statuses := slices.Clone(f.Statuses)
	slices.Sort(statuses)
	statuses = slices.Compact(statuses)
	parts := make([]string, 0, len(tenants)+len(statuses)+1)
	parts = append(parts, tenants...)
	parts = append(parts, "|")
	for _, s := range statuses {
		parts = append(parts, string(s))
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, ",")))
	return Filter{TenantIDs: tenants, Statuses: statuses}, "v" + hex.EncodeToString(sum[:6]), nil
}

// summaryFilterID identifies the tokens of TenantSummaries.
const summaryFilterID = "dir"

// newCounts returns counts with every status at zero.
func newCounts() map[pal.Status]int { return pal.NewSummary() }
