package main

import (
	"strings"
	"testing"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
)

// Tenant G delegates to Entra groups of the managing tenant, as Microsoft's
// Lighthouse guidance recommends. The identity is a member of groupOps
// through the nested groupPAL; groupOthers has other members only.
const (
	tenantG     = "9a000000-0000-4000-8000-000000000000"
	groupPAL    = "9a100000-0000-4000-8000-000000000001" // the identity is a direct member
	groupOps    = "9a100000-0000-4000-8000-000000000002" // groupPAL is a member
	groupOthers = "9a100000-0000-4000-8000-000000000003" // someone else's

	subG1 = "9a000000-0000-4000-8000-000000000001" // Contributor to groupOps
	subG2 = "9a000000-0000-4000-8000-000000000002" // Reader to groupOps
	subG3 = "9a000000-0000-4000-8000-000000000003" // Reader to groupOps, Contributor to groupOps just-in-time
	subG4 = "9a000000-0000-4000-8000-000000000004" // Reader to the identity, Contributor to groupOps
	subG5 = "9a000000-0000-4000-8000-000000000005" // Contributor to groupOthers, Reader to groupOps
	// Contributor permanently to groupOthers, Reader to groupOps, Contributor
	// to groupOps just-in-time: an activation looks, from ARM, like the
	// permanent group authorization.
	subG6 = "9a000000-0000-4000-8000-000000000006"
)

func groupEstate(graph bool) emulator.Estate {
	est := testEstate()
	est.Tenants = append(est.Tenants, emulator.Tenant{ID: tenantG, Name: "G"})
	est.Groups = []emulator.Group{
		{ID: groupPAL, TenantID: managing, DisplayName: "pal-keeper identities", Members: []string{objectID}},
		{ID: groupOps, TenantID: managing, DisplayName: "Contoso operations", Members: []string{groupPAL, otherOID}},
		{ID: groupOthers, TenantID: managing, DisplayName: "Contoso others", Members: []string{otherOID}},
	}
	if graph {
		est.GraphAppRoles = []emulator.GraphAppRole{{TenantID: managing, PrincipalID: objectID, Value: "Application.Read.All"}}
	}
	auth := func(principal, name, role string) emulator.Authorization {
		return emulator.Authorization{PrincipalID: principal, PrincipalDisplayName: name, RoleDefinitionID: role}
	}
	ops := func(role string) emulator.Authorization { return auth(groupOps, "Contoso operations", role) }
	sub := func(id string, permanent, jit []emulator.Authorization) emulator.Subscription {
		return emulator.Subscription{ID: id, TenantID: tenantG, DisplayName: "sub G" + id[len(id)-1:],
			Delegations: []emulator.Delegation{{DefinitionName: "Contoso groups", ManagedByTenantID: managing,
				Authorizations: permanent, EligibleAuthorizations: jit}}}
	}
	est.Subscriptions = append(est.Subscriptions,
		sub(subG1, []emulator.Authorization{ops(emulator.RoleContributor)}, nil),
		sub(subG2, []emulator.Authorization{ops(emulator.RoleReader)}, nil),
		sub(subG3, []emulator.Authorization{ops(emulator.RoleReader)}, []emulator.Authorization{ops(emulator.RoleContributor)}),
		sub(subG4, []emulator.Authorization{auth(objectID, "pal-keeper", emulator.RoleReader), ops(emulator.RoleContributor)}, nil),
		sub(subG5, []emulator.Authorization{auth(groupOthers, "Contoso others", emulator.RoleContributor), ops(emulator.RoleReader)}, nil),
		sub(subG6, []emulator.Authorization{auth(groupOthers, "Contoso others", emulator.RoleContributor), ops(emulator.RoleReader)},
			[]emulator.Authorization{ops(emulator.RoleContributor)}),
	)
	return est
}

// TestE2EGroupDelegations: delegations naming groups the identity is a member
// of are judged by the roles it holds through them, from ARM alone and with
// Graph: Contributor attributed (the detail names the group), Reader
// ineligible-role, Contributor only just-in-time never attributed (before and
// after an activation), the direct and group authorizations together.
func TestE2EGroupDelegations(t *testing.T) {
	t.Parallel()
	for _, graph := range []bool{false, true} {
		name := "arm-only"
		if graph {
			name = "graph"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			est := groupEstate(graph)
			settings := map[string]string{}
			if graph {
				settings["PAL_GRAPH_MEMBERSHIP"] = "true"
			}
			a := startApp(t, appOptions{estate: &est, settings: settings})
			res := a.onboard(onboardingMessage(tenantG))
			want := map[string]pal.Status{
				subG1: pal.StatusAttributed,
				subG2: pal.StatusIneligibleRole,
				subG3: pal.StatusIneligibleRole,
				subG4: pal.StatusAttributed,
				subG5: pal.StatusIneligibleRole,
				subG6: pal.StatusIneligibleRole,
			}
			got := statusOf(res)
			for sub, w := range want {
				if got[sub] != w {
					r := resultFor(t, res, sub)
					t.Errorf("%s: %s (%s), want %s", sub, r.Status, r.Detail, w)
				}
			}
			if r := resultFor(t, res, subG1); !strings.Contains(r.Detail, "Contoso operations") || !strings.Contains(r.Detail, groupOps) ||
				strings.Join(r.Roles, ",") != "Contributor" {
				t.Errorf("group verdict %+v: want Contributor and a detail naming the group", r)
			}
			if r := resultFor(t, res, subG2); strings.Join(r.Roles, ",") != "Reader" {
				t.Errorf("Reader through the group: roles %v, want [Reader]", r.Roles)
			}
			if r := resultFor(t, res, subG3); !strings.Contains(r.Detail, "just-in-time") {
				t.Errorf("JIT through the group: detail %q does not say just-in-time", r.Detail)
			}
			graphCalls := 0
			for _, q := range a.emu.Requests() {
				if q.Target == emulator.TargetGraph {
					graphCalls++
					if q.Status != 200 {
						t.Errorf("Graph answered %d %s", q.Status, q.ErrorCode)
					}
				}
			}
			if graph && graphCalls != 1 {
				t.Errorf("%d Graph requests, want one membership read (cached for the rest)", graphCalls)
			}
			if !graph && graphCalls != 0 {
				t.Errorf("%d Graph requests without PAL_GRAPH_MEMBERSHIP", graphCalls)
			}

			// The JIT Contributors activated: ARM now shows Contributor. Never
			// attributed: on subG3 no permanent authorization explains it
			// (ineligible-role); on subG6 the permanent one to groupOthers
			// could, from ARM alone (unverifiable), while Graph knows the
			// identity is not in groupOthers (ineligible-role).
			for _, sub := range []string{subG3, subG6} {
				if err := a.emu.ActivateEligible(sub, groupOps, emulator.RoleContributor, true); err != nil {
					t.Fatal(err)
				}
			}
			ans := a.http("GET", "/api/links?tenantId="+tenantG, "", "")
			if ans.StatusCode != 200 {
				t.Fatalf("GET /api/links: %d %s", ans.StatusCode, ans.Body)
			}
			after := decodeResult(t, ans.Body)
			wantJIT := map[string]pal.Status{subG3: pal.StatusIneligibleRole, subG6: pal.StatusUnverifiable}
			if graph {
				wantJIT[subG6] = pal.StatusIneligibleRole
			}
			for sub, w := range wantJIT {
				r := resultFor(t, after, sub)
				if r.Status != w || !strings.Contains(r.Detail, "just-in-time") {
					t.Errorf("activated JIT through the group, %s: %s (%s), want %s naming just-in-time", sub, r.Status, r.Detail, w)
				}
			}
			if r := resultFor(t, after, subG1); r.Status != pal.StatusAttributed {
				t.Errorf("subG1 after the activations: %s (%s)", r.Status, r.Detail)
			}
		})
	}
}
