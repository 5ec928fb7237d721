package trigger

import (
	"context"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/pal-keeper/pal-keeper/internal/web"
)

// QueueMessage is a message the triggers put on the onboarding queue: a
// scheduled retry of an onboarding message, or an asynchronous portal request.
type QueueMessage struct {
	Body []byte
	// MessageID is deterministic, so Service Bus duplicate detection drops repeats.
	MessageID     string
	CorrelationID string
	ContentType   string
	// Properties are the message's application properties.
	Properties map[string]any
}

// Queue sends messages to the onboarding queue (Service Bus, when configured).
type Queue interface {
	SendMessage(ctx context.Context, m QueueMessage) error
	ScheduleMessage(ctx context.Context, m QueueMessage, enqueueAt time.Time) error
}

// Defaults of [Options], also the app settings' defaults (handler/settings.go
// refers to them: one place for each).
const (
	// DefaultMaxAttempts is MaxAttempts' default (PAL_MAX_ATTEMPTS).
	DefaultMaxAttempts = 8
	// DefaultInvocationTimeout is InvocationTimeout's default (PAL_INVOCATION_TIMEOUT).
	DefaultInvocationTimeout = 2 * time.Minute
	// DefaultSweepTimeout is SweepTimeout's default (PAL_SWEEP_TIMEOUT with
	// the shipped host.json): 30 s under its functionTimeout of 10 min.
	DefaultSweepTimeout = 9*time.Minute + 30*time.Second
	// DefaultMaxDeliveryCount is Service Bus's default max delivery count of a
	// queue (docs/reference.md): the default of PAL_ONBOARDING_MAX_DELIVERY_COUNT
	// and PAL_SWEEP_MAX_DELIVERY_COUNT.
	DefaultMaxDeliveryCount = 10
)

// Options holds the optional settings of the triggers.
type Options struct {
	// Queue is the onboarding queue; nil without Service Bus. With it, transient
	// trouble schedules a delayed copy of the message and async portal requests
	// are enqueued.
	Queue Queue
	// MaxAttempts bounds the scheduled attempts of one message (default 8).
	MaxAttempts int
	// MaxChainAge is the absolute age cap of a retry chain: a message first
	// enqueued longer ago is failed, never scheduled again (default
	// DefaultMaxChainAge, 24h).
	MaxChainAge time.Duration
	// DelegationWait is how long after a message was first enqueued its
	// unreachable subscriptions count as a delegation still on its way; zero
	// means not at all.
	DelegationWait time.Duration
	// SweepQueue is the sweep queue (PAL_SWEEP_QUEUE); nil without Service
	// Bus. The distributed sweep (SweepFanout, SweepCheck) needs it.
	SweepQueue SweepQueue
	// OnboardingMaxDeliveryCount and SweepMaxDeliveryCount are the queues'
	// max delivery counts (PAL_ONBOARDING_MAX_DELIVERY_COUNT,
	// PAL_SWEEP_MAX_DELIVERY_COUNT; default DefaultMaxDeliveryCount): the
	// delivery that Service Bus dead-letters after if it fails. A work item
	// failing on its queue's last delivery is counted as failed in its run
	// first (see [SweepCheck]).
	OnboardingMaxDeliveryCount int
	SweepMaxDeliveryCount      int
	// InvocationTimeout bounds each invocation's work (default 2m), except the sweep's.
	InvocationTimeout time.Duration
	// SweepTimeout bounds the in-process sweep (default 9m30s, 30 s under
	// host.json's functionTimeout of 10 min).
	SweepTimeout time.Duration
	// Record is the compliance record: every judged subscription's verdict,
	// and every sweep's run, is written to it (see [Recorder]). nil records
	// nothing.
	Record record.Store
	// Directory names the dashboard's tenants and says which identity acts
	// and how it is linked; nil shows IDs only.
	Directory web.Directory
	// HTTPRole, when set, is the App Service Authentication role an HTTP caller
	// must hold (X-MS-CLIENT-PRINCIPAL).
	HTTPRole string
	// Now returns the current time (default time.Now).
	Now func() time.Time
	// Jitter returns a number in [0, 1) to spread retry delays (default math/rand/v2).
	Jitter func() float64
}

// withDefaults returns a copy of o with zero values replaced by defaults.
func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	if out.MaxAttempts <= 0 {
		out.MaxAttempts = DefaultMaxAttempts
	}
	if out.OnboardingMaxDeliveryCount <= 0 {
		out.OnboardingMaxDeliveryCount = DefaultMaxDeliveryCount
	}
	if out.SweepMaxDeliveryCount <= 0 {
		out.SweepMaxDeliveryCount = DefaultMaxDeliveryCount
	}
	if out.MaxChainAge <= 0 {
		out.MaxChainAge = DefaultMaxChainAge
	}
	if out.DelegationWait < 0 {
		out.DelegationWait = 0
	}
	if out.InvocationTimeout <= 0 {
		out.InvocationTimeout = DefaultInvocationTimeout
	}
	if out.SweepTimeout <= 0 {
		out.SweepTimeout = DefaultSweepTimeout
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.Jitter == nil {
		out.Jitter = randomJitter
	}
	return out
}
