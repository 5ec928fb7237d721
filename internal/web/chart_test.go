package web

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
)

func TestChartOf(t *testing.T) {
	at := func(d int) time.Time { return t0.Add(time.Duration(d) * 24 * time.Hour) }
	runs := []record.Run{ // newest first
		{ID: "running", StartedAt: at(3), Outcome: record.OutcomeRunning, Summary: map[pal.Status]int{}},
		{ID: "c", StartedAt: at(2), FinishedAt: at(2).Add(time.Minute), Outcome: record.OutcomeComplete,
			Summary: map[pal.Status]int{pal.StatusAttributed: 80, pal.StatusUnlinked: 20}},
		{ID: "b", StartedAt: at(1), FinishedAt: at(1).Add(time.Minute), Outcome: record.OutcomePartial,
			Summary: map[pal.Status]int{pal.StatusAttributed: 40, pal.StatusError: 10}},
		{ID: "a", StartedAt: at(0), FinishedAt: at(0).Add(time.Minute), Outcome: record.OutcomeComplete,
			Summary: map[pal.Status]int{pal.StatusAttributed: 0, pal.StatusNotDelegated: 30}},
	}
	c := chartOf(runs)
	if c == nil || len(c.Bars) != 3 {
		t.Fatalf("got %+v, want the 3 finished runs", c)
	}
	// Oldest on the left; a bar's height is proportional to its count, the
	// tallest reaching the top of the plot (100 subscriptions: the top label).
	plot := float64(chartHeight - chartTop - chartBottom)
	for i, want := range []struct{ a, n int }{{0, 30}, {40, 10}, {80, 20}} {
		b := c.Bars[i]
		if b.Attributed != want.a || b.NotAttributed != want.n {
			t.Errorf("bar %d: got %d/%d, want %d/%d", i, b.Attributed, b.NotAttributed, want.a, want.n)
		}
		if math.Abs(b.AttrH-float64(want.a)*plot/100) > 1e-9 || math.Abs(b.RestH-float64(want.n)*plot/100) > 1e-9 ||
			b.AttrY+b.AttrH != float64(c.BaseY) || b.RestY+b.RestH != b.AttrY {
			t.Errorf("bar %d is not stacked on the zero line to scale: %+v", i, b)
		}
		if i > 0 && b.X <= c.Bars[i-1].X {
			t.Errorf("bar %d is not right of bar %d", i, i-1)
		}
	}
	if got := c.YTicks[len(c.YTicks)-1].Label; got != "100" {
		t.Errorf("top label %q, want 100", got)
	}
	if !strings.Contains(c.Bars[1].Title, "40 attributed, 10 not attributed (partial)") {
		t.Errorf("bar title %q", c.Bars[1].Title)
	}
	if !strings.Contains(c.Summary, "3 sweep run(s)") || !strings.Contains(c.Summary, "the latest: 80 attributed, 20 not attributed") {
		t.Errorf("summary %q", c.Summary)
	}
	if chartOf(runs[:1]) != nil || chartOf(nil) != nil {
		t.Error("a chart without a finished run")
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[int]int{0: 1, 1: 1, 2: 2, 3: 5, 7: 10, 10: 10, 11: 20, 101: 200, 4999: 5000, 10001: 20000} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestDashboardChart(t *testing.T) {
	_, _, body := getDashboard(t, estateRecord(), "")
	for _, want := range []string{`<h2 id="chart">Attribution over time</h2>`, `<svg viewBox="0 0 720 200" role="img"`,
		`<span id="chart-summary">14 sweep run(s) from 2026-02-17 08:00 UTC to 2026-03-02 08:00 UTC; the latest: 2 attributed, 3 not attributed.</span>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := strings.Count(body, `<g class="run">`); n != 14 {
		t.Errorf("%d bars, want 14", n)
	}
	if _, _, empty := getDashboard(t, &fakeRecord{}, ""); !strings.Contains(empty, `id="chart-empty"`) || strings.Contains(empty, "<svg") {
		t.Error("an empty record draws a chart")
	}
}
