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
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
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

// fail translates err of op; when the table is gone (deleted after it was
// created) the next call creates it again.
func (t *Table) fail(op string, err error) error {
	var re *azcore.ResponseError
	if hasCode(err, aztables.TableNotFound) || errors.As(err, &re) && re.StatusCode == 202 && batchStatus(re) == 404 {
		t.mu.Lock()
		t.created = false
		t.mu.Unlock()
	}
	return translate(op, err)
}

// isEntityNotFound reports whether err is a 404 for a missing row (not for a
// missing table).
func isEntityNotFound(err error) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == 404 && !hasCode(err, aztables.TableNotFound)
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

// Save implements [Store]: SaveAll of one verdict.
func (t *Table) Save(ctx context.Context, v Verdict) (*Change, error) {
	out, err := t.SaveAll(ctx, []Verdict{v})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// rowsTop is the rows per request that reading limit rows asks for (0: the
// service's own).
func rowsTop(limit int) int32 {
	if limit > 0 {
		return int32(min(limit, MaxPageSize))
	}
	return 0
}

// listRows reads the rows of filter, top per request, until limit rows
// were decoded (limit < 1: all of them).
func listRows[E any](ctx context.Context, c *aztables.Client, filter string, top int32, limit int, decode func(E) error) error {
	if err := checkFilter(filter); err != nil {
		return err
	}
	opts := &aztables.ListEntitiesOptions{Filter: &filter}
	if top > 0 {
		opts.Top = &top
	}
	n := 0
	for pager := c.NewListEntitiesPager(opts); pager.More(); {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return err
		}
		if err := decodeRows(page.Entities, decode); err != nil {
			return err
		}
		n += len(page.Entities)
		if limit > 0 && n >= limit {
			return nil
		}
	}
	return nil
}

// decodeRows decodes each of the rows raws, one page of a query, with decode.
func decodeRows[E any](raws [][]byte, decode func(E) error) error {
	for _, raw := range raws {
		var e E
		if err := json.Unmarshal(raw, &e); err != nil {
			return fmt.Errorf("decode row: %w", err)
		}
		if err := decode(e); err != nil {
			return err
		}
	}
	return nil
}

// Verdicts implements [Store]: every page of PageVerdicts.
func (t *Table) Verdicts(ctx context.Context, f Filter) ([]Verdict, error) {
	var out []Verdict
	p := Page{Size: MaxPageSize}
	for {
		page, err := t.PageVerdicts(ctx, f, p)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Verdicts...)
		if page.Next == "" {
			return out, nil
		}
		p.Token = page.Next
	}
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
	idx, err := json.Marshal(startRow(e, r.StartedAt))
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
	if err != nil {
		return t.fail("start run "+r.ID, err)
	}
	return nil
}

// getRun reads a run and its ETag; nil when there is none.
func (t *Table) getRun(ctx context.Context, id string) (*Run, azcore.ETag, error) {
	resp, err := t.client.GetEntity(ctx, runPartition, runPrefix+id, nil)
	if err != nil {
		if isEntityNotFound(err) {
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
		if err := checkRun(n); err != nil {
			return nil, err
		}
		e, err := runRow(n)
		if err != nil {
			return nil, err
		}
		row, err := json.Marshal(e)
		if err != nil {
			return nil, translate(op, err)
		}
		idx, err := json.Marshal(startRow(e, n.StartedAt))
		if err != nil {
			return nil, translate(op, err)
		}
		// The run row and its index row's copy change together.
		_, err = t.client.SubmitTransaction(ctx, []aztables.TransactionAction{
			{ActionType: aztables.TransactionTypeUpdateReplace, Entity: row, IfMatch: &etag},
			{ActionType: aztables.TransactionTypeInsertReplace, Entity: idx},
		}, nil)
		switch {
		case err == nil:
			return &n, nil
		case isConflict(err):
			continue
		default:
			return nil, t.fail(op, err)
		}
	}
	return nil, contention(op, t.maxAttempts)
}

// LastRun implements [Store]: Runs(1).
func (t *Table) LastRun(ctx context.Context) (*Run, error) {
	runs, err := t.Runs(ctx, 1)
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	return &runs[0], nil
}

// Runs implements [Store]: the first n index rows of partition run, each a
// copy of its run (a row written before copies were kept is read from its
// run row).
func (t *Table) Runs(ctx context.Context, n int) ([]Run, error) {
	if err := t.ensureTable(ctx); err != nil {
		return nil, err
	}
	var out []Run
	filter := "PartitionKey eq " + odataQuote(runPartition) + " and " + prefixRange("RowKey", startPrefix)
	limit := runLimit(n)
	err := listRows(ctx, t.client, filter, rowsTop(limit), limit, func(e runEntity) error {
		if len(out) >= limit {
			return nil
		}
		if e.StartedAt == "" { // an index row without the copy
			r, _, err := t.getRun(ctx, e.RunID)
			if err != nil || r == nil {
				return err
			}
			out = append(out, *r)
			return nil
		}
		r, err := e.run()
		if err == nil {
			out = append(out, r)
		}
		return err
	})
	if err != nil {
		return nil, translate("read the runs", err)
	}
	return out, nil
}
