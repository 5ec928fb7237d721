package record

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// Forgotten is what Forget removed.
type Forgotten struct {
	// Verdicts and Changes count the rows removed.
	Verdicts int
	Changes  int
}

// checkForget checks Forget's arguments: a tenant, and a subscription or "".
func checkForget(tenantID, subscriptionID string) error {
	if err := checkKey("tenantId", tenantID); err != nil {
		return err
	}
	if subscriptionID != "" {
		return checkKey("subscriptionId", subscriptionID)
	}
	return nil
}

// Forget removes what the record holds of tenantID — of its subscription
// subscriptionID only, when that is not "" —: the verdicts and their
// changes of status. Runs stay (they name no subscription). Forgetting what
// is not there is no error. For an offboarded customer: `handler record
// forget`.
func (m *Memory) Forget(ctx context.Context, tenantID, subscriptionID string) (Forgotten, error) {
	if err := ctx.Err(); err != nil {
		return Forgotten{}, err
	}
	if err := checkForget(tenantID, subscriptionID); err != nil {
		return Forgotten{}, err
	}
	match := func(tenant, sub string) bool {
		return tenant == tenantID && (subscriptionID == "" || sub == subscriptionID)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out Forgotten
	for k := range m.verdicts {
		if match(k.tenant, k.sub) {
			delete(m.verdicts, k)
			out.Verdicts++
		}
	}
	n := len(m.changes)
	m.changes = slices.DeleteFunc(m.changes, func(c Change) bool { return match(c.TenantID, c.SubscriptionID) })
	out.Changes = n - len(m.changes)
	// The tenant's summary counts what is left.
	if s, ok := m.summaries[tenantID]; ok && out.Verdicts > 0 {
		counts := newCounts()
		left := 0
		for k, v := range m.verdicts {
			if k.tenant == tenantID {
				counts[v.Status]++
				left++
			}
		}
		if left == 0 {
			delete(m.summaries, tenantID)
		} else {
			s.Counts, s.Version = counts, s.Version+1
			m.summaries[tenantID] = s
		}
	}
	return out, nil
}

// maxForgetOps is how many deletes one Forget transaction holds (Table
// Storage allows 100 operations).
const maxForgetOps = 100

// rowKeys is the part of a row Forget reads.
type rowKeys struct {
	PartitionKey string `json:"PartitionKey"`
	RowKey       string `json:"RowKey"`
	Kind         string `json:"Kind"`
}

// Forget implements the same operation as [Memory.Forget]: it reads the
// rows of the tenant's partition (those of the subscription only, when one
// is named) and deletes them in transactions of up to 100; a transaction
// that fails (a row deleted meanwhile) is done again one row at a time, a
// row already gone counting as deleted. On an error some rows may be gone;
// forgetting again is harmless.
func (t *Table) Forget(ctx context.Context, tenantID, subscriptionID string) (Forgotten, error) {
	if err := checkForget(tenantID, subscriptionID); err != nil {
		return Forgotten{}, err
	}
	if err := t.ensureTable(ctx); err != nil {
		return Forgotten{}, err
	}
	filter := "PartitionKey eq " + odataQuote(tenantPrefix+tenantID)
	if subscriptionID != "" {
		filter += " and SubscriptionId eq " + odataQuote(subscriptionID)
	}
	var rows []rowKeys
	if err := listRows(ctx, t.client, filter, 0, 0, func(e rowKeys) error { rows = append(rows, e); return nil }); err != nil {
		return Forgotten{}, t.fail("forget: list rows", err)
	}
	var out Forgotten
	for chunk := range slices.Chunk(rows, maxForgetOps) {
		if err := t.deleteRows(ctx, chunk); err != nil {
			return out, err
		}
		for _, r := range chunk {
			switch r.Kind {
			case kindVerdict:
				out.Verdicts++
			case kindChange:
				out.Changes++
			}
		}
	}
	if err := t.forgetDerived(ctx, tenantID, subscriptionID, out.Verdicts > 0); err != nil {
		return out, err
	}
	return out, nil
}

// forgetDerived removes what the summaries and the change index keep of
// what Forget removed: the index rows of the tenant's (or subscription's)
// changes, in every index partition Changes reads; the tenant's directory
// row when the whole tenant went (its summary row was in its partition), or
// else its summary recounted from the verdicts left and copied to the
// directory.
func (t *Table) forgetDerived(ctx context.Context, tenantID, subscriptionID string, verdictsGone bool) error {
	now := time.Now().UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i <= indexMonths; i++ {
		filter := "PartitionKey eq " + odataQuote(indexPartition(month.AddDate(0, -i, 0))) + " and TenantId eq " + odataQuote(tenantID)
		if subscriptionID != "" {
			filter += " and SubscriptionId eq " + odataQuote(subscriptionID)
		}
		var rows []rowKeys
		if err := listRows(ctx, t.client, filter, 0, 0, func(e rowKeys) error { rows = append(rows, e); return nil }); err != nil {
			return t.fail("forget: list index rows", err)
		}
		for chunk := range slices.Chunk(rows, maxForgetOps) {
			if err := t.deleteRows(ctx, chunk); err != nil {
				return err
			}
		}
	}
	if subscriptionID == "" {
		if err := t.deleteRow(ctx, dirPartition, tenantPrefix+tenantID); err != nil {
			return t.fail("forget: delete the directory row", err)
		}
		return nil
	}
	if !verdictsGone {
		return nil
	}
	for attempt := range t.maxAttempts {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return translate("forget: recount the summary", err)
			}
		}
		sum, err := t.getSummary(ctx, tenantPrefix+tenantID, summaryRow)
		if err != nil || sum == nil {
			return t.fail("forget: read the summary", err)
		}
		next := Summary{TenantID: tenantID, Counts: newCounts(), Version: sum.s.Version + 1, At: sum.s.At}
		if err := t.countTenant(ctx, tenantID, next.Counts); err != nil {
			return t.fail("forget: recount the summary", err)
		}
		a, err := summaryAction(tenantPrefix+tenantID, summaryRow, next, sum.etag)
		if err != nil {
			return err
		}
		_, err = t.client.SubmitTransaction(ctx, []aztables.TransactionAction{a}, nil)
		switch {
		case err == nil:
			return t.publish(ctx, next)
		case isConflict(err):
			continue
		default:
			return t.fail("forget: write the summary", err)
		}
	}
	return contention("forget: recount the summary", t.maxAttempts)
}

// deleteRows deletes rows of one partition: one transaction, or one by one
// when it fails.
func (t *Table) deleteRows(ctx context.Context, rows []rowKeys) error {
	actions := make([]aztables.TransactionAction, len(rows))
	for i, r := range rows {
		e, _ := json.Marshal(rowKeys{PartitionKey: r.PartitionKey, RowKey: r.RowKey}) // strings always encode
		actions[i] = aztables.TransactionAction{ActionType: aztables.TransactionTypeDelete, Entity: e}
	}
	if _, err := t.client.SubmitTransaction(ctx, actions, nil); err == nil {
		return nil
	}
	for _, r := range rows {
		if _, err := t.client.DeleteEntity(ctx, r.PartitionKey, r.RowKey, nil); err != nil && !isEntityNotFound(err) {
			return t.fail("forget: delete "+r.RowKey, err)
		}
	}
	return nil
}
