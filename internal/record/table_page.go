package record

import (
	"context"
	"strings"
)

// maxPageRequests bounds the query requests of one page of verdicts: a
// filter of many sparse tenants may fill a page slowly, and then the page is
// returned shorter, with a token to go on.
const maxPageRequests = 4

// verdictQueries returns the filters that together read the verdicts of f
// (normalised), in tenant order, each within Table Storage's 15
// comparisons: the RowKey range (2) and the statuses (one each) leave the
// rest to the tenants' PartitionKeys.
func verdictQueries(f Filter) []string {
	tail := " and " + prefixRange("RowKey", verdictPrefix)
	if len(f.Statuses) > 0 {
		or := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			or[i] = "Status eq " + odataQuote(string(s))
		}
		tail += " and (" + strings.Join(or, " or ") + ")"
	}
	if len(f.TenantIDs) == 0 {
		return []string{prefixRange("PartitionKey", tenantPrefix) + tail}
	}
	per := max(1, MaxFilterComparisons-2-len(f.Statuses))
	var out []string
	for i := 0; i < len(f.TenantIDs); i += per {
		group := f.TenantIDs[i:min(i+per, len(f.TenantIDs))]
		or := make([]string, len(group))
		for j, id := range group {
			or[j] = "PartitionKey eq " + odataQuote(tenantPrefix+id)
		}
		out = append(out, "("+strings.Join(or, " or ")+")"+tail)
	}
	return out
}

// PageVerdicts implements [Store]: the queries of verdictQueries one after
// the other, at most maxPageRequests requests per page; the token holds the
// query's index and the service's next keys.
func (t *Table) PageVerdicts(ctx context.Context, f Filter, p Page) (*VerdictPage, error) {
	f, fid, tok, err := verdictPage(f, p)
	if err != nil {
		return nil, err
	}
	queries := verdictQueries(f)
	cur := pageToken{Filter: fid}
	if tok != nil {
		cur = *tok
	}
	if cur.Group >= len(queries) {
		return nil, invalid("continuation", "is not a continuation token of this query")
	}
	if err := t.ensureTable(ctx); err != nil {
		return nil, err
	}
	want := p.size()
	page := &VerdictPage{Verdicts: []Verdict{}}
	for req := 0; cur.Group < len(queries) && len(page.Verdicts) < want && req < maxPageRequests; req++ {
		var next *pageToken
		err := queryPage(ctx, t.client, queries[cur.Group], want-len(page.Verdicts), &cur, func(e verdictEntity) error {
			v, err := e.verdict()
			if err == nil && f.matches(v) {
				page.Verdicts = append(page.Verdicts, v)
			}
			return err
		}, func(pk, rk string) { next = &pageToken{Filter: fid, Group: cur.Group, PK: pk, RK: rk} })
		if err != nil {
			return nil, t.fail("list verdicts", err)
		}
		if next != nil {
			cur = *next
		} else {
			cur = pageToken{Filter: fid, Group: cur.Group + 1}
		}
	}
	if cur.Group < len(queries) {
		page.Next = cur.encode()
	}
	return page, nil
}
