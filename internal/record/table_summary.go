package record

// The Table store's summaries: each tenant's in its partition (written with
// its verdicts), a copy of each in the directory partition, the estate's
// totals computed from the copies.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// publish copies the tenant summary s to the directory, unless the
// directory already holds that version or a later one (concurrent writers
// of one tenant may publish out of order: an older copy never replaces a
// newer one).
func (t *Table) publish(ctx context.Context, s Summary) error {
	e, err := summaryRowOf(dirPartition, tenantPrefix+s.TenantID, kindTenantSummary, s)
	if err != nil {
		return err
	}
	row, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("directory row of %s: %w", s.TenantID, err)
	}
	for attempt := range t.maxAttempts {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
		}
		var stored *readSummary
		if s.Version > 1 || attempt > 0 { // a first version is most likely new to the directory too
			if stored, err = t.getSummary(ctx, dirPartition, tenantPrefix+s.TenantID); err != nil {
				return err
			}
			if stored != nil && stored.s.Version >= s.Version {
				return nil
			}
		}
		if stored == nil {
			_, err = t.client.AddEntity(ctx, row, nil)
		} else {
			_, err = t.client.UpdateEntity(ctx, row, &aztables.UpdateEntityOptions{IfMatch: &stored.etag, UpdateMode: aztables.UpdateModeReplace})
		}
		if err == nil || !isConflict(err) {
			return err
		}
	}
	return contention("copy the summary of tenant "+s.TenantID, t.maxAttempts)
}

// getSummary reads a summary row; nil when there is none.
func (t *Table) getSummary(ctx context.Context, pk, rk string) (*readSummary, error) {
	resp, err := t.client.GetEntity(ctx, pk, rk, nil)
	if err != nil {
		if isEntityNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	var e summaryEntity
	if err := json.Unmarshal(resp.Value, &e); err != nil {
		return nil, fmt.Errorf("decode summary: %w", err)
	}
	s, err := e.summary()
	if err != nil {
		return nil, err
	}
	return &readSummary{s: s, etag: resp.ETag}, nil
}

// TenantSummaries implements [Store]: one query page of the directory.
func (t *Table) TenantSummaries(ctx context.Context, p Page) (*SummaryPage, error) {
	tok, err := decodeToken(p.Token, summaryFilterID)
	if err != nil {
		return nil, err
	}
	if err := t.ensureTable(ctx); err != nil {
		return nil, err
	}
	filter := "PartitionKey eq " + odataQuote(dirPartition) + " and " + prefixRange("RowKey", tenantPrefix)
	page := &SummaryPage{Summaries: []Summary{}}
	var next *pageToken
	err = queryPage(ctx, t.client, filter, p.size(), tok, func(e summaryEntity) error {
		s, err := e.summary()
		if err == nil {
			page.Summaries = append(page.Summaries, s)
		}
		return err
	}, func(pk, rk string) { next = &pageToken{Filter: summaryFilterID, PK: pk, RK: rk} })
	if err != nil {
		return nil, translate("read the tenant summaries", err)
	}
	if next != nil {
		page.Next = next.encode()
	}
	return page, nil
}

// SummariesOf implements [Store]: the directory rows of tenants, one query
// per 14 tenants.
func (t *Table) SummariesOf(ctx context.Context, tenants []string) ([]Summary, error) {
	f, _, err := normFilter(Filter{TenantIDs: tenants})
	if err != nil {
		return nil, err
	}
	if err := t.ensureTable(ctx); err != nil {
		return nil, err
	}
	var out []Summary
	for group := range slices.Chunk(f.TenantIDs, maxFilterRows) {
		or := make([]string, len(group))
		for i, id := range group {
			or[i] = "RowKey eq " + odataQuote(tenantPrefix+id)
		}
		filter := "PartitionKey eq " + odataQuote(dirPartition) + " and (" + strings.Join(or, " or ") + ")"
		err := listRows(ctx, t.client, filter, 0, 0, func(e summaryEntity) error {
			s, err := e.summary()
			if err == nil {
				out = append(out, s)
			}
			return err
		})
		if err != nil {
			return nil, translate("read the tenant summaries", err)
		}
	}
	slices.SortFunc(out, func(a, b Summary) int { return strings.Compare(a.TenantID, b.TenantID) })
	return out, nil
}

// Estate implements [Store]: the estate row of the directory.
func (t *Table) Estate(ctx context.Context) (*Summary, error) {
	if err := t.ensureTable(ctx); err != nil {
		return nil, err
	}
	s, err := t.getSummary(ctx, dirPartition, estateRow)
	if err != nil {
		return nil, translate("read the estate's totals", err)
	}
	if s == nil {
		return nil, nil
	}
	return &s.s, nil
}

// RefreshEstate implements [Store]: it reads every directory row (one query
// per 1,000 tenants) and upserts the estate row.
func (t *Table) RefreshEstate(ctx context.Context, at time.Time) (*Summary, error) {
	e := Summary{Counts: newCounts(), At: normTime(at)}
	p := Page{Size: MaxPageSize}
	for {
		page, err := t.TenantSummaries(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, s := range page.Summaries {
			addCounts(e.Counts, s.Counts)
			e.Tenants++
		}
		if page.Next == "" {
			break
		}
		p.Token = page.Next
	}
	row, err := summaryRowOf(dirPartition, estateRow, kindEstate, e)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(row)
	if err != nil {
		return nil, translate("write the estate's totals", err)
	}
	if _, err := t.client.UpsertEntity(ctx, b, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeReplace}); err != nil {
		return nil, t.fail("write the estate's totals", err)
	}
	return &e, nil
}

// queryPage makes one query request of at most size rows of filter, from
// tok's keys, decoding each row with decode; more is called with the
// service's next keys when there are more rows.
func queryPage[E any](ctx context.Context, c *aztables.Client, filter string, size int, tok *pageToken,
	decode func(E) error, more func(pk, rk string)) error {
	if err := checkFilter(filter); err != nil {
		return err
	}
	opts := &aztables.ListEntitiesOptions{Filter: &filter, Top: to.Ptr(int32(size))}
	if tok != nil && (tok.PK != "" || tok.RK != "") {
		opts.NextPartitionKey, opts.NextRowKey = to.Ptr(tok.PK), to.Ptr(tok.RK)
	}
	page, err := c.NewListEntitiesPager(opts).NextPage(ctx)
	if err != nil {
		return err
	}
	if err := decodeRows(page.Entities, decode); err != nil {
		return err
	}
	if pk, rk := deref(page.NextPartitionKey), deref(page.NextRowKey); pk != "" || rk != "" {
		more(pk, rk)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
