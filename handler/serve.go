package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/pal-keeper/pal-keeper/internal/azure"
	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/servicebus"
	"github.com/pal-keeper/pal-keeper/internal/trigger"
	"github.com/rs/zerolog"
)

// serve runs the custom handler until ctx ends (SIGTERM), letting in-flight
// invocations finish.
func serve(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) int {
	s, err := settingsFromEnv(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "pal-keeper: invalid setting %v\n", err)
		return 1
	}
	log := zerolog.New(stdout).With().Timestamp().Str("service", "pal-keeper").Logger()
	engine, cred, err := buildEngine(s)
	if err != nil {
		fmt.Fprintf(stderr, "pal-keeper: %v\n", err)
		return 1
	}
	opts := &trigger.Options{
		MaxAttempts:       s.MaxAttempts,
		DelegationWait:    s.DelegationWait,
		InvocationTimeout: s.InvocationTimeout,
		HTTPRole:          s.HTTPRole,
	}
	if s.ServiceBusNamespace != "" {
		// One client per process, with the same identity as the trigger
		// connection; it connects on first use and is closed on shutdown.
		sender, err := servicebus.NewSender(s.ServiceBusNamespace, s.OnboardingQueue, cred, nil)
		if err != nil {
			fmt.Fprintf(stderr, "pal-keeper: invalid setting %s: %v\n", envServiceBus, err)
			return 1
		}
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := sender.Close(ctx); err != nil {
				log.Warn().Str("error", err.Error()).Msg("closing the Service Bus sender")
			}
		}()
		opts.Queue = serviceBusQueue{sender: sender}
	}
	srv := customhandler.NewServer(log, &customhandler.ServerOptions{Stdout: stdout})
	srv.Handle(trigger.OnboardingFunction, trigger.Onboarding(engine, opts))
	srv.Handle(trigger.LinksFunction, trigger.Links(engine, opts))
	srv.Handle(trigger.SweepFunction, trigger.Sweep(engine, opts))

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)))
	if err != nil {
		fmt.Fprintf(stderr, "pal-keeper: listen: %v\n", err)
		return 1
	}
	log.Info().Int("port", s.Port).Str("partner_id", s.PartnerID).Str("credential", s.Credential).
		Str("cloud", s.Cloud).Bool("relink_foreign", s.RelinkForeign).Bool("service_bus", opts.Queue != nil).
		Msg("pal-keeper starting")
	if err := srv.Serve(ctx, ln); err != nil {
		log.Error().Err(err).Msg("server stopped")
		return 1
	}
	log.Info().Msg("custom handler stopped")
	return 0
}

// buildEngine wires the credential, the Azure clients and the engine.
func buildEngine(s settings) (*pal.Engine, azcore.TokenCredential, error) {
	cfg, err := azure.CloudConfig(s.Cloud, s.ARMEndpoint)
	if err != nil {
		return nil, nil, fmt.Errorf("%s/%s: %w", envCloud, envARMEndpoint, err)
	}
	cred, err := azure.NewCredential(s.Credential, s.ClientID, cfg, &azure.CredentialOptions{Retry: s.Retry})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", envCredential, err)
	}
	clients, err := azure.NewClients(cred, cfg, &azure.ClientsOptions{Retry: s.Retry})
	if err != nil {
		return nil, nil, fmt.Errorf("azure clients: %w", err)
	}
	engine, err := pal.NewEngine(s.PartnerID, pal.Azure{
		Links:         clients.Partner,
		Subscriptions: clients.Subscriptions,
		Delegations:   clients.Delegations,
		Roles:         clients.Roles,
		Principal:     clients.Principal,
	}, &pal.EngineOptions{AllowedPartnerIDs: s.AllowedPartnerIDs, RelinkForeign: s.RelinkForeign})
	return engine, cred, err
}
