package record

// SaveAll: the verdicts of one batch in as few writes as the store allows.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// maxBatchVerdicts is the most verdicts one entity group transaction
// carries: each takes up to two of Table Storage's 100 operations (the
// verdict and its change row), and the tenant's summary one more.
const maxBatchVerdicts = 49

// prepareAll checks every verdict of a SaveAll before anything is written.
func prepareAll(vs []Verdict) ([]Verdict, error) {
	out := make([]Verdict, len(vs))
	for i, v := range vs {
		p, err := prepareVerdict(v)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// chunkBytes is what a chunk's verdicts may cost (verdictCost) so that its
// transaction stays within Table Storage's 4 MiB, the summary row included.
const chunkBytes = maxTransactionBytes - 8*transactionOpOverhead

// saveChunks splits the indexes of vs into the chunks a SaveAll writes
// together: one tenant (one partition) each, at most maxBatchVerdicts and
// chunkBytes, and never the same subscription twice (a transaction touches
// a row once; a later verdict of the same subscription goes to a later
// chunk, so verdicts apply in their order). Chunks keep the order of vs
// within a tenant.
func saveChunks(vs []Verdict) [][]int {
	var chunks [][]int
	open := map[string]int{} // tenant → index of its open chunk
	seen := map[int]map[string]bool{}
	cost := map[int]int{}
	for i, v := range vs {
		c, ok := open[v.TenantID]
		n := verdictCost(v)
		if !ok || len(chunks[c]) >= maxBatchVerdicts || seen[c][v.SubscriptionID] || cost[c]+n > chunkBytes {
			c = len(chunks)
			chunks = append(chunks, nil)
			seen[c] = map[string]bool{}
			open[v.TenantID] = c
		}
		chunks[c] = append(chunks[c], i)
		seen[c][v.SubscriptionID] = true
		cost[c] += n
	}
	return chunks
}

// maxFilterRows is how many rows one query of readChunk names: one
// comparison each, besides the PartitionKey's.
const maxFilterRows = MaxFilterComparisons - 1

// SaveAll implements [Store]. Each chunk (one tenant's verdicts, at most 49)
// is read with its tenant's summary, one query per 14 rows, and written in
// one entity group transaction: every verdict upsert conditioned on the ETag
// read (or added, when none was stored) together with its change row and,
// when the counts changed, the tenant's summary (conditioned on its ETag).
// When another writer changed one of the rows meanwhile, the transaction
// fails as a whole and the chunk is read and decided again. After a
// transaction that changed statuses, the changes go to the change index and
// the summary to the directory.
func (t *Table) SaveAll(ctx context.Context, vs []Verdict) ([]*Change, error) {
	vs, err := prepareAll(vs)
	if err != nil {
		return nil, err
	}
	out := make([]*Change, len(vs))
	if len(vs) == 0 {
		return out, nil
	}
	if err := t.ensureTable(ctx); err != nil {
		return nil, err
	}
	for _, chunk := range saveChunks(vs) {
		if err := t.saveChunk(ctx, vs, chunk, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// saveChunk saves vs[i] for i in chunk (one tenant, distinct subscriptions)
// in one transaction, setting out[i].
func (t *Table) saveChunk(ctx context.Context, vs []Verdict, chunk []int, out []*Change) error {
	tenant := vs[chunk[0]].TenantID
	op := fmt.Sprintf("save %d verdict(s) of tenant %s", len(chunk), tenant)
	for attempt := range t.maxAttempts {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return translate(op, err)
			}
		}
		subs := make([]string, len(chunk))
		for j, i := range chunk {
			subs[j] = vs[i].SubscriptionID
		}
		stored, sum, err := t.readChunk(ctx, tenant, subs)
		if err != nil {
			return t.fail(op, err)
		}
		var (
			actions []aztables.TransactionAction
			crows   []changeEntity
			changes = make([]*Change, len(chunk))
			counts  = maps.Clone(sum.s.Counts)
		)
		for j, i := range chunk {
			s := stored[vs[i].SubscriptionID]
			var prev *Verdict
			if s != nil {
				prev = &s.v
			}
			v, ch, apply := decide(prev, vs[i])
			if !apply {
				continue
			}
			row, err := json.Marshal(verdictRow(v))
			if err != nil {
				return translate(op, err)
			}
			a := aztables.TransactionAction{ActionType: aztables.TransactionTypeAdd, Entity: row}
			if s != nil {
				etag := s.etag
				a = aztables.TransactionAction{ActionType: aztables.TransactionTypeUpdateReplace, Entity: row, IfMatch: &etag}
			}
			actions = append(actions, a)
			if ch != nil {
				ce := changeRow(*ch)
				crow, err := json.Marshal(ce)
				if err != nil {
					return translate(op, err)
				}
				actions = append(actions, aztables.TransactionAction{ActionType: aztables.TransactionTypeAdd, Entity: crow})
				crows = append(crows, ce)
				changes[j] = ch
				countChange(counts, ch)
			}
		}
		next := sum.s
		if len(crows) > 0 {
			next = Summary{TenantID: tenant, Counts: counts, Version: sum.s.Version + 1, At: latest(changes)}
			a, err := summaryAction(tenantPrefix+tenant, summaryRow, next, sum.etag)
			if err != nil {
				return err
			}
			actions = append(actions, a)
		}
		if err := checkTransaction(actions); err != nil {
			return err
		}
		if len(actions) > 0 {
			_, err = t.client.SubmitTransaction(ctx, actions, nil)
		}
		switch {
		case err == nil:
			for j, i := range chunk {
				out[i] = changes[j]
			}
			if len(crows) == 0 {
				return nil
			}
			if err := t.indexChanges(ctx, crows); err != nil {
				return t.fail("index the changes of tenant "+tenant, err)
			}
			if err := t.publish(ctx, next); err != nil {
				return t.fail("copy the summary of tenant "+tenant+" to the directory", err)
			}
			return nil
		case isConflict(err):
			continue
		default:
			return t.fail(op, err)
		}
	}
	return contention(op, t.maxAttempts)
}

// latest is the latest At of changes.
func latest(changes []*Change) time.Time {
	var at time.Time
	for _, c := range changes {
		if c != nil && c.At.After(at) {
			at = c.At
		}
	}
	return at
}

// summaryAction adds the summary row s (etag "": none is stored) or
// replaces it If-Match etag.
func summaryAction(pk, rk string, s Summary, etag azcore.ETag) (aztables.TransactionAction, error) {
	e, err := summaryRowOf(pk, rk, kindTenantSummary, s)
	if err != nil {
		return aztables.TransactionAction{}, err
	}
	row, err := json.Marshal(e)
	if err != nil {
		return aztables.TransactionAction{}, fmt.Errorf("summary of %s: %w", s.TenantID, err)
	}
	if etag == "" {
		return aztables.TransactionAction{ActionType: aztables.TransactionTypeAdd, Entity: row}, nil
	}
	return aztables.TransactionAction{ActionType: aztables.TransactionTypeUpdateReplace, Entity: row, IfMatch: &etag}, nil
}

// readVerdict is a stored verdict and its ETag.
type readVerdict struct {
	v    Verdict
	etag azcore.ETag
}

// readSummary is a stored summary and its ETag ("" when none is stored).
type readSummary struct {
	s    Summary
	etag azcore.ETag
}

// chunkRow is a verdict or a summary row of a tenant's partition.
type chunkRow struct {
	verdictEntity
	Counts  string `json:"Counts"`
	Version int32  `json:"Version"`
	At      string `json:"At"`
	ETag    string `json:"odata.etag"`
}

// readChunk reads the stored verdicts of subs in tenant's partition, by
// subscription ID (absent when none is stored), and the tenant's summary,
// with one query per maxFilterRows rows. A partition written before
// summaries were kept has none: its verdicts are counted.
func (t *Table) readChunk(ctx context.Context, tenant string, subs []string) (map[string]*readVerdict, readSummary, error) {
	got := make(map[string]*readVerdict, len(subs))
	sum := readSummary{s: Summary{TenantID: tenant, Counts: newCounts()}}
	found := false
	keys := make([]string, 0, len(subs)+1)
	keys = append(keys, summaryRow)
	for _, s := range subs {
		keys = append(keys, verdictPrefix+s)
	}
	for group := range slices.Chunk(keys, maxFilterRows) {
		or := make([]string, len(group))
		for i, k := range group {
			or[i] = "RowKey eq " + odataQuote(k)
		}
		filter := "PartitionKey eq " + odataQuote(tenantPrefix+tenant) + " and (" + strings.Join(or, " or ") + ")"
		err := listRows(ctx, t.client, filter, 0, 0, func(e chunkRow) error {
			if e.ETag == "" {
				return fmt.Errorf("row %s/%s: no odata.etag in the answer", e.PartitionKey, e.RowKey)
			}
			if e.RowKey == summaryRow {
				s, err := summaryEntity{PartitionKey: e.PartitionKey, RowKey: e.RowKey, TenantID: tenant, Counts: e.Counts,
					Version: e.Version, At: e.At}.summary()
				if err != nil {
					return err
				}
				sum, found = readSummary{s: s, etag: azcore.ETag(e.ETag)}, true
				return nil
			}
			v, err := e.verdict()
			if err != nil {
				return err
			}
			if slices.Contains(subs, v.SubscriptionID) {
				got[v.SubscriptionID] = &readVerdict{v: v, etag: azcore.ETag(e.ETag)}
			}
			return nil
		})
		if err != nil {
			return nil, sum, err
		}
	}
	if !found {
		if err := t.countTenant(ctx, tenant, sum.s.Counts); err != nil {
			return nil, sum, err
		}
	}
	return got, sum, nil
}

// countTenant counts the stored verdicts of tenant by status into counts.
func (t *Table) countTenant(ctx context.Context, tenant string, counts map[pal.Status]int) error {
	filter := "PartitionKey eq " + odataQuote(tenantPrefix+tenant) + " and " + prefixRange("RowKey", verdictPrefix)
	return listRows(ctx, t.client, filter, 0, 0, func(e verdictEntity) error {
		counts[pal.Status(e.Status)]++
		return nil
	})
}
