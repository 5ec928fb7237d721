package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
	"github.com/pal-keeper/pal-keeper/internal/testenv/hostsim"
)

// directFlow is the demo of PAL_IDENTITY=direct (no Lighthouse): onboarding
// messages for three customer tenants (consented with Contributor, consented
// with Reader only, not consented), a read-only links query and the sweep over
// PAL_DIRECT_TENANTS, each tenant with its own link.
func directFlow(ctx context.Context, emu *emulator.Emulator, host *hostsim.Host, names map[string]string, out io.Writer, steps *int) error {
	fmt.Fprintf(out, "PAL_IDENTITY=direct: multi-tenant app %s trusting identity pal-keeper-func, PAL_PARTNER_ID=%s;\n",
		emulator.DemoAppClientID, emulator.DemoPartnerID)
	fmt.Fprintf(out, "customers consented (or not) and assigned the app roles; no Lighthouse, no link yet\n\n")

	q := host.Queue("pal-onboarding")
	step := 0
	// final holds the latest verdicts of each tenant.
	final := map[string][]pal.SubscriptionResult{}
	// onboard sends a message enqueued age ago (past PAL_DELEGATION_WAIT, a
	// subscription the app cannot reach yet is reported at once).
	onboard := func(title string, age time.Duration, tenant string, subs ...string) error {
		step++
		req := map[string]any{"tenantId": tenant, "requestedBy": "sandbox"}
		what := "whole tenant"
		if len(subs) > 0 {
			req["subscriptionIds"] = subs
			what = fmt.Sprintf("%d subscription(s)", len(subs))
		}
		body, _ := json.Marshal(req)
		fmt.Fprintf(out, "%d. Service Bus message on pal-onboarding for %s (%s)%s\n", step, names[tenant], what, title)
		before := len(q.Completed())
		q.Send(body, &hostsim.MessageOptions{ContentType: "application/json", EnqueuedTime: time.Now().Add(-age)})
		if err := host.DrainQueue(ctx, "pal-onboarding"); err != nil {
			return fmt.Errorf("deliver the onboarding message: %w", err)
		}
		done := q.Completed()[before:]
		if len(done) != 1 {
			return fmt.Errorf("the onboarding message for %s was not completed: %+v", names[tenant], q.DeadLettered())
		}
		var res pal.Result
		if err := json.Unmarshal(done[0].Result.ReturnValue, &res); err != nil {
			return fmt.Errorf("onboarding ReturnValue: %w", err)
		}
		for _, l := range res.Links {
			fmt.Fprintf(out, "   %s\n", tenantLinkText(names, l))
		}
		fmt.Fprintf(out, "   %s\n\n", summaryText(res.Summary))
		final[tenant] = res.Results
		return nil
	}
	if err := onboard("", 0, emulator.DemoDirectAdatumTenantID); err != nil {
		return err
	}
	if err := onboard("", 0, emulator.DemoDirectBellowsTenantID, emulator.DemoDirectBellowsReporting); err != nil {
		return err
	}
	if err := onboard(", sent 31 minutes ago (PAL_DELEGATION_WAIT is over)", 31*time.Minute,
		emulator.DemoDirectCohoTenantID, emulator.DemoDirectCohoMain); err != nil {
		return err
	}

	// Coho's administrator grants admin consent and assigns the app a role.
	oid, err := emu.GrantConsent(emulator.DemoDirectCohoTenantID, emulator.DemoAppClientID)
	if err != nil {
		return err
	}
	if _, err := emu.AddRoleAssignment(emulator.RoleAssignment{Scope: emulator.SubscriptionScope(emulator.DemoDirectCohoMain),
		PrincipalID: oid, RoleDefinitionID: emulator.RoleSupportRequestContributor}); err != nil {
		return err
	}
	fmt.Fprintf(out, "   (Coho's administrator grants admin consent and assigns the app Support Request Contributor)\n\n")
	if err := onboard(", again", 0, emulator.DemoDirectCohoTenantID, emulator.DemoDirectCohoMain); err != nil {
		return err
	}

	// A read-only query naming a subscription the app cannot reach.
	step++
	key := url.QueryEscape(host.FunctionKey())
	writesBefore := len(emu.Writes())
	res, status, err := sandboxHTTP(ctx, host, http.MethodGet, "/api/links?code="+key+"&tenantId="+emulator.DemoDirectAdatumTenantID+
		"&subscriptionId="+emulator.DemoDirectAdatumArchive, "", nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d. GET /api/links for %s, Adatum Archive (no role for the app): HTTP %d; %s; %d writes\n\n",
		step, names[emulator.DemoDirectAdatumTenantID], status, summaryText(res.Summary), len(emu.Writes())-writesBefore)
	final[emulator.DemoDirectAdatumTenantID] = append(final[emulator.DemoDirectAdatumTenantID], res.Results...)

	// The sweep over PAL_DIRECT_TENANTS (and the tenants the record knows).
	step++
	fmt.Fprintf(out, "%d. Timer sweep over PAL_DIRECT_TENANTS\n", step)
	inv, err := host.Timer(ctx, "sweep", false)
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	if inv.Failed {
		return fmt.Errorf("sweep invocation failed: %v", inv.Err)
	}
	var sweep pal.Result
	if err := json.Unmarshal(inv.ReturnValue, &sweep); err != nil {
		return fmt.Errorf("sweep ReturnValue: %w", err)
	}
	for _, l := range sweep.Links {
		fmt.Fprintf(out, "   %s\n", tenantLinkText(names, l))
	}
	fmt.Fprintf(out, "   judged %s\n\n", countsText(sweep.Summary))

	fmt.Fprintf(out, "The customers' subscriptions, as last judged\n\n")
	var all []pal.SubscriptionResult
	for _, rs := range final {
		all = append(all, rs...)
	}
	printEstate(out, names, all)
	*steps = step
	return nil
}

// tenantLinkText is one entry of links[]: the tenant, its service principal
// and its link.
func tenantLinkText(names map[string]string, l pal.TenantLink) string {
	name := names[l.TenantID]
	if name == "" {
		name = l.TenantID
	}
	if l.ObjectID == "" {
		// No service principal: the detail carries the admin-consent URL.
		detail := l.Detail
		if i := strings.Index(detail, "https://"); i >= 0 {
			detail = "admin consent at " + detail[i:]
		}
		return fmt.Sprintf("%s: no service principal (no admin consent); link none; %s", name, detail)
	}
	return fmt.Sprintf("%s: service principal %s, link %s", name, l.ObjectID, linkText(l.LinkResult))
}
