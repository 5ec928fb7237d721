package pal

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const customRoleID = "11111111-2222-3333-4444-555555555555"

// gatedReader answers GetRoleDefinition once release is closed, or fails with
// its context's error when that ends first. It counts its calls.
type gatedReader struct {
	started chan struct{} // receives one value per call
	release chan struct{}
	calls   atomic.Int32
	fail    atomic.Int32 // calls left that fail with errFlaky
}

var errFlaky = &Error{Code: CodeTransient, Message: "flaky"}

func newGatedReader() *gatedReader {
	return &gatedReader{started: make(chan struct{}, 16), release: make(chan struct{})}
}

func (r *gatedReader) GetRoleDefinition(ctx context.Context, id string) (*RoleDefinition, error) {
	r.calls.Add(1)
	r.started <- struct{}{}
	select {
	case <-r.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if r.fail.Add(-1) >= 0 {
		return nil, errFlaky
	}
	return &RoleDefinition{ID: id, Name: "Custom Contributor"}, nil
}

// waitingContext is a context that never ends and tells, by closing
// waiting, when someone first waits on it (calls Done): a barrier that shows
// a goroutine has reached its select, with no sleep.
type waitingContext struct {
	context.Context
	once    sync.Once
	waiting chan struct{}
}

func newWaitingContext() *waitingContext {
	return &waitingContext{Context: context.Background(), waiting: make(chan struct{})}
}

func (c *waitingContext) Done() <-chan struct{} {
	c.once.Do(func() { close(c.waiting) })
	return nil
}

type judged struct {
	v   roleVerdict
	err error
}

func judgeAsync(c *roleCache, ctx context.Context) <-chan judged {
	out := make(chan judged, 1)
	go func() {
		v, err := c.judge(ctx, customRoleID)
		out <- judged{v, err}
	}()
	return out
}

func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// TestRoleCacheFirstWaiterCancels: the invocation that started the lookup is
// cancelled; the other waiter still gets the role, from the same single lookup.
func TestRoleCacheFirstWaiterCancels(t *testing.T) {
	r := newGatedReader()
	c := newRoleCache(r)
	first, cancel := context.WithCancel(context.Background())
	a := judgeAsync(c, first)
	waitFor(t, r.started, "the lookup to start")
	joined := newWaitingContext()
	b := judgeAsync(c, joined)
	// b waits on its context only after it joined the lookup in flight.
	waitFor(t, joined.waiting, "the second waiter to join the lookup")

	cancel()
	if got := waitFor(t, a, "the cancelled waiter"); !errors.Is(got.err, context.Canceled) {
		t.Errorf("cancelled waiter: err = %v, want context.Canceled", got.err)
	}
	select {
	case got := <-b:
		t.Fatalf("second waiter returned %+v before the lookup finished", got)
	default: // the lookup is held by r.release: b cannot have an answer yet
	}
	close(r.release)
	got := waitFor(t, b, "the second waiter")
	if got.err != nil || got.v.Name != "Custom Contributor" {
		t.Errorf("second waiter = %+v, %v; want the role Custom Contributor, no error", got.v, got.err)
	}
	if n := r.calls.Load(); n != 1 {
		t.Errorf("lookups = %d, want 1", n)
	}
	// Cached now: no further lookup.
	if _, err := c.judge(context.Background(), customRoleID); err != nil || r.calls.Load() != 1 {
		t.Errorf("cached judge: err %v, lookups %d; want nil, 1", err, r.calls.Load())
	}
}

// TestRoleCacheLookupHasItsOwnTimeout: a detached lookup still ends.
func TestRoleCacheLookupHasItsOwnTimeout(t *testing.T) {
	r := newGatedReader()
	c := newRoleCache(r)
	c.timeout = 20 * time.Millisecond
	_, err := c.judge(context.Background(), customRoleID)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the lookup's own deadline", err)
	}
}

// TestRoleCacheDoesNotCacheFailures: a failed lookup is tried again.
func TestRoleCacheDoesNotCacheFailures(t *testing.T) {
	r := newGatedReader()
	r.fail.Store(1)
	close(r.release)
	c := newRoleCache(r)
	if _, err := c.judge(context.Background(), customRoleID); !errors.Is(err, errFlaky) {
		t.Fatalf("first judge: err = %v, want the flaky error", err)
	}
	v, err := c.judge(context.Background(), customRoleID)
	if err != nil || v.Name != "Custom Contributor" {
		t.Errorf("second judge = %+v, %v; want the role", v, err)
	}
	if n := r.calls.Load(); n != 2 {
		t.Errorf("lookups = %d, want 2", n)
	}
}
