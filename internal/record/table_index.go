package record

// The change index: every change also in a partition of the month it was
// written, newest first across tenants, so that the latest changes cost a
// query or two whatever the estate's size and history.

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// indexMonths is how many months back Changes and Prune look for index
// partitions.
const indexMonths = 36

// indexChanges adds the index rows of the change rows crows, just written,
// in one transaction per 100 (they share the partition of this month).
func (t *Table) indexChanges(ctx context.Context, crows []changeEntity) error {
	now := time.Now()
	var actions []aztables.TransactionAction
	for _, c := range crows {
		row, err := json.Marshal(indexRow(c, now))
		if err != nil {
			return fmt.Errorf("index row: %w", err)
		}
		actions = append(actions, aztables.TransactionAction{ActionType: aztables.TransactionTypeInsertReplace, Entity: row})
	}
	for batch := range slices.Chunk(actions, maxTransactionOps) {
		if err := checkTransaction(batch); err != nil {
			return err
		}
		if _, err := t.client.SubmitTransaction(ctx, batch, nil); err != nil {
			return err
		}
	}
	return nil
}

// keyedChange is a change with the RowKey that orders it.
type keyedChange struct {
	c  Change
	rk string
}

// newestFirst orders changes newest first, then by RowKey.
func newestFirst(a, b keyedChange) int {
	return cmp.Or(b.c.At.Compare(a.c.At), strings.Compare(a.rk, b.rk))
}

// keyedChanges collects the changes that Changes and TenantChanges read.
type keyedChanges []keyedChange

// add decodes the change row e and keeps it with its RowKey.
func (all *keyedChanges) add(e changeEntity) error {
	c, err := e.change()
	if err == nil {
		*all = append(*all, keyedChange{c, e.RowKey})
	}
	return err
}

// newest returns the first limit changes (limit < 1: all of them), newest
// first.
func (all keyedChanges) newest(limit int) []Change {
	slices.SortFunc(all, newestFirst)
	if limit > 0 && len(all) > limit {
		all = all[:limit]
	}
	out := make([]Change, len(all))
	for i, k := range all {
		out[i] = k.c
	}
	return out
}

// Changes implements [Store]: the index partitions of this month and the
// one before (a change checked before a month's turn may be written after
// it), then earlier months until limit changes are found, up to indexMonths
// back.
func (t *Table) Changes(ctx context.Context, limit int) ([]Change, error) {
	if err := t.ensureTable(ctx); err != nil {
		return nil, err
	}
	var all keyedChanges
	now := time.Now().UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i <= indexMonths; i++ {
		m := month.AddDate(0, -i, 0)
		filter := "PartitionKey eq " + odataQuote(indexPartition(m))
		err := listRows(ctx, t.client, filter, rowsTop(limit), limit, func(e indexEntity) error { return all.add(e.changeEntity) })
		if err != nil {
			return nil, translate("list changes", err)
		}
		if limit > 0 && len(all) >= limit && i >= 1 {
			break
		}
	}
	return all.newest(limit), nil
}

// TenantChanges implements [Store]: the change rows of the tenant's
// partition, newest first by their RowKeys.
func (t *Table) TenantChanges(ctx context.Context, tenant string, limit int) ([]Change, error) {
	if err := checkKey("tenantId", tenant); err != nil {
		return nil, err
	}
	if err := t.ensureTable(ctx); err != nil {
		return nil, err
	}
	var all keyedChanges
	filter := "PartitionKey eq " + odataQuote(tenantPrefix+tenant) + " and " + prefixRange("RowKey", changePrefix)
	err := listRows(ctx, t.client, filter, rowsTop(limit), limit, all.add)
	if err != nil {
		return nil, translate("list the changes of tenant "+tenant, err)
	}
	return all.newest(limit), nil
}
