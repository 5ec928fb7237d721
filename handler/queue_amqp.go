package main

import (
	"context"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/rs/zerolog"

	"github.com/pal-keeper/pal-keeper/internal/servicebus"
)

// queueOpener opens the senders of the onboarding and sweep queues and
// returns what closes them.
type queueOpener func(s settings, cred azcore.TokenCredential) (onboarding, work queueSender, closeAll func(*zerolog.Logger), err error)

var _ queueOpener = openAMQPQueues

// openAMQPQueues is the product's queueOpener: one AMQP client per process,
// with the same identity as the trigger connection, and a sender per queue;
// it connects on first use and is closed on shutdown.
func openAMQPQueues(s settings, cred azcore.TokenCredential) (onboarding, work queueSender, closeAll func(*zerolog.Logger), err error) {
	client, err := servicebus.NewClient(s.ServiceBusNamespace, cred, nil)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("invalid setting %s: %w", envServiceBus, err)
	}
	onb, err := client.NewSender(s.OnboardingQueue)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("invalid setting %s: %w", envOnboardingQueue, err)
	}
	wrk, err := client.NewSender(s.SweepQueue)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("invalid setting %s: %w", envSweepQueue, err)
	}
	closeAll = func(log *zerolog.Logger) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, snd := range []*servicebus.Sender{onb, wrk} {
			if err := snd.Close(ctx); err != nil {
				log.Warn().Str("error", err.Error()).Msg("closing a Service Bus sender")
			}
		}
		if err := client.Close(ctx); err != nil {
			log.Warn().Str("error", err.Error()).Msg("closing the Service Bus client")
		}
	}
	return onb, wrk, closeAll, nil
}
