package record

// Retention: changes and runs older than a bound are removed, a bounded
// number per call, found through the change index and the run index.

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"golang.org/x/sync/errgroup"
)

// olderThan is the RowKey filter of rows under prefix whose inverted time
// is older than before (inverted times sort newest first, so older rows
// have larger keys).
func olderThan(prefix string, before time.Time) string {
	return "RowKey gt " + odataQuote(prefix+inverted(before)+"_~") + " and RowKey lt " + odataQuote(prefix+"a")
}

// Prune implements [Store]: for each index partition (indexMonths back),
// the index rows of changes older than before: the change row in its
// tenant's partition is deleted, then the index row; then the run index
// rows older than before with their run rows, two per transaction. Change
// rows written before the index was kept are not found, and stay.
func (t *Table) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, nil
	}
	if err := t.ensureTable(ctx); err != nil {
		return 0, err
	}
	removed := 0
	now := time.Now().UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	for i := indexMonths; i >= 0 && removed < limit; i-- {
		part := indexPartition(month.AddDate(0, -i, 0))
		filter := "PartitionKey eq " + odataQuote(part) + " and " + olderThan("", before)
		rows, err := firstRows[indexEntity](ctx, t.client, filter, limit-removed)
		if err != nil {
			return removed, translate("prune the changes", err)
		}
		if err := t.pruneChanges(ctx, rows); err != nil {
			return removed, err
		}
		removed += len(rows)
	}
	if removed >= limit {
		return removed, nil
	}
	filter := "PartitionKey eq " + odataQuote(runPartition) + " and " + olderThan(startPrefix, before)
	runs, err := firstRows[runEntity](ctx, t.client, filter, limit-removed)
	if err != nil {
		return removed, translate("prune the runs", err)
	}
	for _, e := range runs {
		if err := t.deleteRow(ctx, runPartition, runPrefix+e.RunID); err != nil {
			return removed, t.fail("prune the run "+e.RunID, err)
		}
		if err := t.deleteRow(ctx, runPartition, e.RowKey); err != nil {
			return removed, t.fail("prune the run "+e.RunID, err)
		}
		removed++
	}
	return removed, nil
}

// firstRows reads the first n rows of filter (n < 1: all of them).
func firstRows[E any](ctx context.Context, c *aztables.Client, filter string, n int) ([]E, error) {
	var rows []E
	err := listRows(ctx, c, filter, rowsTop(n), n, func(e E) error {
		if n < 1 || len(rows) < n {
			rows = append(rows, e)
		}
		return nil
	})
	return rows, err
}

// pruneDeletes bounds the deletes Prune makes at once.
const pruneDeletes = 8

// pruneChanges deletes the change rows the index rows name (pruneDeletes at
// once), then the index rows, 100 per transaction (they share a partition).
func (t *Table) pruneChanges(ctx context.Context, rows []indexEntity) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(pruneDeletes)
	for _, e := range rows {
		g.Go(func() error {
			if err := t.deleteRow(gctx, tenantPrefix+e.TenantID, e.ChangeKey); err != nil {
				return t.fail("prune a change of tenant "+e.TenantID, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for batch := range slices.Chunk(rows, maxTransactionOps) {
		actions := make([]aztables.TransactionAction, len(batch))
		for i, e := range batch {
			key, _ := json.Marshal(map[string]string{"PartitionKey": e.PartitionKey, "RowKey": e.RowKey})
			actions[i] = aztables.TransactionAction{ActionType: aztables.TransactionTypeDelete, Entity: key}
		}
		if _, err := t.client.SubmitTransaction(ctx, actions, nil); err == nil {
			continue
		}
		for _, e := range batch { // one of them gone already (another pruner): one by one
			if err := t.deleteRow(ctx, e.PartitionKey, e.RowKey); err != nil {
				return t.fail("prune an index row", err)
			}
		}
	}
	return nil
}

// deleteRow deletes one row; a row already gone is fine.
func (t *Table) deleteRow(ctx context.Context, pk, rk string) error {
	_, err := t.client.DeleteEntity(ctx, pk, rk, &aztables.DeleteEntityOptions{IfMatch: nil})
	if err != nil && isEntityNotFound(err) {
		return nil
	}
	return err
}
