package record

// Retention: changes and runs older than a bound are removed, a bounded
// number per call, found through the change index and the run index.

import (
	"context"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
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
		var rows []indexEntity
		filter := "PartitionKey eq " + odataQuote(part) + " and " + olderThan("", before)
		err := listRows(ctx, t.client, filter, int32(min(limit-removed, MaxPageSize)), limit-removed, func(e indexEntity) error {
			if len(rows) < limit-removed {
				rows = append(rows, e)
			}
			return nil
		})
		if err != nil {
			return removed, translate("prune the changes", err)
		}
		for _, e := range rows {
			if err := t.deleteRow(ctx, tenantPrefix+e.TenantID, e.ChangeKey); err != nil {
				return removed, t.fail("prune a change of tenant "+e.TenantID, err)
			}
			if err := t.deleteRow(ctx, e.PartitionKey, e.RowKey); err != nil {
				return removed, t.fail("prune an index row", err)
			}
			removed++
		}
	}
	if removed >= limit {
		return removed, nil
	}
	var runs []runEntity
	filter := "PartitionKey eq " + odataQuote(runPartition) + " and " + olderThan(startPrefix, before)
	err := listRows(ctx, t.client, filter, int32(min(limit-removed, MaxPageSize)), limit-removed, func(e runEntity) error {
		if len(runs) < limit-removed {
			runs = append(runs, e)
		}
		return nil
	})
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

// deleteRow deletes one row; a row already gone is fine.
func (t *Table) deleteRow(ctx context.Context, pk, rk string) error {
	_, err := t.client.DeleteEntity(ctx, pk, rk, &aztables.DeleteEntityOptions{IfMatch: nil})
	if err != nil && isEntityNotFound(err) {
		return nil
	}
	return err
}
