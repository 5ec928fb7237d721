package main

import (
	"context"
	"errors"
	"testing"

	"github.com/rs/zerolog"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

func TestLazyEngineBuildsOnFirstUse(t *testing.T) {
	builds := 0
	refused := errors.New("refused")
	e := newLazyEngine(func() (*pal.Engine, error) { builds++; return nil, refused })
	if builds != 0 {
		t.Fatalf("built %d times before any use, want 0", builds)
	}
	// A build that fails is every call's error; Allowed lets the call through
	// so that it reports why.
	if !e.Allowed("1234567") {
		t.Error("Allowed = false after a failed build, want true")
	}
	log := zerolog.Nop()
	if _, err := e.Onboard(context.Background(), &log, pal.Request{}); !errors.Is(err, refused) {
		t.Errorf("Onboard: %v, want %v", err, refused)
	}
	if _, err := e.StartSweep(context.Background(), &log, nil); !errors.Is(err, refused) {
		t.Errorf("StartSweep: %v, want %v", err, refused)
	}
	if builds != 1 {
		t.Errorf("built %d times, want 1", builds)
	}
}
