package record

// SaveAll: the verdicts of one batch in as few writes as the store allows.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// maxBatchVerdicts is the most verdicts one entity group transaction carries:
// each takes up to two of Table Storage's 100 operations (the verdict and its
// change row).
const maxBatchVerdicts = 50

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

// saveChunks splits the indexes of vs into the chunks a SaveAll writes
// together: one tenant (one partition) each, at most maxBatchVerdicts, and
// never the same subscription twice (a transaction touches a row once; a
// later verdict of the same subscription goes to a later chunk, so verdicts
// apply in their order). Chunks keep the order of vs within a tenant.
func saveChunks(vs []Verdict) [][]int {
	var chunks [][]int
	open := map[string]int{} // tenant → index of its open chunk
	seen := map[int]map[string]bool{}
	for i, v := range vs {
		c, ok := open[v.TenantID]
		if !ok || len(chunks[c]) >= maxBatchVerdicts || seen[c][v.SubscriptionID] {
			c = len(chunks)
			chunks = append(chunks, nil)
			seen[c] = map[string]bool{}
			open[v.TenantID] = c
		}
		chunks[c] = append(chunks[c], i)
		seen[c][v.SubscriptionID] = true
	}
	return chunks
}

// maxFilterRows is how many rows one query of readVerdicts names: Table
// Storage allows at most 15 comparisons in a $filter, one of them the
// PartitionKey's.
const maxFilterRows = 14

// storedVerdict is a verdict row read by a query, with its ETag.
type storedVerdict struct {
	verdictEntity
	ETag string `json:"odata.etag"`
}

// SaveAll implements [Store]. Each chunk (one tenant's verdicts, at most 50)
// is read with one query per 14 rows and written in one entity group
// transaction: every verdict upsert conditioned on the ETag read (or added,
// when none was stored) together with its change row. When another writer
// changed one of the rows meanwhile, the transaction fails as a whole and the
// chunk is read and decided again.
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
		stored, err := t.readVerdicts(ctx, tenant, subs)
		if err != nil {
			return t.fail(op, err)
		}
		var (
			actions []aztables.TransactionAction
			changes = make([]*Change, len(chunk))
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
				crow, err := json.Marshal(changeRow(*ch))
				if err != nil {
					return translate(op, err)
				}
				actions = append(actions, aztables.TransactionAction{ActionType: aztables.TransactionTypeAdd, Entity: crow})
				changes[j] = ch
			}
		}
		if len(actions) > 0 {
			_, err = t.client.SubmitTransaction(ctx, actions, nil)
		}
		switch {
		case err == nil:
			for j, i := range chunk {
				out[i] = changes[j]
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

// readVerdict is a stored verdict and its ETag.
type readVerdict struct {
	v    Verdict
	etag azcore.ETag
}

// readVerdicts reads the stored verdicts of subs in tenant's partition, by
// subscription ID (absent when none is stored), with one query per
// maxFilterRows subscriptions.
func (t *Table) readVerdicts(ctx context.Context, tenant string, subs []string) (map[string]*readVerdict, error) {
	got := make(map[string]*readVerdict, len(subs))
	if len(subs) == 1 {
		v, etag, err := t.getVerdict(ctx, tenant, subs[0])
		if err != nil || v == nil {
			return got, err
		}
		got[subs[0]] = &readVerdict{v: *v, etag: etag}
		return got, nil
	}
	for group := range slices.Chunk(subs, maxFilterRows) {
		or := make([]string, len(group))
		for i, s := range group {
			or[i] = "RowKey eq " + odataQuote(verdictPrefix+s)
		}
		filter := "PartitionKey eq " + odataQuote(tenantPrefix+tenant) + " and (" + strings.Join(or, " or ") + ")"
		err := list(ctx, t.client, filter, 0, func(e storedVerdict) error {
			v, err := e.verdict()
			if err != nil {
				return err
			}
			if e.ETag == "" {
				return fmt.Errorf("verdict %s/%s: no odata.etag in the answer", e.PartitionKey, e.RowKey)
			}
			if slices.Contains(group, v.SubscriptionID) {
				got[v.SubscriptionID] = &readVerdict{v: v, etag: azcore.ETag(e.ETag)}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return got, nil
}
