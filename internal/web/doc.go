// Package web renders the compliance record for people and programs: the
// report API (JSON and CSV, page by page), the server-rendered dashboard,
// and the HTML answer of the links function for a browser. It reads the
// record only; it makes no ARM call and knows no custom-handler invocation.
// Every answer reads a bounded number of rows, whatever the estate's size.
package web

import (
	"context"

	"github.com/pal-keeper/pal-keeper/internal/record"
)

// Reader is what the views need of the compliance record (see
// [record.Store] for each operation's contract).
type Reader interface {
	PageVerdicts(ctx context.Context, f record.Filter, p record.Page) (*record.VerdictPage, error)
	TenantSummaries(ctx context.Context, p record.Page) (*record.SummaryPage, error)
	SummariesOf(ctx context.Context, tenants []string) ([]record.Summary, error)
	Estate(ctx context.Context) (*record.Summary, error)
	Changes(ctx context.Context, limit int) ([]record.Change, error)
	TenantChanges(ctx context.Context, tenant string, limit int) ([]record.Change, error)
	LastRun(ctx context.Context) (*record.Run, error)
	Runs(ctx context.Context, n int) ([]record.Run, error)
}
