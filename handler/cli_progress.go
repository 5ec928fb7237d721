package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/trigger"
)

// progressInterval is how often the progress line is redrawn at most.
const progressInterval = 200 * time.Millisecond

// progress draws one line on a terminal while a sweep runs: subscriptions
// judged / listed so far, the rate and the time left at that rate. It draws
// nothing unless it was made for a terminal (see newProgress).
type progress struct {
	w   io.Writer
	now func() time.Time

	mu            sync.Mutex
	start, drawn  time.Time
	judged, total int
	shown         bool
}

// newProgress returns a progress for w, or nil (draws nothing) when w is not
// a terminal.
func newProgress(w io.Writer, now func() time.Time) *progress {
	if !isTerminal(w) {
		return nil
	}
	return &progress{w: w, now: now, start: now()}
}

// listed adds n subscriptions to the total.
func (p *progress) listed(n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total += n
	p.draw()
}

// judgedOne counts a verdict.
func (p *progress) judgedOne() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.judged++
	if p.judged > p.total { // a direct-mode tenant is counted as it is emitted
		p.total = p.judged
	}
	p.draw()
}

// done clears the line, so the report starts on a clean one.
func (p *progress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	p.shown = false
}

// around returns w for the log lines of a sweep: with a progress line
// shown, each log line first clears it, and the line is drawn again after.
func (p *progress) around(w io.Writer) io.Writer {
	if p == nil {
		return w
	}
	return progressLog{p: p, w: w}
}

type progressLog struct {
	p *progress
	w io.Writer
}

func (l progressLog) Write(b []byte) (int, error) {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	if l.p.shown {
		fmt.Fprint(l.w, "\r\x1b[K")
	}
	n, err := l.w.Write(b)
	if l.p.shown {
		fmt.Fprintf(l.w, "%s", progressLine(l.p.judged, l.p.total, l.p.now().Sub(l.p.start)))
	}
	return n, err
}

// draw redraws the line, at most every progressInterval. The caller holds p.mu.
func (p *progress) draw() {
	now := p.now()
	if p.shown && now.Sub(p.drawn) < progressInterval {
		return
	}
	p.drawn, p.shown = now, true
	fmt.Fprintf(p.w, "\r\x1b[K%s", progressLine(p.judged, p.total, now.Sub(p.start)))
}

// progressLine is "judged 120/450 subscriptions · 38.2/s · ETA 9s": the
// total is what was listed so far (the sweep judges while it lists); no rate
// before a second passed.
func progressLine(judged, total int, elapsed time.Duration) string {
	line := fmt.Sprintf("judged %d/%d subscriptions", judged, total)
	if elapsed < time.Second || judged == 0 {
		return line
	}
	rate := float64(judged) / elapsed.Seconds()
	line += fmt.Sprintf(" · %.1f/s", rate)
	if left := total - judged; left > 0 {
		eta := time.Duration(float64(left) / rate * float64(time.Second)).Round(time.Second)
		line += " · ETA " + eta.String()
	}
	return line
}

// progressEngine is a trigger.Engine whose sweeps report to a progress.
type progressEngine struct {
	trigger.Engine
	p *progress
}

// Sweep implements trigger.Engine: options gain Listed and an Emit that counts.
func (e progressEngine) Sweep(ctx context.Context, log *zerolog.Logger, options *pal.SweepOptions) (*pal.Result, error) {
	if e.p == nil {
		return e.Engine.Sweep(ctx, log, options)
	}
	o := pal.SweepOptions{}
	if options != nil {
		o = *options
	}
	emit, listed := o.Emit, o.Listed
	o.Listed = func(n int) {
		e.p.listed(n)
		if listed != nil {
			listed(n)
		}
	}
	o.Emit = func(r pal.SubscriptionResult) error {
		e.p.judgedOne()
		if emit != nil {
			return emit(r)
		}
		return nil
	}
	defer e.p.done()
	return e.Engine.Sweep(ctx, log, &o)
}
