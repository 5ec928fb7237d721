package record

// SeedEstate, for the record benchmark (bench_test.go): the rows a record
// holds after a year of nightly sweeps, written in entity group
// transactions, not by sweeping.

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"golang.org/x/sync/errgroup"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// SeedSpec describes the seeded estate.
type SeedSpec struct {
	Tenants, PerTenant int
	// Nights of sweeps, the last ending at End; each night Churn of the
	// subscriptions change status (attributed ↔ not-delegated).
	Nights int
	Churn  float64
	End    time.Time
	// TenantID and SubscriptionID name tenant i and its subscription j.
	TenantID       func(i int) string
	SubscriptionID func(i, j int) string
	// Initial is the first status of subscription j of tenant i.
	Initial func(i, j int) pal.Status
}

// SeedEstate writes spec's rows into t: verdicts, their change rows (in the
// tenants' partitions and the change index, by the month each change was
// written), the tenants' summaries and their directory copies, the estate's
// totals and a run per night. It returns the number of changes.
func SeedEstate(ctx context.Context, t *Table, spec SeedSpec) (int, error) {
	if err := t.ensureTable(ctx); err != nil {
		return 0, err
	}
	total := spec.Tenants * spec.PerTenant
	perNight := int(float64(total) * spec.Churn)
	night := func(n int) time.Time { return spec.End.Add(-time.Duration(spec.Nights-1-n) * 24 * time.Hour) }
	// Which subscriptions change on night n (n ≥ 1): a hash of (n, k).
	changed := make([][]int, spec.Nights)
	for n := 1; n < spec.Nights; n++ {
		for k := range perNight {
			h := fnv.New64a()
			fmt.Fprintf(h, "%d/%d", n, k)
			changed[n] = append(changed[n], int(h.Sum64()%uint64(total)))
		}
	}
	var runs []Run
	status := make([]pal.Status, total)
	since := make([]time.Time, total)
	type ch struct {
		sub  int
		from pal.Status
		to   pal.Status
		at   time.Time
	}
	byTenant := make([][]ch, spec.Tenants)
	estate := newCounts()
	nchanges := 0
	for n := range spec.Nights {
		at := night(n)
		if n == 0 {
			for s := range total {
				status[s], since[s] = spec.Initial(s/spec.PerTenant, s%spec.PerTenant), at
				byTenant[s/spec.PerTenant] = append(byTenant[s/spec.PerTenant], ch{s, "", status[s], at})
				estate[status[s]]++
				nchanges++
			}
		}
		for k, s := range changed[n] {
			to := pal.StatusNotDelegated
			if status[s] != pal.StatusAttributed {
				to = pal.StatusAttributed
			}
			cat := at.Add(time.Duration(k) * time.Millisecond)
			byTenant[s/spec.PerTenant] = append(byTenant[s/spec.PerTenant], ch{s, status[s], to, cat})
			estate[status[s]]--
			estate[to]++
			status[s], since[s] = to, cat
			nchanges++
		}
		runs = append(runs, Run{ID: fmt.Sprintf("seed-%04d", n), StartedAt: at, FinishedAt: at.Add(10 * time.Minute),
			Outcome: OutcomeComplete, Summary: maps.Clone(estate)})
	}
	type batch struct{ actions []aztables.TransactionAction }
	var batches []batch
	add := func(rows []any) error {
		for chunk := range slices.Chunk(rows, maxTransactionOps) {
			var b batch
			for _, r := range chunk {
				raw, err := json.Marshal(r)
				if err != nil {
					return err
				}
				b.actions = append(b.actions, aztables.TransactionAction{ActionType: aztables.TransactionTypeInsertReplace, Entity: raw})
			}
			batches = append(batches, b)
		}
		return nil
	}
	index := map[string][]any{}
	var dir []any
	for i := range spec.Tenants {
		tenant := spec.TenantID(i)
		var rows []any
		counts := newCounts()
		for j := range spec.PerTenant {
			s := i*spec.PerTenant + j
			counts[status[s]]++
			rows = append(rows, verdictRow(Verdict{TenantID: tenant, SubscriptionID: spec.SubscriptionID(i, j), DisplayName: fmt.Sprintf("subscription %d", s),
				Status: status[s], Roles: []string{"Contributor"}, Detail: "seeded", LinkPartnerID: "1234567", LinkAction: pal.LinkNone,
				CheckedAt: spec.End, CheckedBy: "sweep", Since: since[s]}))
		}
		last := time.Time{}
		for _, c := range byTenant[i] {
			ce := changeRow(Change{TenantID: tenant, SubscriptionID: spec.SubscriptionID(i, c.sub%spec.PerTenant), From: c.from, To: c.to, At: c.at, Detail: "seeded"})
			rows = append(rows, ce)
			ix := indexRow(ce, c.at)
			index[ix.PartitionKey] = append(index[ix.PartitionKey], ix)
			last = c.at
		}
		sum := Summary{TenantID: tenant, Counts: counts, Version: len(byTenant[i]), At: last}
		se, err := summaryRowOf(tenantPrefix+tenant, summaryRow, kindTenantSummary, sum)
		if err != nil {
			return 0, err
		}
		de, _ := summaryRowOf(dirPartition, tenantPrefix+tenant, kindTenantSummary, sum)
		rows = append(rows, se)
		dir = append(dir, de)
		if err := add(rows); err != nil {
			return 0, err
		}
	}
	for _, rows := range index {
		if err := add(rows); err != nil {
			return 0, err
		}
	}
	est, _ := summaryRowOf(dirPartition, estateRow, kindEstate, Summary{Counts: estate, Tenants: spec.Tenants, At: spec.End})
	if err := add(append(dir, est)); err != nil {
		return 0, err
	}
	var runRows []any
	for _, r := range runs {
		e, err := runRow(r)
		if err != nil {
			return 0, err
		}
		runRows = append(runRows, e, startRow(e, r.StartedAt))
	}
	if err := add(runRows); err != nil {
		return 0, err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, b := range batches {
		g.Go(func() error {
			if _, err := t.client.SubmitTransaction(gctx, b.actions, nil); err != nil {
				return translate("seed", err)
			}
			return nil
		})
	}
	return nchanges, g.Wait()
}
