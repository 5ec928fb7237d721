package record_test

import (
	"context"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/pal-keeper/pal-keeper/internal/record/recordtest"
)

func TestMemory(t *testing.T) {
	recordtest.Run(t, func(*testing.T) record.Store { return record.NewMemory() }, 32)
}

// TestMemoryCopies checks that callers cannot change the stored record
// through the slices and maps they passed in or got back.
func TestMemoryCopies(t *testing.T) {
	ctx := context.Background()
	m := record.NewMemory()
	roles := []string{"Contributor"}
	if _, err := m.Save(ctx, record.Verdict{TenantID: "t", SubscriptionID: "s", Status: pal.StatusAttributed, Roles: roles, CheckedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	roles[0] = "Owner"
	vs, _ := m.Verdicts(ctx, record.Filter{})
	vs[0].Roles[0] = "Reader"
	vs, _ = m.Verdicts(ctx, record.Filter{})
	if got := vs[0].Roles[0]; got != "Contributor" {
		t.Errorf("stored role: got %q, want Contributor", got)
	}
	sum := map[pal.Status]int{pal.StatusAttributed: 1}
	if err := m.StartRun(ctx, record.Run{ID: "r", StartedAt: time.Now(), Summary: sum}); err != nil {
		t.Fatal(err)
	}
	sum[pal.StatusAttributed] = 7
	r, _ := m.LastRun(ctx)
	r.Summary[pal.StatusAttributed] = 9
	r, _ = m.UpdateRun(ctx, "r", func(r *record.Run) {})
	if got := r.Summary[pal.StatusAttributed]; got != 1 {
		t.Errorf("stored summary: got %d, want 1", got)
	}
}
