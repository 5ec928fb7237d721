package record

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// DefaultTable is the name of the record's table when [TableOptions.Table] is empty.
const DefaultTable = "palrecord"

// defaultMaxAttempts bounds the optimistic-concurrency attempts of one Save
// or UpdateRun.
const defaultMaxAttempts = 20

// TableOptions are the optional settings of [NewTable].
type TableOptions struct {
	// Table is the table's name; empty means [DefaultTable].
	Table string
	// Client are the aztables client options (transport, retries, cloud).
	Client *aztables.ClientOptions
	// MaxAttempts bounds the attempts of a Save or UpdateRun that loses
	// races with other writers; zero means 20.
	MaxAttempts int
}

// Table is a [Store] in Azure Table Storage, authenticated with a token
// credential (the function's managed identity). It is safe for concurrent use,
// also by several processes on one table.
type Table struct {
	client      *aztables.Client
	service     *aztables.ServiceClient
	name        string
	maxAttempts int

	mu      sync.Mutex
	created bool // the table is known to exist
}

var _ Store = (*Table)(nil)

// NewTable returns a record in the table service at serviceURL
// (https://<account>.table.core.windows.net). The table is created on first
// use when it does not exist. NewTable makes no request.
func NewTable(serviceURL string, cred azcore.TokenCredential, opts *TableOptions) (*Table, error) {
	if opts == nil {
		opts = &TableOptions{}
	}
	if err := CheckTableURL(serviceURL); err != nil {
		return nil, err
	}
	name := cmp.Or(opts.Table, DefaultTable)
	if !validTableName(name) {
		return nil, fmt.Errorf("record: table name %q: want 3 to 63 letters and digits, starting with a letter", name)
	}
	svc, err := aztables.NewServiceClient(strings.TrimSuffix(serviceURL, "/"), markedCredential{cred}, opts.Client)
	if err != nil {
		return nil, fmt.Errorf("record: table service client: %w", err)
	}
	return &Table{client: svc.NewClient(name), service: svc, name: name, maxAttempts: cmp.Or(opts.MaxAttempts, defaultMaxAttempts)}, nil
}

// validTableName reports whether name is a valid Table Storage table name.
func validTableName(name string) bool {
	if len(name) < 3 || len(name) > 63 || !('a' <= name[0] && name[0] <= 'z' || 'A' <= name[0] && name[0] <= 'Z') {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return !strings.EqualFold(name, "tables")
}

// ensureTable creates the table once per Table (TableAlreadyExists is fine).
// A failure is retried on the next call.
func (t *Table) ensureTable(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.created {
		return nil
	}
	if _, err := t.service.CreateTable(ctx, t.name, nil); err != nil && !hasCode(err, aztables.TableAlreadyExists) {
		return translate("create table "+t.name, err)
	}
	t.created = true
	return nil
}

// hasCode reports whether err is a Table Storage answer with the given code.
func hasCode(err error, code aztables.TableErrorCode) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.ErrorCode == string(code)
}

// isConflict reports whether err says another writer won: 412 (the ETag
// changed), 409 (the row was added meanwhile), also inside a failed batch.
func isConflict(err error) bool {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return false
	}
	switch re.StatusCode {
	case 409, 412:
		return true
	case 202: // a failed entity group transaction: the status is in the body
		return batchFailedWith(re, 409, 412)
	}
	return false
}

// randomSuffix returns 8 random hex digits.
func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// backoff waits a short random time before attempt n+1 of a lost race.
func backoff(ctx context.Context, n int) error {
	limit := int64(min(5<<n, 200)) * int64(time.Millisecond)
	d, _ := rand.Int(rand.Reader, big.NewInt(limit))
	timer := time.NewTimer(time.Duration(d.Int64()))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// contention is the error of an operation that lost every race.
func contention(op string, attempts int) error {
	return &pal.Error{Code: pal.CodeTransient, Message: fmt.Sprintf("record: %s: other writers changed the row %d times in a row; try again", op, attempts)}
}

// getVerdict reads a stored verdict and its ETag; nil when there is none.
func (t *Table) getVerdict(ctx context.Context, tenant, sub string) (*Verdict, azcore.ETag, error) {
	resp, err := t.client.GetEntity(ctx, tenantPrefix+tenant, verdictPrefix+sub, nil)
	if err != nil {
		var re *azcore.ResponseError
		if errors.As(err, &re) && re.StatusCode == 404 {
			return nil, "", nil
		}
		return nil, "", err
	}
	var e verdictEntity
	if err := json.Unmarshal(resp.Value, &e); err != nil {
		return nil, "", fmt.Errorf("decode verdict: %w", err)
	}
	v, err := e.verdict()
	if err != nil {
		return nil, "", err
	}
	return &v, resp.ETag, nil
}

// Save implements [Store]. The verdict row and its change row live in the
// tenant's partition and are written in one entity group transaction,
// conditioned on the verdict's ETag (or on its absence): of concurrent Saves
// that change a status exactly one appends the change; the others read again.
func (t *Table) Save(ctx context.Context, v Verdict) (*Change, error) {
	v, err := prepareVerdict(v)
	if err != nil {
		return nil, err
	}
	op := "save verdict of subscription " + v.SubscriptionID
	if err := t.ensureTable(ctx); err != nil {
		return nil, err
	}
	for attempt := range t.maxAttempts {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return nil, translate(op, err)
			}
		}
		stored, etag, err := t.getVerdict(ctx, v.TenantID, v.SubscriptionID)
		if err != nil {
			return nil, translate(op, err)
		}
		out, ch, apply := decide(stored, v)
		if !apply {
			return nil, nil
		}
		row, err := json.Marshal(verdictRow(out))
		if err != nil {
			return nil, translate(op, err)
		}
		switch {
		case ch == nil:
			_, err = t.client.UpdateEntity(ctx, row, &aztables.UpdateEntityOptions{IfMatch: &etag, UpdateMode: aztables.UpdateModeReplace})
		default:
			crow, merr := json.Marshal(changeRow(*ch))
			if merr != nil {
				return nil, translate(op, merr)
			}
			first := aztables.TransactionAction{ActionType: aztables.TransactionTypeAdd, Entity: row}
			if stored != nil {
				first = aztables.TransactionAction{ActionType: aztables.TransactionTypeUpdateReplace, Entity: row, IfMatch: &etag}
			}
			_, err = t.client.SubmitTransaction(ctx, []aztables.TransactionAction{first, {ActionType: aztables.TransactionTypeAdd, Entity: crow}}, nil)
		}
		switch {
		case err == nil:
			return ch, nil
		case isConflict(err):
			continue
		default:
			return nil, translate(op, err)
		}
	}
	return nil, contention(op, t.maxAttempts)
}

// list reads every row that passes filter, decoding each with decode.
func list[E any](ctx context.Context, c *aztables.Client, filter string, top int32, decode func(E) error) error {
	opts := &aztables.ListEntitiesOptions{Filter: &filter}
	if top > 0 {
		opts.Top = to.Ptr(top)
	}
	for pager := c.NewListEntitiesPager(opts); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, raw := range page.Entities {
			var e E
			if err := json.Unmarshal(raw, &e); err != nil {
				return fmt.Errorf("decode row: %w", err)
			}
			if err := decode(e); err != nil {
				return err
			}
		}
		if top > 0 && len(page.Entities) > 0 {
			return nil // one page of at most top rows is all that was asked
		}
	}
	return nil
}

// Verdicts implements [Store]. A tenant filter reads only those tenants'
// partitions; a status filter is applied by the service.
func (t *Table) Verdicts(ctx context.Context, f Filter) ([]Verdict, error) {
	if err := t.ensureTable(ctx); err != nil {
		return nil, err
	}
	parts := []string{prefixRange("RowKey", verdictPrefix)}
	if len(f.TenantIDs) > 0 {
		var or []string
		for _, id := range f.TenantIDs {
			or = append(or, "PartitionKey eq "+odataQuote(tenantPrefix+id))
		}
		parts = append(parts, "("+strings.Join(or, " or ")+")")
	} else {
		parts = append(parts, prefixRange("PartitionKey", tenantPrefix))
	}
	if len(f.Statuses) > 0 {
		var or []string
		for _, s := range f.Statuses {
			or = append(or, "Status eq "+odataQuote(string(s)))
		}
		parts = append(parts, "("+strings.Join(or, " or ")+")")
	}
	var out []Verdict
	err := list(ctx, t.client, strings.Join(parts, " and "), 0, func(e verdictEntity) error {
		v, err := e.verdict()
		if err == nil && f.matches(v) {
			out = append(out, v)
		}
		return err
	})
	if err != nil {
		return nil, translate("list verdicts", err)
	}
	sortVerdicts(out)
	return out, nil
}

// Changes implements [Store]. Changes are kept in their tenant's partition
// (so that a change and its verdict are written atomically); this reads the
// change rows of every tenant and keeps the newest.
func (t *Table) Changes(ctx context.Context, limit int) ([]Change, error) {
	if err := t.ensureTable(ctx); err != nil {
		return nil, err
	}
	filter := prefixRange("PartitionKey", tenantPrefix) + " and " + prefixRange("RowKey", changePrefix)
	type keyed struct {
		c  Change
		rk string
	}
	var all []keyed
	err := list(ctx, t.client, filter, 0, func(e changeEntity) error {
		c, err := e.change()
		if err == nil {
			all = append(all, keyed{c, e.RowKey})
		}
		return err
	})
	if err != nil {
		return nil, translate("list changes", err)
	}
	// The RowKey (inverted time, then random) orders newest first.
	slices.SortFunc(all, func(a, b keyed) int {
		if c := b.c.At.Compare(a.c.At); c != 0 {
			return c
		}
		return strings.Compare(a.rk, b.rk)
	})
	if limit > 0 && len(all) > limit {
		all = all[:limit]
	}
	out := make([]Change, len(all))
	for i, k := range all {
		out[i] = k.c
	}
	return out, nil
}

// StartRun implements [Store]: the run's row and its index row (newest first)
// are added in one transaction.
func (t *Table) StartRun(ctx context.Context, r Run) error {
	r, err := prepareRun(r)
	if err != nil {
		return err
	}
	e, err := runRow(r)
	if err != nil {
		return err
	}
	if err := t.ensureTable(ctx); err != nil {
		return err
	}
	row, err := json.Marshal(e)
	if err != nil {
		return translate("start run", err)
	}
	idx, err := json.Marshal(startRow(r))
	if err != nil {
		return translate("start run", err)
	}
	_, err = t.client.SubmitTransaction(ctx, []aztables.TransactionAction{
		{ActionType: aztables.TransactionTypeAdd, Entity: row},
		{ActionType: aztables.TransactionTypeAdd, Entity: idx},
	}, nil)
	if isConflict(err) {
		return runExists(r.ID)
	}
	return translate("start run "+r.ID, err)
}

// getRun reads a run and its ETag; nil when there is none.
func (t *Table) getRun(ctx context.Context, id string) (*Run, azcore.ETag, error) {
	resp, err := t.client.GetEntity(ctx, runPartition, runPrefix+id, nil)
	if err != nil {
		var re *azcore.ResponseError
		if errors.As(err, &re) && re.StatusCode == 404 {
			return nil, "", nil
		}
		return nil, "", err
	}
	var e runEntity
	if err := json.Unmarshal(resp.Value, &e); err != nil {
		return nil, "", fmt.Errorf("decode run: %w", err)
	}
	r, err := e.run()
	if err != nil {
		return nil, "", err
	}
	return &r, resp.ETag, nil
}

// UpdateRun implements [Store] with the run row's ETag: fn runs again on the
// fresh row whenever another writer updated it first.
func (t *Table) UpdateRun(ctx context.Context, id string, fn func(*Run)) (*Run, error) {
	if err := checkKey("runId", id); err != nil {
		return nil, err
	}
	if err := t.ensureTable(ctx); err != nil {
		return nil, err
	}
	op := "update run " + id
	for attempt := range t.maxAttempts {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return nil, translate(op, err)
			}
		}
		r, etag, err := t.getRun(ctx, id)
		if err != nil {
			return nil, translate(op, err)
		}
		if r == nil {
			return nil, runNotFound(id)
		}
		n := applyRun(*r, fn)
		e, err := runRow(n)
		if err != nil {
			return nil, err
		}
		row, err := json.Marshal(e)
		if err != nil {
			return nil, translate(op, err)
		}
		_, err = t.client.UpdateEntity(ctx, row, &aztables.UpdateEntityOptions{IfMatch: &etag, UpdateMode: aztables.UpdateModeReplace})
		switch {
		case err == nil:
			return &n, nil
		case isConflict(err):
			continue
		default:
			return nil, translate(op, err)
		}
	}
	return nil, contention(op, t.maxAttempts)
}

// LastRun implements [Store]: the first index row of the run partition names
// the last started run.
func (t *Table) LastRun(ctx context.Context) (*Run, error) {
	if err := t.ensureTable(ctx); err != nil {
		return nil, err
	}
	var id string
	filter := "PartitionKey eq " + odataQuote(runPartition) + " and " + prefixRange("RowKey", startPrefix)
	err := list(ctx, t.client, filter, 1, func(e startEntity) error {
		if id == "" {
			id = e.RunID
		}
		return nil
	})
	if err != nil {
		return nil, translate("read last run", err)
	}
	if id == "" {
		return nil, nil
	}
	r, _, err := t.getRun(ctx, id)
	if err != nil {
		return nil, translate("read run "+id, err)
	}
	return r, nil
}
