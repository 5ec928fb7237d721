package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pal-keeper/pal-keeper/internal/customhandler"
	"github.com/pal-keeper/pal-keeper/internal/pal"
)

func TestLinkState(t *testing.T) {
	base := Identity{Kind: KindManagedIdentity, PartnerID: "1234567", Allowed: []string{"1234567", "7654321"}}
	with := func(f func(*Identity)) *Identity {
		id := base
		f(&id)
		return &id
	}
	for _, tt := range []struct {
		name      string
		id        *Identity
		state     string
		class     string
		hasRemedy bool
	}{
		{"linked", with(func(i *Identity) { i.Link = &pal.Link{PartnerID: "1234567", State: "Active"} }), "linked to 1234567", "ok", false},
		{"named", with(func(i *Identity) { i.Link = &pal.Link{PartnerID: "1234567", PartnerName: "Contoso MSP"} }), "linked to 1234567 (Contoso MSP)", "ok", false},
		{"allowed", with(func(i *Identity) { i.Link = &pal.Link{PartnerID: "7654321"} }), "linked to 7654321, an allowed partner ID", "ok", false},
		{"foreign", with(func(i *Identity) { i.Link = &pal.Link{PartnerID: "9999999"} }), "linked to 9999999, outside the allowed set", "bad", true},
		{"none", with(func(i *Identity) {}), "not linked", "bad", true},
		{"deleted", with(func(i *Identity) { i.Link = &pal.Link{PartnerID: "1234567", State: "Deleted"} }), "not linked", "bad", true},
		{"unreadable", with(func(i *Identity) { i.LinkProblem = "ARM answered 503" }), "not known: ARM answered 503", "warn", false},
		{"direct", with(func(i *Identity) { i.Kind = KindDirect }), "one per customer tenant (a tenant without one shows its subscriptions as unlinked)", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			state, class, remedy := linkState(tt.id)
			if state != tt.state || class != tt.class || (remedy != "") != tt.hasRemedy {
				t.Errorf("got %q %q remedy %q, want %q %q remedy %v", state, class, remedy, tt.state, tt.class, tt.hasRemedy)
			}
		})
	}
}

func TestLinkOutcome(t *testing.T) {
	for _, tt := range []struct {
		link     pal.LinkResult
		readOnly bool
		want     string
	}{
		// "Partner link: none" was shown right after a link was found.
		{pal.LinkResult{Action: pal.LinkNone, PartnerID: "1234567"}, false, "already linked to 1234567"},
		{pal.LinkResult{Action: pal.LinkNone, PartnerID: "1234567"}, true, "already linked to 1234567"},
		{pal.LinkResult{Action: pal.LinkCreated, PartnerID: "1234567"}, false, "created: linked to 1234567"},
		{pal.LinkResult{Action: pal.LinkRelinked, PartnerID: "1234567", PreviousPartnerID: "7654321"}, false, "changed from 7654321 to 1234567"},
		{pal.LinkResult{Action: pal.LinkForeign, PartnerID: "9999999", PreviousPartnerID: "9999999"}, false,
			"linked to 9999999, outside the allowed set, and left as it is (PAL_RELINK_FOREIGN is off)"},
		{pal.LinkResult{Action: pal.LinkNone}, true, "not linked (a status query creates no link; onboarding does)"},
	} {
		if got := linkOutcome(tt.link, tt.readOnly); got != tt.want {
			t.Errorf("linkOutcome(%+v, %v) = %q, want %q", tt.link, tt.readOnly, got, tt.want)
		}
	}
}

func TestRemedyForEveryStatus(t *testing.T) {
	for _, s := range pal.Statuses {
		if Remedy(s) == "" {
			t.Errorf("status %s has no remedy", s)
		}
	}
	if !strings.Contains(Remedy(pal.StatusIneligibleRole), "infra/lighthouse/") ||
		!strings.Contains(Remedy(pal.StatusUnverifiable), "Microsoft.ManagedServices/registrationAssignments/read") {
		t.Error("the remedies lose the template or the permission to add")
	}
}

func TestDashboardWho(t *testing.T) {
	_, _, body := getDashboard(t, estateRecord(), "")
	for _, want := range []string{
		`<dd id="partner-id">1234567</dd>`,
		`<dd id="link-state" class="ok">linked to 1234567 (Contoso MSP)</dd>`,
		`<span id="identity-kind">managed identity</span>`,
		"object ID 0b1ec700-0000-4000-8000-000000000001",
		// A named tenant shows its name, domain and ID; an unnamed one its ID.
		`<strong>Contoso Ltd</strong> <small class="meta">contoso.onmicrosoft.com</small><br><small class="id">` + tenantContoso + `</small>`,
		`<span class="tenant"><small class="id">` + tenantFabrikam + `</small></span>`,
		// The remedies of the statuses present, none for those absent.
		`<li id="remedy-ineligible-role">`, `<li id="remedy-not-delegated">`, `<li id="remedy-unlinked">`,
		Remedy(pal.StatusIneligibleRole),
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, absent := range []string{`id="remedy-attributed"`, `id="remedy-error"`, `id="link-remedy"`} {
		if strings.Contains(body, absent) {
			t.Errorf("the page has %s", absent)
		}
	}
}

func TestDashboardWithoutDirectory(t *testing.T) {
	for name, dir := range map[string]Directory{
		"nil":    nil,
		"failed": &fakeDirectory{err: errors.New("ARM: 503")},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := ServeDashboard(context.Background(), estateRecord(), dir, url.Values{}, now)
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("got %d %v, want the page", res.StatusCode, err)
			}
			for _, want := range []string{`<dd id="partner-id">not known</dd>`, `<small class="id">` + tenantContoso + `</small>`} {
				if !strings.Contains(res.Body, want) {
					t.Errorf("the page lacks %q", want)
				}
			}
			if strings.Contains(res.Body, "Contoso Ltd") || strings.Contains(res.Body, "ARM: 503") {
				t.Error("the page shows a name it could not know, or the directory's error")
			}
		})
	}
}

func TestDashboardForeignLink(t *testing.T) {
	dir := estateDirectory()
	dir.id.Link = &pal.Link{PartnerID: "9999999", State: "Active"}
	res, _ := ServeDashboard(context.Background(), estateRecord(), dir, url.Values{}, now)
	if !strings.Contains(res.Body, `class="bad">linked to 9999999, outside the allowed set</dd>`) ||
		!strings.Contains(res.Body, `id="link-remedy">Set PAL_RELINK_FOREIGN=true`) {
		t.Error("a foreign link is not shown as such with its remedy")
	}
}

func TestLinksHTMLStatusPage(t *testing.T) {
	res := &pal.Result{PartnerID: "1234567", Link: pal.LinkResult{Action: pal.LinkNone, PartnerID: "1234567"},
		Results: []pal.SubscriptionResult{{TenantID: tenantContoso, SubscriptionID: subReader, Status: pal.StatusNotDelegated}},
		Summary: map[pal.Status]int{pal.StatusNotDelegated: 1}}
	answer := customhandler.JSONResponse(http.StatusOK, res, nil)
	get := LinksHTML(answer, res, "", http.MethodGet).Body
	for _, want := range []string{"<title>Attribution status · pal-keeper</title>", "<h1>Attribution status</h1>",
		`<strong id="link-outcome">already linked to 1234567</strong>`, `<li id="remedy-not-delegated">`} {
		if !strings.Contains(get, want) {
			t.Errorf("the GET page lacks %q", want)
		}
	}
	if strings.Contains(get, "Onboarding result") || strings.Contains(get, "Partner link: <strong id=\"link-outcome\">none") {
		t.Error("the read-only page is titled as onboarding, or says the link is none")
	}
	if post := LinksHTML(answer, res, "", http.MethodPost).Body; !strings.Contains(post, "<h1>Onboarding result</h1>") {
		t.Error("the POST page is not the onboarding result")
	}
}
