// Package web renders the compliance record for people and programs: the
// report API (JSON and CSV), the server-rendered dashboard, and the HTML
// answer of the links function for a browser. It reads the record only; it
// makes no ARM call and knows no custom-handler invocation.
package web

import (
	"context"

	"github.com/pal-keeper/pal-keeper/internal/record"
)

// Reader is what the views need of the compliance record.
type Reader interface {
	// Verdicts returns the verdicts that match f, sorted by tenant, then subscription.
	Verdicts(ctx context.Context, f record.Filter) ([]record.Verdict, error)
	// Changes returns the newest changes first, at most limit.
	Changes(ctx context.Context, limit int) ([]record.Change, error)
	// LastRun returns the most recently started run, or nil.
	LastRun(ctx context.Context) (*record.Run, error)
}
