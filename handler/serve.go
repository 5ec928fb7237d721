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
	engine, az, rec, err := buildEngineAndRecord(ctx, s)
	if err != nil {
		fmt.Fprintf(stderr, "pal-keeper: %v\n", err)
		return 1
	}
	cred := az.cred
	dir, err := newAzureDirectory(s, az)
	if err != nil {
		fmt.Fprintf(stderr, "pal-keeper: %v\n", err)
		return 1
	}
	opts := &trigger.Options{
		Directory:         dir,
		MaxAttempts:       s.MaxAttempts,
		DelegationWait:    s.DelegationWait,
		InvocationTimeout: s.InvocationTimeout,
		SweepTimeout:      s.SweepTimeout,
		HTTPRole:          s.HTTPRole,
		Record:            rec,
	}
	var sweep, sweepCheck customhandler.HandlerFunc
	if s.ServiceBusNamespace != "" {
		onboarding, work, closeQueues, err := openQueues(getenv, s, cred)
		if err != nil {
			fmt.Fprintf(stderr, "pal-keeper: %v\n", err)
			return 1
		}
		defer closeQueues(&log)
		opts.Queue = serviceBusQueue{sender: onboarding}
		// The distributed sweep: the timer coordinates, sweep-check judges.
		// Lighthouse modes only: a direct-mode sweep walks per-tenant
		// credentials and stays in this process.
		if le, ok := engine.(*pal.Engine); ok {
			queue := sweepQueue{serviceBusQueue{sender: work}}
			sweep = trigger.SweepFanout(fanoutEngine{le}, rec, queue, opts)
			checkOpts := *opts
			checkOpts.Queue = queue
			sweepCheck = trigger.SweepCheck(fanoutEngine{le}, rec, queue, &checkOpts)
		}
	}
	srv := customhandler.NewServer(log, &customhandler.ServerOptions{Stdout: stdout})
	srv.Handle(trigger.OnboardingFunction, trigger.Onboarding(engine, opts))
	srv.Handle(trigger.LinksFunction, trigger.LinksForBrowsers(trigger.Links(engine, opts)))
	srv.Handle(trigger.ReportFunction, trigger.Report(rec, opts))
	srv.Handle(trigger.DashboardFunction, trigger.Dashboard(rec, opts))
	if sweep == nil {
		// Without Service Bus the timer sweeps in this process.
		sweep = trigger.Sweep(engine, opts)
	}
	srv.Handle(trigger.SweepFunction, sweep)
	if sweepCheck != nil {
		srv.Handle(trigger.SweepCheckFunction, sweepCheck)
	}

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)))
	if err != nil {
		fmt.Fprintf(stderr, "pal-keeper: listen: %v\n", err)
		return 1
	}
	log.Info().Int("port", s.Port).Str("partner_id", s.PartnerID).Str("credential", s.Credential).
		Str("cloud", s.Cloud).Bool("relink_foreign", s.RelinkForeign).Bool("service_bus", opts.Queue != nil).
		Dur("invocation_timeout", s.InvocationTimeout).Dur("function_timeout", s.FunctionTimeout).
		Str("http_role", s.HTTPRole).Str("identity", s.Identity).Str("app_client_id", s.AppClientID).
		Str("record", recordKind(s)).
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

// openQueues returns the senders of the onboarding and sweep queues and what
// closes them. Production: one AMQP client per process, with the same identity
// as the trigger connection, and a sender per queue; it connects on first use
// and is closed on shutdown. Only the palkeeper_sbrest test build can send
// through the host simulator's REST endpoint instead (restQueues).
func openQueues(getenv func(string) string, s settings, cred azcore.TokenCredential) (onboarding, work queueSender, closeAll func(*zerolog.Logger), err error) {
	if onboarding, work, ok, err := restQueues(getenv, s, cred); ok || err != nil {
		return onboarding, work, func(*zerolog.Logger) {}, err
	}
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

// buildEngine wires the credential, the Azure clients and the engine of
// PAL_IDENTITY (see buildIdentityEngine); known gives the compliance
// record's tenants to a direct-mode sweep (nil: none).
func buildEngine(s settings, known func(context.Context) ([]string, error)) (trigger.Engine, azureAccess, error) {
	cfg, err := azure.CloudConfig(s.Cloud, s.ARMEndpoint)
	if err != nil {
		return nil, azureAccess{}, fmt.Errorf("%s/%s: %w", envCloud, envARMEndpoint, err)
	}
	cred, err := azure.NewCredential(s.Credential, s.ClientID, cfg, &azure.CredentialOptions{Retry: s.Retry})
	if err != nil {
		return nil, azureAccess{}, fmt.Errorf("%s: %w", envCredential, err)
	}
	az := azureAccess{cred: cred, cloud: cfg}
	engine, err := buildIdentityEngine(s, cfg, cred, &pal.EngineOptions{AllowedPartnerIDs: s.AllowedPartnerIDs, RelinkForeign: s.RelinkForeign, Concurrency: s.ARMConcurrency}, known)
	if err != nil {
		return nil, az, err
	}
	return engine, az, nil
}
