package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"

	"github.com/pal-keeper/pal-keeper/internal/azure"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/trigger"
)

// appIdentity returns the app registration settings of PAL_IDENTITY=app or
// direct: the managed identity mi is the assertion source, the cloud's
// exchange audience, and the authority PAL_AUTHORITY_HOST or the cloud's.
func appIdentity(s settings, mi azcore.TokenCredential, cfg cloud.Configuration) (azure.AppIdentity, error) {
	audience, ok := azure.ExchangeAudience(s.Cloud)
	if !ok {
		return azure.AppIdentity{}, fmt.Errorf("%s: no token-exchange audience for cloud %q", envCloud, s.Cloud)
	}
	issuerHost, _ := azure.FederatedIssuerHost(s.Cloud)
	app := azure.AppIdentity{Assertion: mi, ClientID: s.AppClientID, Audience: audience, IssuerHost: issuerHost, Cloud: cfg, Retry: s.Retry}
	if s.AuthorityHost != "" {
		app.Cloud.ActiveDirectoryAuthorityHost = strings.TrimRight(s.AuthorityHost, "/") + "/"
		app.CustomAuthority = true
	}
	return app, nil
}

// buildIdentityEngine wires the engine of PAL_IDENTITY: the managed identity
// (or CLI) credential as it is, the app's credential in the managing tenant
// (app), or a direct engine with one app credential per customer tenant.
// known gives the tenants of the compliance record, which a direct-mode sweep
// covers besides PAL_DIRECT_TENANTS (nil: none). It also returns the
// credential the Lighthouse engine acts as (nil in direct mode), which the
// dashboard's directory shares (one token cache).
func buildIdentityEngine(s settings, cfg cloud.Configuration, base azcore.TokenCredential, opts *pal.EngineOptions, known func(context.Context) ([]string, error)) (trigger.Engine, azcore.TokenCredential, error) {
	switch s.Identity {
	case identityApp:
		app, err := appIdentity(s, base, cfg)
		if err != nil {
			return nil, nil, err
		}
		cred, err := app.Credential("", false)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", envAppClientID, err)
		}
		return newLazyEngine(func() (*pal.Engine, error) { return lighthouseEngine(s, cred, cfg, opts) }), cred, nil
	case identityDirect:
		app, err := appIdentity(s, base, cfg)
		if err != nil {
			return nil, nil, err
		}
		// One HTTP client for every tenant's ARM clients, so connections are
		// shared and PAL_ARM_CONCURRENCY bounds them per host; the retry
		// settings reach every tenant.
		conn := &azure.DirectConnector{App: app, Options: azure.ClientsOptions{
			Transport: azure.NewHTTPClient(s.ARMConcurrency), Retry: s.Retry, Concurrency: s.ARMConcurrency}}
		engine, err := pal.NewDirectEngine(s.PartnerID, conn, &pal.DirectOptions{
			EngineOptions: *opts,
			Tenants:       s.DirectTenants,
			KnownTenants:  known,
		})
		return engine, nil, err
	default:
		return newLazyEngine(func() (*pal.Engine, error) { return lighthouseEngine(s, base, cfg, opts) }), base, nil
	}
}

// lighthouseEngine is the engine of Lighthouse mode acting as cred.
func lighthouseEngine(s settings, cred azcore.TokenCredential, cfg cloud.Configuration, opts *pal.EngineOptions) (*pal.Engine, error) {
	clients, err := azure.NewClients(cred, cfg, &azure.ClientsOptions{Concurrency: s.ARMConcurrency, Retry: s.Retry, Graph: s.GraphMembership})
	if err != nil {
		return nil, fmt.Errorf("azure clients: %w", err)
	}
	az := pal.Azure{
		Links:          clients.Partner,
		Subscriptions:  clients.Subscriptions,
		Delegations:    clients.Delegations,
		Roles:          clients.Roles,
		Principal:      clients.Principal,
		Permissions:    clients.Permissions,
		ResourceGroups: clients.ResourceGroups,
		BuiltInRoles:   clients.Permissions,
	}
	if clients.Groups != nil { // a nil *GraphClient must not become a non-nil interface
		az.Groups = clients.Groups
	}
	return pal.NewEngine(s.PartnerID, az, opts)
}
