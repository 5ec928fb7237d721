package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/managedservices/armmanagedservices"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armsubscriptions"
)

// clientOptions points the real ARM SDK clients at the emulator.
func clientOptions(e *Emulator) *arm.ClientOptions {
	return &arm.ClientOptions{ClientOptions: policy.ClientOptions{
		Cloud: cloud.Configuration{
			ActiveDirectoryAuthorityHost: "https://login.microsoftonline.com/",
			Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
				cloud.ResourceManager: {Endpoint: e.ARMURL(), Audience: "https://management.core.windows.net/"},
			},
		},
		Transport: e.HTTPClient(),
		Retry:     policy.RetryOptions{RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 3 * time.Second},
	}}
}

// TestSDKClients drives the emulator with the real SDK clients and a real
// ManagedIdentityCredential, as the product does.
func TestSDKClients(t *testing.T) {
	w := newWorld()
	est := w.estate()
	est.PageSize = 2
	// "me" holds only a just-in-time Contributor on jit, which grants nothing; the
	// Delete Role lets it read the delegation (ARM checks registrationAssignments/read).
	est.Subscriptions[2].Delegations[0].Authorizations = append(est.Subscriptions[2].Delegations[0].Authorizations,
		Authorization{PrincipalID: w.me.ObjectID, RoleDefinitionID: RoleManagedServicesRegistrationAssignmentDelete})
	e := start(t, est, nil)
	t.Setenv("IDENTITY_ENDPOINT", e.IdentityEndpoint())
	t.Setenv("IDENTITY_HEADER", e.IdentityHeader())
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(w.me.ClientID)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	t.Run("armsubscriptions lists every page", func(t *testing.T) {
		subs, err := armsubscriptions.NewClient(cred, clientOptions(e))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		pages := 0
		for pager := subs.NewListPager(nil); pager.More(); {
			page, err := pager.NextPage(ctx)
			if err != nil {
				t.Fatalf("NextPage: %v", err)
			}
			pages++
			for _, s := range page.Value {
				got = append(got, *s.SubscriptionID)
			}
		}
		if want := w.reachableByMe(); !slices.Equal(got, want) || pages != 2 {
			t.Errorf("listed %v in %d pages, want %v in 2", got, pages, want)
		}
		g, err := subs.Get(ctx, w.permanent, nil)
		if err != nil || *g.TenantID != w.customer || len(g.ManagedByTenants) != 1 || *g.ManagedByTenants[0].TenantID != w.managing {
			t.Errorf("Get = %+v, %v", g, err)
		}
		_, err = subs.Get(ctx, w.othersOnly, nil)
		var re *azcore.ResponseError
		if !errors.As(err, &re) || re.StatusCode != 401 || re.ErrorCode != "InvalidAuthenticationTokenTenant" {
			t.Errorf("Get unreachable: %v", err)
		}
	})

	t.Run("armmanagedservices expands definitions", func(t *testing.T) {
		ra, err := armmanagedservices.NewRegistrationAssignmentsClient(cred, clientOptions(e))
		if err != nil {
			t.Fatal(err)
		}
		pager := ra.NewListPager("subscriptions/"+w.jit, &armmanagedservices.RegistrationAssignmentsClientListOptions{ExpandRegistrationDefinition: to.Ptr(true)})
		var n int
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range page.Value {
				n++
				def := a.Properties.RegistrationDefinition.Properties
				if *def.ManagedByTenantID != w.managing || len(def.EligibleAuthorizations) != 1 ||
					*def.EligibleAuthorizations[0].PrincipalID != w.me.ObjectID ||
					*def.EligibleAuthorizations[0].JustInTimeAccessPolicy.MultiFactorAuthProvider != armmanagedservices.MultiFactorAuthProviderNone {
					t.Errorf("definition = %+v", def)
				}
			}
		}
		if n != 1 {
			t.Errorf("assignments = %d, want 1", n)
		}
	})

	t.Run("armauthorization reads role definitions", func(t *testing.T) {
		rd, err := armauthorization.NewRoleDefinitionsClient(cred, clientOptions(e))
		if err != nil {
			t.Fatal(err)
		}
		for _, scope := range []string{"", "subscriptions/" + w.permanent} {
			r, err := rd.Get(ctx, scope, RoleSupportRequestContributor, nil)
			if err != nil {
				t.Fatalf("Get(%q): %v", scope, err)
			}
			if *r.Properties.RoleName != "Support Request Contributor" || *r.Properties.RoleType != "BuiltInRole" {
				t.Errorf("role = %+v", r.Properties)
			}
		}
		_, err = rd.Get(ctx, "", newGUID(), nil)
		var re *azcore.ResponseError
		if !errors.As(err, &re) || re.StatusCode != 404 || re.ErrorCode != "RoleDefinitionDoesNotExist" {
			t.Errorf("unknown role: %v", err)
		}
	})

	t.Run("azcore retries a 429 honouring Retry-After", func(t *testing.T) {
		subs, _ := armsubscriptions.NewClient(cred, clientOptions(e))
		e.ResetRequests()
		e.InjectFault(Fault{Status: 429, RetryAfter: time.Second, Times: 1, PathContains: "/subscriptions/" + w.direct})
		t0 := time.Now()
		if _, err := subs.Get(ctx, w.direct, nil); err != nil {
			t.Fatalf("Get after one 429: %v", err)
		}
		if took := time.Since(t0); took < time.Second {
			t.Errorf("retried after %v, want >= Retry-After (1s)", took)
		}
		var statuses []int
		for _, r := range e.Requests() {
			if r.Target == TargetARM {
				statuses = append(statuses, r.Status)
			}
		}
		if !slices.Equal(statuses, []int{429, 200}) {
			t.Errorf("statuses = %v, want [429 200]", statuses)
		}
	})
}

// TestCertFileTrustedByChild runs this test binary as a child process that trusts
// the server only through SSL_CERT_FILE, as the handler binary will.
func TestCertFileTrustedByChild(t *testing.T) {
	if u := os.Getenv("EMULATOR_TEST_CHILD_URL"); u != "" {
		resp, err := http.Get(u) // the default client: system roots, i.e. SSL_CERT_FILE
		if err != nil {
			fmt.Println("child error:", err)
			os.Exit(3)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Println("child status:", resp.StatusCode)
		return
	}
	w := newWorld()
	e := start(t, w.estate(), nil)
	run := func(certFile string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCertFileTrustedByChild$")
		cmd.Env = append(os.Environ(), "EMULATOR_TEST_CHILD_URL="+e.ARMURL()+"/subscriptions?api-version=2022-12-01", "SSL_CERT_FILE="+certFile, "SSL_CERT_DIR=/nonexistent")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run(e.CertFile())
	if err != nil || !strings.Contains(out, "child status: 401") {
		t.Errorf("child trusting CertFile: %v\n%s", err, out)
	}
	other := start(t, w.estate(), &Options{Dir: t.TempDir()})
	out, err = run(other.CertFile())
	if err == nil || !strings.Contains(out, "child error:") {
		t.Errorf("child trusting another emulator's certificate connected: %v\n%s", err, out)
	}
	for _, k := range []string{"IDENTITY_ENDPOINT=", "IDENTITY_HEADER=", "SSL_CERT_FILE=" + e.CertFile(), "PAL_ARM_ENDPOINT=" + e.ARMURL()} {
		if !slices.ContainsFunc(e.Environ(), func(s string) bool { return strings.HasPrefix(s, k) }) {
			t.Errorf("Environ() lacks %s", k)
		}
	}
}
