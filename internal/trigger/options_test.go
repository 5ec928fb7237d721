package trigger

import (
	"strings"
	"testing"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
)

// must is h, or a panic (the test's failure) on err: the tests' options are
// always complete.
func must(h customhandler.HandlerFunc, err error) customhandler.HandlerFunc {
	if err != nil {
		panic(err)
	}
	return h
}

// withBounds is a copy of o whose required bounds left zero hold the tests'
// values (the product's come from the app settings, handler/settings.go).
func withBounds(o *Options) *Options {
	var out Options
	if o != nil {
		out = *o
	}
	if out.MaxAttempts == 0 {
		out.MaxAttempts = 8
	}
	if out.OnboardingMaxDeliveryCount == 0 {
		out.OnboardingMaxDeliveryCount = 10
	}
	if out.SweepMaxDeliveryCount == 0 {
		out.SweepMaxDeliveryCount = 10
	}
	if out.InvocationTimeout == 0 {
		out.InvocationTimeout = 2 * time.Minute
	}
	if out.SweepTimeout == 0 {
		out.SweepTimeout = 9*time.Minute + 30*time.Second
	}
	return &out
}

// TestOptionsRequired: the triggers apply no default of an app setting (the
// settings table is their one place); a constructor refuses options that
// leave a required bound zero or out of range, naming the field.
func TestOptionsRequired(t *testing.T) {
	cases := []struct {
		field string
		set   func(*Options)
	}{
		{"MaxAttempts", func(o *Options) { o.MaxAttempts = 0 }},
		{"OnboardingMaxDeliveryCount", func(o *Options) { o.OnboardingMaxDeliveryCount = 0 }},
		{"SweepMaxDeliveryCount", func(o *Options) { o.SweepMaxDeliveryCount = -1 }},
		{"InvocationTimeout", func(o *Options) { o.InvocationTimeout = 0 }},
		{"SweepTimeout", func(o *Options) { o.SweepTimeout = 0 }},
		{"DelegationWait", func(o *Options) { o.DelegationWait = -time.Second }},
	}
	constructors := map[string]func(*Options) (customhandler.HandlerFunc, error){
		"Onboarding":  func(o *Options) (customhandler.HandlerFunc, error) { return Onboarding(&fakeEngine{}, o) },
		"Links":       func(o *Options) (customhandler.HandlerFunc, error) { return Links(&fakeEngine{}, o) },
		"Sweep":       func(o *Options) (customhandler.HandlerFunc, error) { return Sweep(&fakeEngine{}, o) },
		"SweepFanout": func(o *Options) (customhandler.HandlerFunc, error) { return SweepFanout(nil, o) },
		"SweepCheck":  func(o *Options) (customhandler.HandlerFunc, error) { return SweepCheck(nil, o) },
	}
	for name, build := range constructors {
		if _, err := build(nil); err == nil || !strings.Contains(err.Error(), "Options.MaxAttempts") {
			t.Errorf("%s(nil options): error %v, want one naming Options.MaxAttempts", name, err)
		}
		for _, c := range cases {
			o := withBounds(nil)
			c.set(o)
			_, err := build(o)
			if err == nil || !strings.Contains(err.Error(), "Options."+c.field+" ") {
				t.Errorf("%s with %s out of range: error %v, want one naming Options.%s", name, c.field, err, c.field)
			}
		}
	}
	if _, err := Onboarding(&fakeEngine{}, withBounds(nil)); err != nil {
		t.Errorf("Onboarding with every bound set: %v", err)
	}
	if _, err := SweepCheck(nil, withBounds(nil)); err == nil || !strings.Contains(err.Error(), "Options.Record and Options.SweepQueue") {
		t.Errorf("SweepCheck without record and queue: error %v, want one naming them", err)
	}
}
