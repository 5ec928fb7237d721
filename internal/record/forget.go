package record

import (
	"context"
	"encoding/json"
	"slices"

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
	if err := list(ctx, t.client, filter, 0, func(e rowKeys) error { rows = append(rows, e); return nil }); err != nil {
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
	return out, nil
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
