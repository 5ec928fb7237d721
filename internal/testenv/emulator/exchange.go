package emulator

import (
	"net/http"
	"time"
)

// exchange is one request to one of the emulator's servers and its answer,
// recorded once: when the handler returns (end), or before a dropped
// connection closes (drop).
type exchange struct {
	e        *Emulator
	rec      Request
	w        *statusWriter
	recorded bool
}

// begin starts the exchange of the request r to target's server.
func (e *Emulator) begin(target Target, rw http.ResponseWriter, r *http.Request) *exchange {
	return &exchange{
		e:   e,
		rec: Request{Target: target, Method: r.Method, Path: r.URL.Path, Query: cloneValues(r.URL.Query()), At: time.Now()},
		w:   &statusWriter{ResponseWriter: rw},
	}
}

// end records the request with its answer's status and the error code its
// hdrErrorCode header carries, if any, unless drop recorded it. Deferred by
// every server's handler.
func (x *exchange) end() {
	if x.recorded {
		return
	}
	x.rec.Status = x.w.status
	if code := x.w.Header().Get(hdrErrorCode); code != "" {
		x.rec.ErrorCode = code
	}
	x.e.record(x.rec)
}

// drop records the request, then closes its connection unanswered: the
// client sees the drop only after the request is in Requests().
func (x *exchange) drop() {
	x.e.record(x.rec)
	x.recorded = true
	drop(x.w)
}

// fault applies the fault injected for the request r to x's target, if any:
// it pauses, then drops the connection or, for a fault with a status, sets
// Retry-After and has refuse write the server's error. It reports whether
// the request was answered so.
func (x *exchange) fault(r *http.Request, refuse func(Fault)) bool {
	f, ok := x.e.takeFault(x.rec.Target, r)
	if !ok {
		return false
	}
	x.rec.Faulted = true
	if !x.e.pause(r, f) || f.Drop {
		x.drop()
		return true
	}
	if f.Status == 0 {
		return false
	}
	if f.RetryAfter > 0 {
		x.w.Header().Set("Retry-After", retryAfterSeconds(f.RetryAfter))
	}
	refuse(f)
	return true
}
