package azure

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/rs/zerolog"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// examplesDir holds Microsoft's example responses from Azure/azure-rest-api-specs,
// verbatim (see its README.md for each file's source path).
const examplesDir = "../testenv/emulator/testdata/examples"

// example returns the 200 body of a Microsoft example with each identifier
// of subst replaced (old → new), as a string.
func example(t *testing.T, name string, subst map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(examplesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var ex struct {
		Responses map[string]struct {
			Body json.RawMessage `json:"body"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	body := string(ex.Responses["200"].Body)
	if body == "" {
		t.Fatalf("%s: no 200 body", name)
	}
	for old, new := range subst {
		if !strings.Contains(body, old) {
			t.Fatalf("%s: no %q to substitute", name, old)
		}
		body = strings.ReplaceAll(body, old, new)
	}
	return body
}

// TestMicrosoftExamplesVerdicts (issue 15 item 11) serves Microsoft's own
// example responses, verbatim but for identifiers, to the real adapters and
// engine, and checks the verdicts they imply: the example delegation gives one
// principal a permanent Reader and User Access Administrator (PEC-eligible),
// another only a just-in-time Owner.
func TestMicrosoftExamplesVerdicts(t *testing.T) {
	const (
		sub      = "291bba3f-e0a5-47bc-a099-3bdcb2a50a05" // GetSubscription.json's own
		customer = "31c75423-32d6-4322-88b7-c478bdde4858"
		// the principals of GetRegistrationAssignmentsWithManagedByTenantIdEqFilter.json
		permanentPrincipal = "f98d86a2-4cc4-4e9d-ad47-b3e80a1bcdfc"
		jitPrincipal       = "700bddf4-2c3b-4cd1-bb02-6a2c622524f4"
	)
	tests := []struct {
		name      string
		us        string // the example principal that is the caller
		want      pal.Status
		wantRoles []string
	}{
		{"permanent Reader and User Access Administrator", permanentPrincipal, pal.StatusAttributed, []string{"Reader", "User Access Administrator"}},
		{"just-in-time Owner only", jitPrincipal, pal.StatusIneligibleRole, nil},
		{"not in the delegation", "", pal.StatusNotDelegated, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			delegSubst := map[string]string{
				"0afefe50-734e-4610-8c82-a144aff49dea": sub,        // the subscription in the ids
				"83abe5cd-bcc3-441a-bd86-e6a75360cecc": testTenant, // managedByTenantId: the caller's tenant
				"01c0bcd5-4f47-4e4b-b492-418b7e2a8854": customer,
			}
			if tt.us != "" {
				delegSubst[tt.us] = testObject
			}
			partner := example(t, "GetPartnerDetailsNoPartnerId.json", map[string]string{
				"1b1121dd-6900-412a-af73-e8d44f81e1c1": testTenant, "aa67f786-0552-423e-8849-244ed12bf581": testObject,
			})
			subscription := example(t, "GetSubscription.json", map[string]string{"8f70baf1-1f6e-46a2-a1ff-238dac1ebfb7": testTenant})
			delegations := example(t, "GetRegistrationAssignmentsWithManagedByTenantIdEqFilter.json", delegSubst)
			at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
				p := strings.ToLower(r.URL.Path)
				switch {
				case p == "/providers/microsoft.managementpartner/partners":
					writeJSON(w, 200, partner)
				case p == "/subscriptions/"+sub:
					writeJSON(w, 200, subscription)
				case p == "/subscriptions/"+sub+"/providers/microsoft.managedservices/registrationassignments":
					writeJSON(w, 200, delegations)
				default:
					armError(w, 404, "NotFound", "not in the examples: "+r.Method+" "+r.URL.Path)
				}
			}, nil)
			engine, err := pal.NewEngine("123456", pal.Azure{
				Links: at.clients.Partner, Subscriptions: at.clients.Subscriptions, Delegations: at.clients.Delegations,
				Roles: at.clients.Roles, Principal: at.clients.Principal, Permissions: at.clients.Permissions,
				ResourceGroups: at.clients.ResourceGroups, BuiltInRoles: at.clients.Permissions,
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			log := zerolog.Nop()
			res, err := engine.Status(context.Background(), &log, pal.Request{TenantID: customer, SubscriptionIDs: []string{sub}})
			if err != nil {
				t.Fatalf("Status: %v", err)
			}
			if res.Link.PartnerID != "123456" {
				t.Errorf("link = %+v, want partner 123456 from the example", res.Link)
			}
			if len(res.Results) != 1 {
				t.Fatalf("results = %+v, want one", res.Results)
			}
			got := res.Results[0]
			if got.Status != tt.want || got.DisplayName != "Example Subscription" || got.TenantID != customer {
				t.Errorf("verdict = %+v, want %s for %q in tenant %s", got, tt.want, "Example Subscription", customer)
			}
			for _, r := range tt.wantRoles {
				if !strings.Contains(strings.Join(got.Roles, ","), r) {
					t.Errorf("roles = %q, want %s among them", got.Roles, r)
				}
			}
		})
	}
}

// TestMicrosoftExamplesParse: the adapters read every other example Microsoft
// gives for the calls they make: PUT and PATCH of the link, the subscription
// list, a role definition by ID (a custom role), and a role-assignment list.
func TestMicrosoftExamplesParse(t *testing.T) {
	const sub = "a925f2f7-5c63-4b7b-8799-25a5f97bc3b2" // RoleAssignments_ListForScope.json's own
	put := example(t, "PutPartnerDetails.json", nil)
	patch := example(t, "PatchPartnerDetails.json", nil)
	subs := example(t, "GetSubscriptions.json", map[string]string{`"nextLink": "..."`: `"nextLink": ""`})
	role := example(t, "GetRoleDefinitionById.json", map[string]string{"roleDefinitionId": "0b5fe924-9a61-425c-96af-cfe6e287ca2d"})
	assignments := example(t, "RoleAssignments_ListForScope.json", map[string]string{"ce2ce14e-85d7-4629-bdbc-454d0519d987": testObject})
	at := newARMTest(t, func(w http.ResponseWriter, r *http.Request) {
		p := strings.ToLower(r.URL.Path)
		switch {
		case r.Method == http.MethodPut && strings.HasPrefix(p, "/providers/microsoft.managementpartner/partners/"):
			writeJSON(w, 200, put)
		case r.Method == http.MethodPatch && strings.HasPrefix(p, "/providers/microsoft.managementpartner/partners/"):
			writeJSON(w, 200, patch)
		case p == "/subscriptions":
			writeJSON(w, 200, subs)
		case strings.HasSuffix(p, "/providers/microsoft.authorization/roledefinitions/0b5fe924-9a61-425c-96af-cfe6e287ca2d"):
			writeJSON(w, 200, role)
		case p == "/subscriptions/"+sub+"/providers/microsoft.authorization/roleassignments":
			writeJSON(w, 200, assignments)
		default:
			armError(w, 404, "NotFound", "not in the examples: "+r.Method+" "+r.URL.Path)
		}
	}, nil)
	ctx := context.Background()
	for name, write := range map[string]func(context.Context, string) (*pal.Link, error){"PUT": at.clients.Partner.CreateLink, "PATCH": at.clients.Partner.UpdateLink} {
		l, err := write(ctx, "123456")
		if err != nil || l.PartnerID != "123456" || l.PartnerName != "Test_jefl" || !l.Active() {
			t.Errorf("%s: link = %+v, %v; want 123456 Test_jefl, active", name, l, err)
		}
	}
	ss, err := at.clients.Subscriptions.ListSubscriptions(ctx)
	if err != nil || len(ss) != 2 || ss[1].ID != "72ac930a-f34e-42d8-b06d-dc2a9e12ed71" || ss[1].TenantID != "2a0ff0de-96b2-4859-bb7c-a430d07a3e0c" || ss[0].DisplayName != "Example Subscription" {
		t.Errorf("subscriptions = %+v, %v; want the example's two", ss, err)
	}
	rd, err := at.clients.Roles.GetRoleDefinition(ctx, "/subscriptions/"+sub+"/providers/Microsoft.Authorization/roleDefinitions/0b5fe924-9a61-425c-96af-cfe6e287ca2d")
	if err != nil || rd.Name != "Role name" || rd.BuiltIn {
		t.Errorf("role definition = %+v, %v; want the custom role \"Role name\"", rd, err)
	}
	cfg, err := CloudConfig(CloudAzurePublic, at.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rac, err := NewRoleAssignmentClient(at.cred, armOptions(cfg, &ClientsOptions{Transport: at.srv.Client(), Retry: policy.RetryOptions{MaxRetries: -1}}))
	if err != nil {
		t.Fatal(err)
	}
	ras, err := rac.ListRoleAssignments(ctx, sub, testObject)
	if err != nil || len(ras) != 1 || ras[0].RoleDefinitionID != "0b5fe924-9a61-425c-96af-cfe6e287ca2d" || ras[0].PrincipalID != testObject {
		t.Errorf("role assignments = %+v, %v; want the example's one", ras, err)
	}
}
