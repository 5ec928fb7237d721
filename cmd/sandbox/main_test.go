package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

func TestHelpExitsZero(t *testing.T) {
	for _, arg := range []string{"--help", "-h"} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{arg}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "-serve") {
			t.Errorf("sandbox %s: exit %d, stdout %q, stderr %q; want 0 and the flags on stdout", arg, code, stdout.String(), stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--bogus"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "-bogus") {
		t.Errorf("sandbox --bogus: exit %d, stderr %q; want 2 naming the flag", code, stderr.String())
	}
}

type failingWriter struct{ writes int }

func (f *failingWriter) Write(p []byte) (int, error) {
	f.writes++
	return 0, errors.New("broken pipe")
}

// TestStopOnWriteError: the first failed write cancels the run; later
// writes are dropped without error (the handler's output must not block).
func TestStopOnWriteError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &failingWriter{}
	s := &stopOnWriteError{w: w, cancel: cancel}
	for range 3 {
		if n, err := s.Write([]byte("line\n")); n != 5 || err != nil {
			t.Fatalf("Write = %d, %v; want 5, nil", n, err)
		}
	}
	if ctx.Err() == nil || !s.broken() || w.writes != 1 {
		t.Errorf("after a failed write: ctx %v, broken %v, %d writes tried; want cancelled, true, 1", ctx.Err(), s.broken(), w.writes)
	}
}

func TestCountsText(t *testing.T) {
	m := map[pal.Status]int{pal.StatusAttributed: 5, pal.StatusIneligibleRole: 2, pal.StatusNotDelegated: 1}
	if got, want := countsText(m), "8 subscription(s): 5 attributed, 2 ineligible-role, 1 not-delegated; 3 not attributed"; got != want {
		t.Errorf("countsText = %q, want %q", got, want)
	}
}
