package trigger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/record"
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

// Options holds the settings of the triggers. Their values come from the
// app settings (handler/settings.go, the one place of each default): the
// bounds MaxAttempts, OnboardingMaxDeliveryCount, SweepMaxDeliveryCount,
// InvocationTimeout and SweepTimeout are required, and a constructor refuses
// options that leave one zero. Queue, SweepQueue, Record, HTTPRole and
// DelegationWait are optional; Now and Jitter have defaults here.
type Options struct {
	// Queue is the onboarding queue; nil without Service Bus. With it, transient
	// trouble schedules a delayed copy of the message and async portal requests
	// are enqueued.
	Queue Queue
	// MaxAttempts bounds the scheduled attempts of one message
	// (PAL_MAX_ATTEMPTS; required, at least 1).
	MaxAttempts int
	// DelegationWait is how long after a message was first enqueued its
	// unreachable subscriptions count as a delegation still on its way
	// (PAL_DELEGATION_WAIT); zero means not at all.
	DelegationWait time.Duration
	// SweepQueue is the sweep queue (PAL_SWEEP_QUEUE); nil without Service
	// Bus. The distributed sweep (SweepFanout, SweepCheck) needs it.
	SweepQueue SweepQueue
	// OnboardingMaxDeliveryCount and SweepMaxDeliveryCount are the queues'
	// max delivery counts (PAL_ONBOARDING_MAX_DELIVERY_COUNT,
	// PAL_SWEEP_MAX_DELIVERY_COUNT; required, at least 1): the
	// delivery that Service Bus dead-letters after if it fails. A work item
	// failing on its queue's last delivery is counted as failed in its run
	// first (see [SweepCheck]).
	OnboardingMaxDeliveryCount int
	SweepMaxDeliveryCount      int
	// InvocationTimeout bounds each invocation's work, except the sweep's
	// (PAL_INVOCATION_TIMEOUT; required, above zero).
	InvocationTimeout time.Duration
	// SweepTimeout bounds the in-process sweep (PAL_SWEEP_TIMEOUT; required,
	// above zero).
	SweepTimeout time.Duration
	// Record is the compliance record: every judged subscription's verdict,
	// and every sweep's run, is written to it (see [Recorder]). nil records
	// nothing.
	Record record.Store
	// RecordRetention is how long the record keeps changes and runs
	// (default record.DefaultRetention): each sweep removes older ones.
	RecordRetention time.Duration
	// HTTPRole, when set, is the App Service Authentication role an HTTP caller
	// must hold (X-MS-CLIENT-PRINCIPAL).
	HTTPRole string
	// Now returns the current time (default time.Now).
	Now func() time.Time
	// Jitter returns a number in [0, 1) to spread retry delays (default math/rand/v2).
	Jitter func() float64
}

// errNotDistributable refuses to wire a distributed-sweep function without
// the record or the sweep queue.
var errNotDistributable = errors.New("trigger: the distributed sweep needs Options.Record and Options.SweepQueue")

// checkedDistributed is checked for a function of the distributed sweep,
// which also needs Options.Record and Options.SweepQueue.
func (o *Options) checkedDistributed() (Options, error) {
	opts, err := o.checked()
	if err == nil && (opts.Record == nil || opts.SweepQueue == nil) {
		return Options{}, errNotDistributable
	}
	return opts, err
}

// checked returns a copy of o after checking the required fields (the first
// wrong one named in the error), with the defaults of Now and Jitter filled
// in. A nil o is all zero, so it is refused.
func (o *Options) checked() (Options, error) {
	var out Options
	if o != nil {
		out = *o
	}
	for _, f := range []struct {
		name, want string
		bad        bool
	}{
		{"MaxAttempts", "at least 1", out.MaxAttempts < 1},
		{"OnboardingMaxDeliveryCount", "at least 1", out.OnboardingMaxDeliveryCount < 1},
		{"SweepMaxDeliveryCount", "at least 1", out.SweepMaxDeliveryCount < 1},
		{"InvocationTimeout", "above zero", out.InvocationTimeout <= 0},
		{"SweepTimeout", "above zero", out.SweepTimeout <= 0},
		{"DelegationWait", "zero or above", out.DelegationWait < 0},
	} {
		if f.bad {
			return Options{}, fmt.Errorf("trigger: Options.%s is required: %s", f.name, f.want)
		}
	}
	if out.RecordRetention <= 0 {
		out.RecordRetention = record.DefaultRetention
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	if out.Jitter == nil {
		out.Jitter = randomJitter
	}
	return out, nil
}
