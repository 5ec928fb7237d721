package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

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
	engine, az, err := buildEngine(s)
	if err != nil {
		fmt.Fprintf(stderr, "pal-keeper: %v\n", err)
		return 1
	}
	cred := az.cred
	records, err := openRecord(ctx, s, az)
	if err != nil {
		fmt.Fprintf(stderr, "pal-keeper: invalid setting %v\n", err)
		return 1
	}
	opts := &trigger.Options{
		MaxAttempts:       s.MaxAttempts,
		DelegationWait:    s.DelegationWait,
		InvocationTimeout: s.InvocationTimeout,
		HTTPRole:          s.HTTPRole,
		Record:            records,
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
	srv.Handle(trigger.LinksFunction, trigger.LinksForBrowsers(trigger.Links(engine, opts)))
	srv.Handle(trigger.ReportFunction, trigger.Report(records, opts))
	srv.Handle(trigger.DashboardFunction, trigger.Dashboard(records, opts))
	srv.Handle(trigger.SweepFunction, trigger.Sweep(engine, opts))

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)))
	if err != nil {
		fmt.Fprintf(stderr, "pal-keeper: listen: %v\n", err)
		return 1
	}
	log.Info().Int("port", s.Port).Str("partner_id", s.PartnerID).Str("credential", s.Credential).
		Str("cloud", s.Cloud).Bool("relink_foreign", s.RelinkForeign).Bool("service_bus", opts.Queue != nil).
		Dur("invocation_timeout", s.InvocationTimeout).Dur("function_timeout", s.FunctionTimeout).
		Str("http_role", s.HTTPRole).Str("record", recordKind(s)).
		Msg("pal-keeper starting")
	if err := srv.Serve(ctx, ln); err != nil {
		log.Error().Err(err).Msg("server stopped")
		return 1
	}
	log.Info().Msg("custom handler stopped")
	return 0
}

// azureAccess is how the handler reaches Azure: the credential and the cloud.
type azureAccess struct {
	cred  azcore.TokenCredential
	cloud cloud.Configuration
}

// buildEngine wires the credential, the Azure clients and the engine.
func buildEngine(s settings) (*pal.Engine, azureAccess, error) {
	cfg, err := azure.CloudConfig(s.Cloud, s.ARMEndpoint)
	if err != nil {
		return nil, azureAccess{}, fmt.Errorf("%s/%s: %w", envCloud, envARMEndpoint, err)
	}
	cred, err := azure.NewCredential(s.Credential, s.ClientID, cfg)
	if err != nil {
		return nil, azureAccess{}, fmt.Errorf("%s: %w", envCredential, err)
	}
	az := azureAccess{cred: cred, cloud: cfg}
	clients, err := azure.NewClients(cred, cfg, nil)
	if err != nil {
		return nil, az, fmt.Errorf("azure clients: %w", err)
	}
	engine, err := pal.NewEngine(s.PartnerID, pal.Azure{
		Links:          clients.Partner,
		Subscriptions:  clients.Subscriptions,
		Delegations:    clients.Delegations,
		Roles:          clients.Roles,
		Principal:      clients.Principal,
		Permissions:    clients.Permissions,
		ResourceGroups: clients.ResourceGroups,
		BuiltInRoles:   clients.Permissions,
	}, &pal.EngineOptions{AllowedPartnerIDs: s.AllowedPartnerIDs, RelinkForeign: s.RelinkForeign})
	return engine, az, err
}
