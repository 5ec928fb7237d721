package emulator

import (
	"net"
	"net/http"
	"sync/atomic"
)

// Stats are counters of the ARM server since it started or since
// [Emulator.ResetStats].
type Stats struct {
	// MaxInFlight is the most ARM requests handled at once.
	MaxInFlight int
	// Connections counts the connections the ARM server accepted: each one
	// begins with a TLS handshake.
	Connections int
}

// stats counts in-flight requests and accepted connections without a lock.
type stats struct {
	inFlight    atomic.Int64
	maxInFlight atomic.Int64
	conns       atomic.Int64
}

// begin counts a request in; the returned function counts it out.
func (s *stats) begin() func() {
	n := s.inFlight.Add(1)
	for {
		m := s.maxInFlight.Load()
		if n <= m || s.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	return func() { s.inFlight.Add(-1) }
}

// connState is the ARM server's http.Server.ConnState hook.
func (s *stats) connState(_ net.Conn, st http.ConnState) {
	if st == http.StateNew {
		s.conns.Add(1)
	}
}

// Stats returns the ARM server's counters.
func (e *Emulator) Stats() Stats {
	return Stats{MaxInFlight: int(e.stats.maxInFlight.Load()), Connections: int(e.stats.conns.Load())}
}

// ResetStats sets the counters to zero (requests in flight stay counted in).
func (e *Emulator) ResetStats() {
	e.stats.maxInFlight.Store(e.stats.inFlight.Load())
	e.stats.conns.Store(0)
}
