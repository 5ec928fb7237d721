package web

import (
	"fmt"
	"slices"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
)

// ChartRuns is how many of the latest sweep runs "Attribution over time" draws.
const ChartRuns = 30

// The chart's geometry, in SVG user units (the viewBox); CSS scales it to
// the page's width.
const (
	chartWidth  = 720
	chartHeight = 200
	chartLeft   = 60 // room for the y labels
	chartRight  = 8
	chartTop    = 10
	chartBottom = 26 // room for the x labels
)

// chartView is "Attribution over time": one stacked bar per finished run,
// oldest on the left, attributed below and not attributed above.
type chartView struct {
	Width, Height int
	// Bars are the runs; YTicks the horizontal grid lines with their labels.
	Bars   []barView
	YTicks []tickView
	// BaseY is the y of the zero line; PlotLeft and PlotRight its ends.
	BaseY, PlotLeft, PlotRight int
	// Summary says in words what the chart shows (its text alternative).
	Summary string
}

type barView struct {
	X, W                       float64
	AttrY, AttrH, RestY, RestH float64
	Attributed, NotAttributed  int
	Title, Label               string
	LabelX                     float64
	LabelY                     int
}

type tickView struct {
	Y     float64
	Label string
}

// chartOf draws the finished runs of runs (newest first, as recentRuns
// returns them); nil when none has finished.
func chartOf(runs []record.Run) *chartView {
	var done []record.Run
	for _, r := range runs {
		if !r.FinishedAt.IsZero() && r.Summary != nil {
			done = append(done, r)
		}
	}
	if len(done) == 0 {
		return nil
	}
	slices.Reverse(done) // oldest first, left to right
	c := &chartView{Width: chartWidth, Height: chartHeight, BaseY: chartHeight - chartBottom,
		PlotLeft: chartLeft, PlotRight: chartWidth - chartRight}
	top := 0
	for _, r := range done {
		top = max(top, total(r.Summary))
	}
	top = niceCeil(top)
	plotH := float64(chartHeight - chartTop - chartBottom)
	scale := plotH / float64(top)
	ticks := []int{0, top}
	if top%2 == 0 {
		ticks = []int{0, top / 2, top}
	}
	for _, v := range ticks {
		c.YTicks = append(c.YTicks, tickView{Y: float64(c.BaseY) - float64(v)*scale, Label: fmt.Sprint(v)})
	}
	slot := float64(c.PlotRight-c.PlotLeft) / float64(len(done))
	barW := min(slot*0.7, 48)
	every := max(1, (len(done)+5)/6) // at most about six x labels
	for i, r := range done {
		a := r.Summary[pal.StatusAttributed]
		n := total(r.Summary) - a
		x := float64(c.PlotLeft) + slot*float64(i) + (slot-barW)/2
		b := barView{X: x, W: barW, Attributed: a, NotAttributed: n,
			AttrH: float64(a) * scale, RestH: float64(n) * scale,
			Title: fmt.Sprintf("%s: %d attributed, %d not attributed (%s)", formatTime(r.StartedAt), a, n, r.Outcome)}
		b.AttrY = float64(c.BaseY) - b.AttrH
		b.RestY = b.AttrY - b.RestH
		if i%every == 0 || i == len(done)-1 {
			b.Label = r.StartedAt.UTC().Format("01-02")
			b.LabelX = x + barW/2
			b.LabelY = c.BaseY + 16
		}
		c.Bars = append(c.Bars, b)
	}
	last := c.Bars[len(c.Bars)-1]
	c.Summary = fmt.Sprintf("%d sweep run(s) from %s to %s; the latest: %d attributed, %d not attributed.",
		len(done), formatTime(done[0].StartedAt), formatTime(done[len(done)-1].StartedAt), last.Attributed, last.NotAttributed)
	return c
}

// total is the number of subscriptions a summary counts.
func total(s map[pal.Status]int) int {
	n := 0
	for _, c := range s {
		n += c
	}
	return n
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten (at least 1), so
// the grid's labels are round numbers.
func niceCeil(n int) int {
	if n <= 1 {
		return 1
	}
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}
