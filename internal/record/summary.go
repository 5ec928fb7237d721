package record

import "github.com/pal-keeper/pal-keeper/internal/pal"

// countChange applies ch to counts: one more of the new status, one fewer
// of the old one (none the first time a subscription is judged).
func countChange(counts map[pal.Status]int, ch *Change) {
	if ch.From != "" {
		counts[ch.From]--
	}
	counts[ch.To]++
}

// addCounts adds from to into.
func addCounts(into, from map[pal.Status]int) {
	for k, n := range from {
		into[k] += n
	}
}

// runLimit is n within [1, MaxRuns].
func runLimit(n int) int {
	if n < 1 || n > MaxRuns {
		return MaxRuns
	}
	return n
}
