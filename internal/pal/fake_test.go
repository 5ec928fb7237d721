package pal

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	home     = "11111111-1111-1111-1111-111111111111"
	oid      = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
	custA    = "22222222-2222-2222-2222-222222222222"
	custB    = "33333333-3333-3333-3333-333333333333"
	roleCont = "b24988ac-6180-42a0-ab88-20f7382dd24c"
	roleRead = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
	roleSRC  = "cfd33db0-3dd1-45e3-aa9d-cdbdf3b6f24e"
	roleVMC  = "9980e02c-c2be-4d73-94e8-173b1dc7cf3c" // Virtual Machine Contributor, not in wellKnownRoles
)

// fakeAzure is an in-memory Azure for engine tests.
type fakeAzure struct {
	mu        sync.Mutex
	link      *Link
	subs      map[string]Subscription
	dels      map[string][]Delegation
	roleDefs  map[string]RoleDefinition
	errs      map[string]error // keyed by "op:id"
	writes    []string
	roleCalls atomic.Int32
	inFlight  atomic.Int32
	maxFlight atomic.Int32
	delay     time.Duration
	// raceOnPut makes the first PUT fail with PartnerIdAlreadyLinked after setting this link.
	raceOnPut *Link
	// perms are the effective permissions per subscription, rgs its first
	// resource group, builtins the built-in role definitions.
	perms        map[string][]PermissionSet
	rgs          map[string]string
	builtins     []RoleDefinition
	builtinCalls atomic.Int32
	permCalls    []string
}

func newFake() *fakeAzure {
	return &fakeAzure{
		subs:     map[string]Subscription{},
		dels:     map[string][]Delegation{},
		roleDefs: map[string]RoleDefinition{roleVMC: {ID: roleVMC, Name: "Virtual Machine Contributor", BuiltIn: true}},
		errs:     map[string]error{},
		perms:    map[string][]PermissionSet{},
		rgs:      map[string]string{},
		builtins: []RoleDefinition{
			{ID: roleSRC, Name: "Support Request Contributor", BuiltIn: true, Permissions: []PermissionSet{setSRC}},
			{ID: roleRead, Name: "Reader", BuiltIn: true, Permissions: []PermissionSet{setReader}},
			{ID: roleCont, Name: "Contributor", BuiltIn: true, Permissions: []PermissionSet{setCont}},
		},
	}
}

// Permission sets of the fake's built-in roles.
var (
	setSRC    = PermissionSet{Actions: []string{"Microsoft.Authorization/*/read", "Microsoft.Resources/subscriptions/resourceGroups/read", "Microsoft.Support/*"}}
	setReader = PermissionSet{Actions: []string{"*/read"}}
	setCont   = PermissionSet{Actions: []string{"*"}, NotActions: []string{"Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write"}}
)

// forbidden is the error of a 403.
var forbidden = &Error{Code: CodeForbidden, Message: "AuthorizationFailed"}

func (f *fakeAzure) EffectivePermissions(ctx context.Context, sub, rg string) ([]PermissionSet, error) {
	key := sub
	if rg != "" {
		key += "/" + rg
	}
	f.mu.Lock()
	f.permCalls = append(f.permCalls, key)
	f.mu.Unlock()
	if err := f.err("perms", key); err != nil {
		return nil, err
	}
	return f.perms[sub], nil
}

func (f *fakeAzure) FirstResourceGroup(ctx context.Context, sub string) (string, error) {
	if err := f.err("rgs", sub); err != nil {
		return "", err
	}
	return f.rgs[sub], nil
}

func (f *fakeAzure) ListBuiltInRoles(ctx context.Context, sub string) ([]RoleDefinition, error) {
	f.builtinCalls.Add(1)
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	if err := f.err("builtins", sub); err != nil {
		return nil, err
	}
	return f.builtins, nil
}

func (f *fakeAzure) azure() Azure {
	return Azure{Links: f, Subscriptions: f, Delegations: f, Roles: f, Principal: f,
		Permissions: f, ResourceGroups: f, BuiltInRoles: f}
}

// addSub adds a subscription with one delegation from home granting oid the
// given permanent and just-in-time roles.
func (f *fakeAzure) addSub(id, tenant string, permanent, jit []string) {
	f.subs[id] = Subscription{ID: id, TenantID: tenant, DisplayName: "sub " + id[:4], State: "Enabled"}
	d := Delegation{ManagedByTenantID: home}
	for _, r := range permanent {
		d.Authorizations = append(d.Authorizations, Authorization{PrincipalID: oid, RoleDefinitionID: r})
	}
	for _, r := range jit {
		d.EligibleAuthorizations = append(d.EligibleAuthorizations, Authorization{PrincipalID: oid, RoleDefinitionID: r})
	}
	f.dels[id] = []Delegation{d}
}

func (f *fakeAzure) err(op, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.errs[op+":"+id]
}

func (f *fakeAzure) Principal(ctx context.Context) (Principal, error) {
	if err := f.err("principal", ""); err != nil {
		return Principal{}, err
	}
	return Principal{TenantID: home, ObjectID: oid}, nil
}

func (f *fakeAzure) CurrentLink(ctx context.Context) (*Link, error) {
	if err := f.err("get", ""); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.link == nil {
		return nil, nil
	}
	l := *f.link
	return &l, nil
}

func (f *fakeAzure) CreateLink(ctx context.Context, id string) (*Link, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes = append(f.writes, "PUT "+id)
	if f.raceOnPut != nil {
		f.link, f.raceOnPut = f.raceOnPut, nil
		return nil, &Error{Code: CodeAlreadyLinked, Message: "already linked"}
	}
	if f.link.Active() {
		return nil, &Error{Code: CodeAlreadyLinked, Message: "already linked"}
	}
	f.link = &Link{PartnerID: id, TenantID: home, ObjectID: oid, State: "Active"}
	return f.link, nil
}

func (f *fakeAzure) UpdateLink(ctx context.Context, id string) (*Link, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes = append(f.writes, "PATCH "+id)
	if !f.link.Active() {
		return nil, &Error{Code: CodeNotFound, Message: "no link"}
	}
	f.link.PartnerID = id
	return f.link, nil
}

func (f *fakeAzure) ListSubscriptions(ctx context.Context) ([]Subscription, error) {
	if err := f.err("list", ""); err != nil {
		return nil, err
	}
	var out []Subscription
	for _, s := range f.subs {
		out = append(out, s)
	}
	return out, nil
}

func (f *fakeAzure) GetSubscription(ctx context.Context, id string) (*Subscription, error) {
	if err := f.err("sub", id); err != nil {
		return nil, err
	}
	s, ok := f.subs[id]
	if !ok {
		return nil, &Error{Code: CodeNotFound, Message: "subscription not found"}
	}
	return &s, nil
}

func (f *fakeAzure) ListDelegations(ctx context.Context, id string) ([]Delegation, error) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxFlight.Load()
		if n <= m || f.maxFlight.CompareAndSwap(m, n) {
			break
		}
	}
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	if err := f.err("dels", id); err != nil {
		return nil, err
	}
	return f.dels[id], nil
}

func (f *fakeAzure) GetRoleDefinition(ctx context.Context, id string) (*RoleDefinition, error) {
	f.roleCalls.Add(1)
	if err := f.err("role", id); err != nil {
		return nil, err
	}
	d, ok := f.roleDefs[strings.ToLower(id)]
	if !ok {
		return nil, &Error{Code: CodeNotFound, Message: "no such role"}
	}
	return &d, nil
}
