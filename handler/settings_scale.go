package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// scaleSettings bound the work of one invocation: how many ARM requests run at
// once and how long the in-process sweep may take.
type scaleSettings struct {
	// ARMConcurrency bounds the ARM requests one invocation runs at once; the
	// HTTP client keeps as many idle connections per host.
	ARMConcurrency int
	// SweepTimeout is the in-process sweep's budget (timer trigger without
	// Service Bus, and `handler sweep`), instead of PAL_INVOCATION_TIMEOUT.
	SweepTimeout time.Duration
}

// Setting names.
const (
	envARMConcurrency = "PAL_ARM_CONCURRENCY"
	envSweepTimeout   = "PAL_SWEEP_TIMEOUT"
)

const (
	defaultARMConcurrency = 64
	maxARMConcurrency     = 512
	// sweepTimeoutMargin is how much sooner than the host's functionTimeout
	// the sweep stops, so it can report before the host gives up on it.
	sweepTimeoutMargin = 30 * time.Second
	// hostFunctionTimeout is host.json's functionTimeout as shipped (10 min,
	// the Consumption plan's maximum).
	hostFunctionTimeout = 10 * time.Minute
)

// defaultSweepTimeout is the sweep's budget when PAL_SWEEP_TIMEOUT is unset:
// sweepTimeoutMargin under the host's functionTimeout. functionTimeout zero
// (unknown or unbounded) means host.json's shipped value, giving 9m30s.
func defaultSweepTimeout(functionTimeout time.Duration) time.Duration {
	if functionTimeout <= 0 {
		functionTimeout = hostFunctionTimeout
	}
	return max(functionTimeout-sweepTimeoutMargin, functionTimeout/2)
}

// read fills s from getenv; functionTimeout is the host's (zero: unknown).
func (s *scaleSettings) read(getenv func(string) string, functionTimeout time.Duration) error {
	s.ARMConcurrency = defaultARMConcurrency
	if v := strings.TrimSpace(getenv(envARMConcurrency)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxARMConcurrency {
			return fmt.Errorf("%s: %q is not a whole number from 1 to %d", envARMConcurrency, v, maxARMConcurrency)
		}
		s.ARMConcurrency = n
	}
	var err error
	s.SweepTimeout, err = durationSetting(getenv, envSweepTimeout, defaultSweepTimeout(functionTimeout), time.Second, 24*time.Hour)
	if err != nil {
		return err
	}
	if functionTimeout > 0 && s.SweepTimeout >= functionTimeout {
		return fmt.Errorf("%s: %v does not stay below host.json functionTimeout %v: the sweep must report before the host gives up on it",
			envSweepTimeout, s.SweepTimeout, functionTimeout)
	}
	return nil
}
