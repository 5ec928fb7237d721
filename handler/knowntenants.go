package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/pal-keeper/pal-keeper/internal/record"
)

// verdictLister is what recordTenants needs of the compliance record.
type verdictLister interface {
	Verdicts(ctx context.Context, f record.Filter) ([]record.Verdict, error)
}

// recordTenants returns the distinct tenant IDs (lower case, sorted) of the
// verdicts in the compliance record: the customer tenants a direct-mode sweep
// covers besides PAL_DIRECT_TENANTS. A nil record knows none.
func recordTenants(ctx context.Context, rec verdictLister) ([]string, error) {
	if rec == nil {
		return nil, nil
	}
	vs, err := rec.Verdicts(ctx, record.Filter{})
	if err != nil {
		return nil, fmt.Errorf("read the verdicts: %w", err)
	}
	seen := map[string]bool{}
	var out []string
	for _, v := range vs {
		t := strings.ToLower(v.TenantID)
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out, nil
}
