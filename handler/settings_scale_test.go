package main

import (
	"strings"
	"testing"
	"time"
)

func TestScaleSettings(t *testing.T) {
	tests := []struct {
		name            string
		env             map[string]string
		wantConcurrency int
		wantSweep       time.Duration
		wantErr         string
	}{
		{name: "defaults", wantConcurrency: 64, wantSweep: 9*time.Minute + 30*time.Second},
		{name: "set", env: map[string]string{envARMConcurrency: "8", envSweepTimeout: "20m"}, wantConcurrency: 8, wantSweep: 20 * time.Minute},
		{name: "bounds", env: map[string]string{envARMConcurrency: "512", envSweepTimeout: "1s"}, wantConcurrency: 512, wantSweep: time.Second},
		{name: "zero", env: map[string]string{envARMConcurrency: "0"}, wantErr: `PAL_ARM_CONCURRENCY: "0" is not a whole number from 1 to 512`},
		{name: "too_many", env: map[string]string{envARMConcurrency: "513"}, wantErr: `PAL_ARM_CONCURRENCY: "513" is not a whole number from 1 to 512`},
		{name: "not_a_number", env: map[string]string{envARMConcurrency: "lots"}, wantErr: `PAL_ARM_CONCURRENCY: "lots" is not a whole number`},
		{name: "bad_timeout", env: map[string]string{envSweepTimeout: "10"}, wantErr: `PAL_SWEEP_TIMEOUT: "10" is not a duration`},
		{name: "timeout_too_long", env: map[string]string{envSweepTimeout: "25h"}, wantErr: `PAL_SWEEP_TIMEOUT: 25h0m0s is outside`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{envPartnerID: "1234567"}
			for k, v := range tt.env {
				env[k] = v
			}
			s, err := settingsFromEnv(envFrom(env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error = %v, want one line containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.ARMConcurrency != tt.wantConcurrency || s.SweepTimeout != tt.wantSweep {
				t.Errorf("ARMConcurrency, SweepTimeout = %d, %v; want %d, %v", s.ARMConcurrency, s.SweepTimeout, tt.wantConcurrency, tt.wantSweep)
			}
		})
	}
}

func TestDefaultSweepTimeoutFollowsFunctionTimeout(t *testing.T) {
	for _, c := range []struct{ fn, want time.Duration }{
		{0, 9*time.Minute + 30*time.Second},
		{5 * time.Minute, 4*time.Minute + 30*time.Second},
		{30 * time.Minute, 29*time.Minute + 30*time.Second},
		{40 * time.Second, 20 * time.Second},
	} {
		if got := defaultSweepTimeout(c.fn); got != c.want {
			t.Errorf("defaultSweepTimeout(%v) = %v, want %v", c.fn, got, c.want)
		}
	}
}

// TestSweepTimeoutStaysBelowFunctionTimeout: an explicit PAL_SWEEP_TIMEOUT
// that reaches host.json's functionTimeout is refused with one line.
func TestSweepTimeoutStaysBelowFunctionTimeout(t *testing.T) {
	for _, c := range []struct {
		set     string
		wantErr bool
	}{{"9m", false}, {"10m", true}, {"20m", true}} {
		_, err := loadSettings(envFrom(map[string]string{envPartnerID: "1234567", envSweepTimeout: c.set}), hostJSON(`{"functionTimeout":"00:10:00"}`))
		if got := err != nil; got != c.wantErr {
			t.Errorf("PAL_SWEEP_TIMEOUT=%s with functionTimeout 10m: error = %v, want error %v", c.set, err, c.wantErr)
		}
		if err != nil && (!strings.HasPrefix(err.Error(), envSweepTimeout+":") || strings.Contains(err.Error(), "\n")) {
			t.Errorf("error %q: want one line naming %s", err, envSweepTimeout)
		}
	}
}
