package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// world is a small estate with fresh random IDs, so MSAL's process-wide managed
// identity token cache never hands one test's token to another.
type world struct {
	managing, customer, foreign string // tenants
	me, other                   Identity
	// subscriptions, by what the identity "me" can do with them
	direct, permanent, jit, othersOnly, foreignManager, sameTenantNoAccess string
}

func newWorld() world {
	w := world{managing: newGUID(), customer: newGUID(), foreign: newGUID()}
	w.me = Identity{ClientID: newGUID(), TenantID: w.managing, ObjectID: newGUID(), DisplayName: "me"}
	w.other = Identity{ClientID: newGUID(), TenantID: w.managing, ObjectID: newGUID(), DisplayName: "other"}
	w.direct, w.permanent, w.jit = newGUID(), newGUID(), newGUID()
	w.othersOnly, w.foreignManager, w.sameTenantNoAccess = newGUID(), newGUID(), newGUID()
	return w
}

func (w world) estate() Estate {
	del := func(mgr, oid string, eligible bool) []Delegation {
		a := []Authorization{{PrincipalID: oid, PrincipalDisplayName: "p", RoleDefinitionID: RoleContributor}}
		d := Delegation{DefinitionName: "d", ManagedByTenantID: mgr}
		if eligible {
			d.Authorizations = []Authorization{{PrincipalID: w.other.ObjectID, RoleDefinitionID: RoleReader}}
			d.EligibleAuthorizations = a
		} else {
			d.Authorizations = a
		}
		return []Delegation{d}
	}
	return Estate{
		Tenants:    []Tenant{{ID: w.managing, Name: "Managing"}, {ID: w.customer, Name: "Customer"}, {ID: w.foreign, Name: "Foreign MSP"}},
		Identities: []Identity{w.me, w.other},
		Subscriptions: []Subscription{
			{ID: w.direct, TenantID: w.managing, DisplayName: "direct", DirectAccess: []string{w.me.ObjectID}},
			{ID: w.permanent, TenantID: w.customer, DisplayName: "permanent", Delegations: del(w.managing, w.me.ObjectID, false)},
			{ID: w.jit, TenantID: w.customer, DisplayName: "jit", Delegations: del(w.managing, w.me.ObjectID, true)},
			{ID: w.othersOnly, TenantID: w.customer, DisplayName: "others only", Delegations: del(w.managing, w.other.ObjectID, false)},
			{ID: w.foreignManager, TenantID: w.customer, DisplayName: "foreign manager", Delegations: del(w.foreign, w.me.ObjectID, false)},
			{ID: w.sameTenantNoAccess, TenantID: w.managing, DisplayName: "same tenant, no access", DirectAccess: []string{w.other.ObjectID}},
		},
	}
}

// reachableByMe are the subscriptions "me" reaches, sorted.
func (w world) reachableByMe() []string {
	ids := []string{w.direct, w.permanent, w.jit}
	slices.Sort(ids)
	return ids
}

func start(t *testing.T, est Estate, opts *Options) *Emulator {
	t.Helper()
	e, err := New(est, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(e.Close)
	return e
}

func armToken(t *testing.T, e *Emulator, clientID string) string {
	t.Helper()
	tok, _, err := e.Token(clientID, "https://management.azure.com/")
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return tok
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("body %q: %v", a.body, err)
	}
	return m
}

// code returns the ARM error code of the body, checking the header agrees.
func (a answer) code(t *testing.T) string {
	t.Helper()
	if a.status < 400 {
		return ""
	}
	var b armErrorBody
	if err := json.Unmarshal(a.body, &b); err != nil {
		t.Fatalf("error body %q: %v", a.body, err)
	}
	if h := a.header.Get("x-ms-error-code"); h != b.Error.Code {
		t.Errorf("x-ms-error-code = %q, body code %q", h, b.Error.Code)
	}
	if b.Error.Message == "" {
		t.Errorf("error %s has no message", b.Error.Code)
	}
	return b.Error.Code
}

// call sends a request to the ARM server; pathQuery is relative to ARMURL or absolute.
func call(t *testing.T, e *Emulator, method, pathQuery, token string) answer {
	t.Helper()
	u := pathQuery
	if !strings.HasPrefix(u, "https://") {
		u = e.ARMURL() + pathQuery
	}
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, pathQuery, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// tryCall is call for goroutines other than the test's: it reports instead of failing.
func tryCall(e *Emulator, method, path, token string) (int, error) {
	req, err := http.NewRequest(method, e.ARMURL()+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.HTTPClient().Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}
