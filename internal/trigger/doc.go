// Package trigger adapts the six functions of pal-keeper between the
// custom-handler protocol and the engine: onboarding (Service Bus), links
// (HTTP), sweep (timer; with Service Bus the coordinator of a distributed
// sweep, SweepFanout), sweep-check (Service Bus, its worker), report and
// dashboard (HTTP, reading the compliance record). It holds the retry chain
// of scheduled copies (retry.go), the sweep's work items (workitem.go) and
// the recorder that writes the compliance record (record.go); what becomes
// of each invocation is internal/outcome's Decide. Each constructor takes
// its engine (or the record's reader) and one options struct: [Options],
// whose bounds come from the app settings and are required (no default of a
// setting lives here), or [ViewOptions] for the views. It knows no ARM; the
// engine knows no trigger.
package trigger

import (
	"context"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/rs/zerolog"
)

// Function names: the folders under functions/ and the handler's routes.
const (
	OnboardingFunction = "onboarding"
	LinksFunction      = "links"
	SweepFunction      = "sweep"
)

// Binding names used in the function.json files.
const (
	onboardingBinding = "message"
	httpBinding       = "req"
	httpOutput        = "res"
)

// Engine is what the triggers need of the engine.
type Engine interface {
	Onboard(ctx context.Context, log *zerolog.Logger, req pal.Request) (*pal.Result, error)
	Status(ctx context.Context, log *zerolog.Logger, req pal.Request) (*pal.Result, error)
	Sweep(ctx context.Context, log *zerolog.Logger, options *pal.SweepOptions) (*pal.Result, error)
	// Allowed reports whether a request may name partnerID.
	Allowed(partnerID string) bool
}
