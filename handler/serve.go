package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

	"github.com/pal-keeper/pal-keeper/internal/azure"
	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/pal-keeper/pal-keeper/internal/trigger"
	"github.com/pal-keeper/pal-keeper/internal/web"
	"github.com/rs/zerolog"
)

// serve runs the custom handler until ctx ends (SIGTERM), letting in-flight
// invocations finish. openQueues reaches Service Bus (openAMQPQueues in the
// product); it is the only part the end-to-end tests' handler replaces.
func serve(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer, openQueues queueOpener) int {
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
	dir, err := newAzureDirectory(s, az)
	if err != nil {
		fmt.Fprintf(stderr, "pal-keeper: %v\n", err)
		return 1
	}
	var onboarding, work queueSender
	if s.ServiceBusNamespace != "" {
		var closeQueues func(*zerolog.Logger)
		onboarding, work, closeQueues, err = openQueues(s, az.cred)
		if err != nil {
			fmt.Fprintf(stderr, "pal-keeper: %v\n", err)
			return 1
		}
		defer closeQueues(&log)
	}
	fns, err := functions(s, engine, rec, dir, onboarding, work)
	if err != nil {
		fmt.Fprintf(stderr, "pal-keeper: %v\n", err)
		return 1
	}
	srv := customhandler.NewServer(log, &customhandler.ServerOptions{Stdout: stdout})
	for name, h := range fns {
		if trigger.IsHTTP(name) {
			srv.HandleHTTP(name, h, trigger.TooLarge)
		} else {
			srv.Handle(name, h)
		}
	}

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)))
	if err != nil {
		fmt.Fprintf(stderr, "pal-keeper: listen: %v\n", err)
		return 1
	}
	log.Info().Int("port", s.Port).Str("partner_id", s.PartnerID).Str("credential", s.Credential).
		Str("cloud", s.Cloud).Bool("relink_foreign", s.RelinkForeign).Bool("service_bus", onboarding != nil).
		Dur("invocation_timeout", s.InvocationTimeout).Dur("function_timeout", s.FunctionTimeout).
		Str("http_role", s.HTTPRole).Str("identity", s.Identity).Str("app_client_id", s.AppClientID).
		Str("record", recordKind(s)).
		Msg("pal-keeper starting")
	if err := srv.Serve(ctx, ln); err != nil {
		log.Error().Err(err).Msg("server stopped")
		return 1
	}
	return 0 // the server logged "custom handler stopped"
}

// azureAccess is how the handler reaches Azure: the credential and the cloud.
type azureAccess struct {
	cred  azcore.TokenCredential
	cloud cloud.Configuration
	// acting is the credential the Lighthouse engine acts as (cred, or the
	// app's in app mode); nil in direct mode.
	acting azcore.TokenCredential
}

// functions wires the handler of every function from the settings, the
// engine, the record, the dashboard's directory (nil: IDs only) and the
// queues' senders (nil without Service Bus): the one wiring of the product
// and of the end-to-end tests' handler. The
// triggers' options take every value from the settings: the table of
// settings.go is the one place of their defaults.
func functions(s settings, engine trigger.Engine, rec record.Store, dir web.Directory, onboarding, work queueSender) (map[string]customhandler.HandlerFunc, error) {
	opts := &trigger.Options{
		MaxAttempts:                s.MaxAttempts,
		OnboardingMaxDeliveryCount: s.OnboardingMaxDeliveryCount,
		SweepMaxDeliveryCount:      s.SweepMaxDeliveryCount,
		DelegationWait:             s.DelegationWait,
		InvocationTimeout:          s.InvocationTimeout,
		SweepTimeout:               s.SweepTimeout,
		HTTPRole:                   s.HTTPRole,
		Record:                     rec,
		RecordRetention:            s.RecordRetention,
	}
	if onboarding != nil {
		opts.Queue = serviceBusQueue{sender: onboarding}
	}
	// The distributed sweep, with Service Bus: the timer coordinates,
	// sweep-check judges. Only an engine whose sweep can be distributed (the
	// Lighthouse modes); a direct-mode sweep walks per-tenant credentials and
	// stays in this process.
	fe, distributed := engine.(distributable)
	distributed = distributed && work != nil
	if distributed {
		opts.SweepQueue = sweepQueue{serviceBusQueue{sender: work}}
	}
	views := &trigger.ViewOptions{HTTPRole: s.HTTPRole, Directory: dir}
	fns := map[string]customhandler.HandlerFunc{
		trigger.ReportFunction:    trigger.Report(rec, views),
		trigger.DashboardFunction: trigger.Dashboard(rec, views),
	}
	onboard, err := trigger.Onboarding(engine, opts)
	if err != nil {
		return nil, err
	}
	links, err := trigger.Links(engine, opts)
	if err != nil {
		return nil, err
	}
	fns[trigger.OnboardingFunction], fns[trigger.LinksFunction] = onboard, trigger.LinksForBrowsers(links)
	if !distributed {
		fns[trigger.SweepFunction], err = trigger.Sweep(engine, opts)
		return fns, err
	}
	if fns[trigger.SweepFunction], err = trigger.SweepFanout(fanoutEngine{fe}, opts); err != nil {
		return nil, err
	}
	fns[trigger.SweepCheckFunction], err = trigger.SweepCheck(fanoutEngine{fe}, opts)
	return fns, err
}

// buildEngine wires the credential, the Azure clients and the engine of
// PAL_IDENTITY (see buildIdentityEngine); known gives the compliance
// record's tenants to a direct-mode sweep (nil: none).
func buildEngine(s settings, known func(context.Context) ([]string, error)) (trigger.Engine, azureAccess, error) {
	cfg, err := azure.CloudConfig(s.Cloud, s.ARMEndpoint)
	if err != nil {
		return nil, azureAccess{}, fmt.Errorf("%s/%s: %w", envCloud, envARMEndpoint, err)
	}
	if s.GraphEndpoint != "" {
		if err := azure.SetGraphEndpoint(&cfg, s.GraphEndpoint); err != nil {
			return nil, azureAccess{}, fmt.Errorf("%s: %w", envGraphEndpoint, err)
		}
	}
	cred := newLazyCredential(func() (azcore.TokenCredential, error) {
		cred, err := azure.NewCredential(s.Credential, s.ClientID, cfg, &azure.CredentialOptions{Retry: s.Retry})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", envCredential, err)
		}
		return cred, nil
	})
	az := azureAccess{cred: cred, cloud: cfg}
	engine, acting, err := buildIdentityEngine(s, cfg, cred, &pal.EngineOptions{AllowedPartnerIDs: s.AllowedPartnerIDs, RelinkForeign: s.RelinkForeign, Concurrency: s.ARMConcurrency}, known)
	az.acting = acting
	if err != nil {
		return nil, az, err
	}
	return engine, az, nil
}
