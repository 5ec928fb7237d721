package web

import (
	"context"
	"fmt"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// presentation is what the dashboard shows beyond the record's rows: who
// (the identity and its link), what now (the remedies of the statuses
// present) and the chart of the latest runs.
type presentation struct {
	Who      *whoView
	Remedies []remedyView
	Chart    *chartView
}

// whoView is the header: the partner ID, the link's state and the identity.
type whoView struct {
	PartnerID  string
	Link       string
	LinkClass  string
	Kind       string
	Identity   string
	LinkRemedy string
}

type remedyView struct {
	Status pal.Status
	Count  int
	Text   string
	Href   string
}

// tenantView is a tenant as the page names it: its name and default domain
// when the directory knows them, and always its ID.
type tenantView struct {
	ID, Name, Domain string
}

// directoryTimeout bounds what one dashboard load waits for the Directory.
const directoryTimeout = 3 * time.Second

// present completes the page d, whose rows came from the record: the
// header and the tenants' names from dir, a remedy for each total that
// needs one, the names of the changes' subscriptions from the list, and the
// chart of the record's latest run summaries (the only read of r here).
func present(ctx context.Context, d *dashboardData, r Reader, dir Directory) error {
	runs, err := r.Runs(ctx, ChartRuns) // the record's run summaries, newest first
	if err != nil {
		return fmt.Errorf("read the runs: %w", err)
	}
	d.Chart = chartOf(runs)
	names, who := lookUp(ctx, dir)
	d.Who = whoOf(who)
	for _, t := range d.Totals {
		if t.Count > 0 && t.Status != pal.StatusAttributed {
			d.Remedies = append(d.Remedies, remedyView{Status: t.Status, Count: t.Count, Text: Remedy(t.Status), Href: t.Href})
		}
	}
	tenant := func(id string) tenantView {
		n := names[id]
		return tenantView{ID: id, Name: n.DisplayName, Domain: n.DefaultDomain}
	}
	for i := range d.Tenants {
		d.Tenants[i].Tenant = tenant(d.Tenants[i].TenantID)
	}
	subNames := make(map[string]string, len(d.List))
	for i := range d.List {
		d.List[i].Tenant = tenant(d.List[i].TenantID)
		subNames[d.List[i].SubscriptionID] = d.List[i].DisplayName
	}
	for i := range d.Changes {
		d.Changes[i].Tenant = tenant(d.Changes[i].TenantID)
		d.Changes[i].DisplayName = subNames[d.Changes[i].SubscriptionID]
	}
	return nil
}
