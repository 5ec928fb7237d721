// Package emulator is an in-process Azure for end-to-end tests and for the
// sandbox: an HTTPS server on 127.0.0.1 speaking the Azure Resource Manager paths
// and shapes pal-keeper uses, and a managed identity endpoint speaking the App
// Service protocol on plain http 127.0.0.1.
//
// Programs reach it only through their ordinary settings: IDENTITY_ENDPOINT and
// IDENTITY_HEADER for azidentity's ManagedIdentityCredential, the ARM endpoint
// setting for the clients, and SSL_CERT_FILE for trusting the server's
// certificate ([Emulator.Environ] lists them).
//
// A third server (HTTPS, same certificate) is Entra ID's token endpoint for an
// app registration's federated client assertion ([Emulator.AuthorityURL],
// entra.go); ARM then also authorizes by role assignments at subscriptions and
// management groups, Azure RBAC without Lighthouse (roleassignments.go).
//
// ARM (see [Emulator.ARMURL]):
//   - GET /subscriptions, GET /subscriptions/{id}
//   - GET /tenants (Home and the ProjectedBy tenants that delegate to the caller)
//   - GET /subscriptions/{id}/providers/Microsoft.ManagedServices/registrationAssignments[/{id}]
//     ($expandRegistrationDefinition=true adds the definition)
//   - GET [/subscriptions/{id}]/providers/Microsoft.Authorization/roleDefinitions[/{guid}]
//     ($filter=type eq '…' or roleName eq '…' on the list)
//   - GET /subscriptions/{id}[/resourceGroups/{rg}]/providers/Microsoft.Authorization/permissions
//   - GET /subscriptions/{id}/resourcegroups
//   - GET /providers/Microsoft.ManagementPartner/partners and
//     GET, PUT, PATCH, DELETE /providers/Microsoft.ManagementPartner/partners/{partnerId}
//
// Every request needs a bearer token the emulator issued (tid and oid name the
// caller, aud must be ARM's) and an api-version query parameter (any value).
// Lists page with nextLink at [Estate.PageSize]. Errors are ARM's
// {"error":{"code","message"}} with the code also in x-ms-error-code; a path the
// emulator does not serve answers 404 EmulatorRouteNotFound and is recorded with
// [Request.Unhandled] set.
//
// Who reaches what is decided by [Subscription]'s reachability rule (direct access
// in the subscription's tenant, or a delegation managed by the caller's tenant
// naming the caller permanently or just-in-time). A subscription the caller cannot
// reach answers 401 InvalidAuthenticationTokenTenant when it lives in another tenant
// and 403 AuthorizationFailed when it lives in the caller's tenant; an unknown one
// 404 SubscriptionNotFound.
//
// Every read of a subscription's contents is authorized as ARM does it, with the
// caller's effective actions there: the actions minus notActions of the roles of
// the permanent authorizations that name it in the delegations its tenant
// manages (Owner for direct access), wildcards matched case-insensitively.
// Built-in roles carry their real permissions (see roles.go); just-in-time
// authorizations grant nothing. A refused read answers 403 AuthorizationFailed
// with ARM's message. The actions: registration assignments
// Microsoft.ManagedServices/registrationAssignments/read, role definitions at
// subscription scope Microsoft.Authorization/roleDefinitions/read (at the tenant
// root any caller reads them), resource groups
// Microsoft.Resources/subscriptions/resourceGroups/read. The subscription itself
// and the effective permissions answer any caller that reaches the subscription.
// [Emulator.RefuseSubscriptionPermissions] refuses the subscription-scope
// permissions call.
//
// Authorizations and role assignments may name Entra groups ([Estate.Groups]):
// they reach and grant their role to every (nested) member. A fourth server
// is Microsoft Graph's transitiveMemberOf ([Emulator.GraphURL], graph.go).
//
// Faults ([Emulator.InjectFault]) and an optional per-principal token-bucket
// throttle ([Throttle]) simulate trouble. Everything is safe for concurrent use.
package emulator

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// DefaultTokenLifetime is how long issued tokens are valid unless
// [Options.TokenLifetime] says otherwise (managed identity tokens last about a day).
const DefaultTokenLifetime = 24 * time.Hour

// IdentityPath is the path of the managed identity endpoint on its server.
const IdentityPath = "/msi/token"

// Options are the optional settings of [New].
type Options struct {
	// Dir is where the certificate PEM file is written; empty means a new
	// temporary directory, removed by Close.
	Dir string
	// Logger receives one debug line per request (never a token); nil means none.
	Logger *zerolog.Logger
	// TokenLifetime is the lifetime of issued tokens; zero means DefaultTokenLifetime.
	TokenLifetime time.Duration
	// Throttle, when not nil, limits ARM requests per principal.
	Throttle *Throttle
}

// Throttle is a token-bucket limit per principal (tid, oid), like ARM's: reads
// (GET, HEAD) and writes have their own buckets. A request finding its bucket
// empty gets 429 TooManyRequests with Retry-After. A zero rate means no limit for
// that kind.
type Throttle struct {
	ReadsPerSecond  float64
	ReadBurst       int
	WritesPerSecond float64
	WriteBurst      int
}

// Target selects the server a [Fault] applies to.
type Target string

// Targets.
const (
	// TargetARM is the Resource Manager server (the default for a zero Target).
	TargetARM Target = "arm"
	// TargetIdentity is the managed identity endpoint.
	TargetIdentity Target = "identity"
)

// Fault makes matching requests fail or slow down. A request matches when its
// target, method (empty: any) and path (PathContains is a case-insensitive
// substring of the URL path; empty: any) match. The first matching fault applies,
// before authentication: after Latency, Drop closes the connection without an
// answer; a non-zero Status (100–599) answers with that status and Retry-After
// when RetryAfter > 0 (ARM: an ARM error body and x-ms-error-code with ErrorCode,
// or the status's usual code such as TooManyRequests; identity endpoint: App
// Service's {"statusCode","message"} body); with neither the request then goes on
// normally.
type Fault struct {
	Target       Target
	Method       string
	PathContains string
	// Path, when set, must equal the URL path (case-insensitive): with
	// QueryContains, a fault hits one page of one listing.
	Path      string
	Status    int
	ErrorCode string
	// RetryAfter is sent as a Retry-After header in whole seconds (rounded up).
	RetryAfter time.Duration
	// Times is how many requests the fault applies to; 0 means every one.
	Times   int
	Latency time.Duration
	Drop    bool
	// QueryContains, when set, must also be a substring of the query, raw
	// or unescaped (e.g. "$skiptoken=500": one page of a listing).
	QueryContains string
	// Hold, when set, holds a matching request (after Latency) until it is
	// closed, the request ends (the client went away) or the emulator closes:
	// a test can stop a caller at a known point, e.g. mid-listing.
	Hold <-chan struct{}
}

// Request is one request the emulator received.
type Request struct {
	Target Target
	Method string
	Path   string
	Query  url.Values
	// Status is the answer's status; 0 when the connection was dropped.
	Status int
	// ErrorCode is the error code of an error answer.
	ErrorCode string
	// TenantID and ObjectID name the caller (ARM: from a valid-looking token;
	// Identity: the identity a token was issued for).
	TenantID string
	ObjectID string
	At       time.Time
	// Faulted says an injected fault delayed, dropped or answered the request.
	Faulted bool
	// Unhandled says the emulator does not serve the path.
	Unhandled bool
}

// IsWrite reports whether r is an ARM write (PUT, PATCH, DELETE or POST).
func (r Request) IsWrite() bool {
	switch r.Method {
	case http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodPost:
		return r.Target == TargetARM
	}
	return false
}

type principal struct{ tid, oid string }

type faultEntry struct {
	Fault
	used int
}

type bucket struct {
	tokens float64
	last   time.Time
}

// Emulator is a running emulated Azure. Create it with [New] and stop it with Close.
type Emulator struct {
	arm, ids       *httptest.Server
	entra          *httptest.Server
	graph          *httptest.Server
	transport      *http.Transport
	certFile       string
	tmpDir         string
	marker         string
	identityHeader string
	tokenLifetime  time.Duration
	throttle       *Throttle
	log            zerolog.Logger
	closing        chan struct{}
	closeOnce      sync.Once
	armRoutes      []armRoute

	stats stats

	mu       sync.Mutex
	estate   Estate         // Links is kept in links instead
	subIdx   map[string]int // subscription ID → index in estate.Subscriptions; nil: rebuild
	links    map[principal]*Link
	requests []Request
	faults   []*faultEntry
	buckets  map[string]*bucket
	// refuseSubscriptionPermissions: see RefuseSubscriptionPermissions.
	refuseSubscriptionPermissions bool
}

// New starts an emulator serving estate (which is copied and validated).
func New(estate Estate, opts *Options) (*Emulator, error) {
	if opts == nil {
		opts = &Options{}
	}
	est, err := normEstate(estate)
	if err != nil {
		return nil, err
	}
	e := &Emulator{
		estate:         est,
		links:          map[principal]*Link{},
		buckets:        map[string]*bucket{},
		marker:         randomHex(24),
		identityHeader: randomHex(16),
		tokenLifetime:  opts.TokenLifetime,
		closing:        make(chan struct{}),
		log:            zerolog.Nop(),
	}
	e.armRoutes = append(e.routes(), e.directRoutes()...)
	if e.tokenLifetime <= 0 {
		e.tokenLifetime = DefaultTokenLifetime
	}
	if opts.Logger != nil {
		e.log = opts.Logger.With().Str("component", "emulator").Logger()
	}
	if t := opts.Throttle; t != nil {
		if t.ReadsPerSecond < 0 || t.WritesPerSecond < 0 || t.ReadBurst < 0 || t.WriteBurst < 0 {
			return nil, errors.New("emulator: negative throttle setting")
		}
		tc := *t
		e.throttle = &tc
	}
	now := time.Now().UTC()
	for _, l := range est.Links {
		if l.Version == 0 {
			l.Version = 1
		}
		if l.CreatedTime.IsZero() {
			l.CreatedTime = now
		}
		if l.UpdatedTime.IsZero() {
			l.UpdatedTime = l.CreatedTime
		}
		e.links[principal{l.TenantID, l.ObjectID}] = &l
	}
	e.estate.Links = nil

	cert, certPEM, err := newCertificate()
	if err != nil {
		return nil, err
	}
	dir := opts.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "pal-emulator-"); err != nil {
			return nil, fmt.Errorf("emulator: %w", err)
		}
		e.tmpDir = dir
	}
	if err := e.writeCertFile(dir, certPEM); err != nil {
		e.removeFiles()
		return nil, fmt.Errorf("emulator: writing certificate: %w", err)
	}

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	e.transport = &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: false,
	}

	errLog := log.New(logWriter{e.log}, "", 0)
	e.arm = httptest.NewUnstartedServer(http.HandlerFunc(e.serveARM))
	e.arm.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	e.arm.Config.ErrorLog = errLog
	e.arm.Config.ConnState = e.stats.connState
	e.arm.StartTLS()
	e.startEntra(cert, errLog)
	e.startGraph(cert, errLog)
	e.ids = httptest.NewUnstartedServer(http.HandlerFunc(e.serveIdentity))
	e.ids.Config.ErrorLog = errLog
	e.ids.Start()
	e.log.Info().Str("arm", e.arm.URL).Str("entra", e.entra.URL).Str("identity", e.IdentityEndpoint()).Msg("azure emulator started")
	return e, nil
}

// writeCertFile writes the certificate PEM to a new file in dir, readable by all.
func (e *Emulator) writeCertFile(dir string, certPEM []byte) error {
	f, err := os.CreateTemp(dir, "emulator-ca-*.pem")
	if err != nil {
		return err
	}
	e.certFile = f.Name()
	_, err = f.Write(certPEM)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(e.certFile, 0o644)
	}
	return err
}

// logWriter sends the HTTP servers' own error lines to the logger.
type logWriter struct{ l zerolog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.Debug().Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (e *Emulator) removeFiles() {
	if e.tmpDir != "" {
		_ = os.RemoveAll(e.tmpDir)
	} else if e.certFile != "" {
		_ = os.Remove(e.certFile)
	}
}

// Close stops both servers, ends requests that wait on injected latency, and
// removes the certificate file. It is safe to call more than once.
func (e *Emulator) Close() {
	e.closeOnce.Do(func() {
		close(e.closing)
		e.arm.CloseClientConnections()
		e.arm.Close()
		e.entra.CloseClientConnections()
		e.entra.Close()
		e.graph.CloseClientConnections()
		e.graph.Close()
		e.ids.Close()
		e.transport.CloseIdleConnections()
		e.removeFiles()
	})
}

// ARMURL is the Resource Manager base URL, https://127.0.0.1:port (no trailing slash).
func (e *Emulator) ARMURL() string { return e.arm.URL }

// IdentityEndpoint is the value for IDENTITY_ENDPOINT.
func (e *Emulator) IdentityEndpoint() string { return e.ids.URL + IdentityPath }

// IdentityHeader is the value for IDENTITY_HEADER: the secret the identity
// endpoint expects in X-IDENTITY-HEADER.
func (e *Emulator) IdentityHeader() string { return e.identityHeader }

// CertFile is the path of a PEM file holding the ARM server's self-signed
// certificate (valid for 127.0.0.1, ::1 and localhost). Point SSL_CERT_FILE at it
// to make a child process trust the server; note it then trusts nothing else.
func (e *Emulator) CertFile() string { return e.certFile }

// HTTPClient returns a client that trusts the ARM server's certificate. It
// satisfies azcore's policy.Transporter.
func (e *Emulator) HTTPClient() *http.Client { return &http.Client{Transport: e.transport} }

// TokenMarker is a random string that every token the emulator issues contains
// (as its signature part) and no other string does: finding it in a log or an
// answer proves a token leaked.
func (e *Emulator) TokenMarker() string { return e.marker }

// Environ returns the environment a child process needs to use the emulator:
// IDENTITY_ENDPOINT, IDENTITY_HEADER, SSL_CERT_FILE, PAL_ARM_ENDPOINT and
// PAL_GRAPH_ENDPOINT (used only when PAL_GRAPH_MEMBERSHIP is true).
func (e *Emulator) Environ() []string {
	return []string{
		"IDENTITY_ENDPOINT=" + e.IdentityEndpoint(),
		"IDENTITY_HEADER=" + e.identityHeader,
		"SSL_CERT_FILE=" + e.certFile,
		"PAL_ARM_ENDPOINT=" + e.arm.URL,
		"PAL_GRAPH_ENDPOINT=" + e.graph.URL,
	}
}

// Estate returns a copy of the current estate, links included.
func (e *Emulator) Estate() Estate {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.estate
	out.Tenants = slices.Clone(out.Tenants)
	out.Identities = slices.Clone(out.Identities)
	out.Subscriptions = make([]Subscription, len(e.estate.Subscriptions))
	for i, s := range e.estate.Subscriptions {
		out.Subscriptions[i] = cloneSubscription(s)
	}
	out.KnownPartnerIDs = slices.Clone(out.KnownPartnerIDs)
	out.PartnerNames = maps.Clone(out.PartnerNames)
	out.CustomRoles = make([]RoleDefinition, len(e.estate.CustomRoles))
	for i, r := range e.estate.CustomRoles {
		out.CustomRoles[i] = cloneRole(r)
	}
	cloneDirectory(e.estate, &out)
	cloneGroups(e.estate, &out)
	out.Links = make([]Link, 0, len(e.links))
	for _, l := range e.links {
		out.Links = append(out.Links, *l)
	}
	slices.SortFunc(out.Links, func(a, b Link) int {
		return strings.Compare(a.TenantID+"/"+a.ObjectID, b.TenantID+"/"+b.ObjectID)
	})
	return out
}

// Link returns the partner link record of principal (tid, oid), also when it is
// soft-deleted (see [Link.Active]); false when there never was one.
func (e *Emulator) Link(tid, oid string) (Link, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l, ok := e.links[principal{norm(tid), norm(oid)}]
	if !ok {
		return Link{}, false
	}
	return *l, true
}

// SetLink creates or replaces the link record of l's principal. Empty State means
// Active; zero Version means the previous version plus one (1 for a new record);
// zero times mean now (CreatedTime of an existing record is kept).
func (e *Emulator) SetLink(l Link) error {
	l, err := normLink(l)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	k := principal{l.TenantID, l.ObjectID}
	now := time.Now().UTC()
	old := e.links[k]
	if l.Version == 0 {
		l.Version = 1
		if old != nil {
			l.Version = old.Version + 1
		}
	}
	if l.CreatedTime.IsZero() {
		l.CreatedTime = now
		if old != nil {
			l.CreatedTime = old.CreatedTime
		}
	}
	if l.UpdatedTime.IsZero() {
		l.UpdatedTime = now
	}
	e.links[k] = &l
	return nil
}

// RemoveLink erases the link record of principal (tid, oid) entirely (unlike
// DELETE, which soft-deletes it).
func (e *Emulator) RemoveLink(tid, oid string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.links, principal{norm(tid), norm(oid)})
}

// AddSubscription adds s, or replaces the subscription with the same ID.
func (e *Emulator) AddSubscription(s Subscription) error {
	s, err := normSubscription(cloneSubscription(s))
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if i := e.subIndex(s.ID); i >= 0 {
		e.estate.Subscriptions[i] = s
	} else {
		e.estate.Subscriptions = append(e.estate.Subscriptions, s)
		if e.subIdx != nil {
			e.subIdx[s.ID] = len(e.estate.Subscriptions) - 1
		}
	}
	return nil
}

// RemoveSubscription removes a subscription; false when there was none.
func (e *Emulator) RemoveSubscription(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	i := e.subIndex(norm(id))
	if i < 0 {
		return false
	}
	e.estate.Subscriptions = slices.Delete(e.estate.Subscriptions, i, i+1)
	e.subIdx = nil
	return true
}

// SetDelegations replaces the delegations of subscription subID.
func (e *Emulator) SetDelegations(subID string, ds ...Delegation) error {
	subID = norm(subID)
	cp := cloneSubscription(Subscription{Delegations: ds}).Delegations
	nds, err := normDelegations(subID, cp)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	i := e.subIndex(subID)
	if i < 0 {
		return fmt.Errorf("emulator: no subscription %s", subID)
	}
	e.estate.Subscriptions[i].Delegations = nds
	return nil
}

// SetDirectAccess replaces the object IDs with direct access to subscription subID.
func (e *Emulator) SetDirectAccess(subID string, objectIDs ...string) error {
	subID = norm(subID)
	e.mu.Lock()
	defer e.mu.Unlock()
	i := e.subIndex(subID)
	if i < 0 {
		return fmt.Errorf("emulator: no subscription %s", subID)
	}
	e.estate.Subscriptions[i].DirectAccess = normIDs(objectIDs)
	return nil
}

// subIndex returns the index of subscription id or -1; e.mu must be held.
func (e *Emulator) subIndex(id string) int {
	if e.subIdx == nil {
		e.subIdx = make(map[string]int, len(e.estate.Subscriptions))
		for i, s := range e.estate.Subscriptions {
			e.subIdx[s.ID] = i
		}
	}
	if i, ok := e.subIdx[id]; ok {
		return i
	}
	return -1
}

// Requests returns the requests received so far (both servers), oldest first.
func (e *Emulator) Requests() []Request {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Request, len(e.requests))
	for i, r := range e.requests {
		r.Query = cloneValues(r.Query)
		out[i] = r
	}
	return out
}

// Writes returns the ARM writes (PUT, PATCH, DELETE, POST) received so far.
func (e *Emulator) Writes() []Request {
	var out []Request
	for _, r := range e.Requests() {
		if r.IsWrite() {
			out = append(out, r)
		}
	}
	return out
}

// ResetRequests forgets the requests received so far.
func (e *Emulator) ResetRequests() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests = nil
}

func (e *Emulator) record(r Request) {
	e.mu.Lock()
	e.requests = append(e.requests, r)
	e.mu.Unlock()
	ev := e.log.Debug()
	if r.Status >= 500 || r.Status == 0 || r.Unhandled {
		ev = e.log.Info()
	}
	ev.Str("target", string(r.Target)).Str("method", r.Method).Str("path", r.Path).
		Int("status", r.Status).Str("code", r.ErrorCode).
		Str("tenantId", r.TenantID).Str("objectId", r.ObjectID).
		Bool("faulted", r.Faulted).Bool("unhandled", r.Unhandled).
		Dur("took", time.Since(r.At)).Msg("emulator request")
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// InjectFault adds a fault (see [Fault]) and returns a function that removes it.
// Faults apply in the order they were added.
// It panics on a Status outside 100–599 (other than 0) or an unknown Target.
func (e *Emulator) InjectFault(f Fault) (remove func()) {
	if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
		panic(fmt.Sprintf("emulator: fault status %d is not an HTTP status", f.Status))
	}
	if f.Target != "" && f.Target != TargetARM && f.Target != TargetIdentity && f.Target != TargetEntra {
		panic(fmt.Sprintf("emulator: unknown fault target %q", f.Target))
	}
	if f.Target == "" {
		f.Target = TargetARM
	}
	fe := &faultEntry{Fault: f}
	e.mu.Lock()
	e.faults = append(e.faults, fe)
	e.mu.Unlock()
	return func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.faults = slices.DeleteFunc(e.faults, func(x *faultEntry) bool { return x == fe })
	}
}

// unescapedQuery is r's query unescaped, or the raw query when it does not unescape.
func unescapedQuery(r *http.Request) string {
	if q, err := url.QueryUnescape(r.URL.RawQuery); err == nil {
		return q
	}
	return r.URL.RawQuery
}

// takeFault returns the first fault matching the request and counts its use.
func (e *Emulator) takeFault(t Target, r *http.Request) (Fault, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, f := range e.faults {
		if f.Target != t {
			continue
		}
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		if f.PathContains != "" && !strings.Contains(strings.ToLower(r.URL.Path), strings.ToLower(f.PathContains)) {
			continue
		}
		if f.Path != "" && !strings.EqualFold(f.Path, r.URL.Path) {
			continue
		}
		if f.QueryContains != "" && !strings.Contains(r.URL.RawQuery, f.QueryContains) && !strings.Contains(unescapedQuery(r), f.QueryContains) {
			continue
		}
		f.used++
		if f.Times > 0 && f.used >= f.Times {
			e.faults = slices.Delete(e.faults, i, i+1)
		}
		return f.Fault, true
	}
	return Fault{}, false
}

// wait sleeps for d unless the request or the emulator ends first.
func (e *Emulator) wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-e.closing:
	}
	return false
}

// pause applies a fault's Latency, then its Hold; false when the request or
// the emulator ended first.
func (e *Emulator) pause(r *http.Request, f Fault) bool {
	if !e.wait(r, f.Latency) {
		return false
	}
	if f.Hold == nil {
		return true
	}
	select {
	case <-f.Hold:
		return true
	case <-r.Context().Done():
	case <-e.closing:
	}
	return false
}

// drop closes the request's connection without an answer.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // the server closes the connection
	}
	_ = conn.Close()
}

func retryAfterSeconds(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	return fmt.Sprint(s)
}

// allow takes a token from the principal's read or write bucket. It returns the
// tokens left, or how long to wait when none is left.
func (e *Emulator) allow(p principal, write bool) (left int, wait time.Duration, limited bool) {
	t := e.throttle
	if t == nil {
		return 0, 0, false
	}
	rate, burst, kind := t.ReadsPerSecond, t.ReadBurst, "r"
	if write {
		rate, burst, kind = t.WritesPerSecond, t.WriteBurst, "w"
	}
	if rate <= 0 {
		return 0, 0, false
	}
	if burst < 1 {
		burst = 1
	}
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	k := kind + "/" + p.tid + "/" + p.oid
	b := e.buckets[k]
	if b == nil {
		b = &bucket{tokens: float64(burst), last: now}
		e.buckets[k] = b
	}
	b.tokens = min(float64(burst), b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens < 1 {
		return 0, time.Duration((1 - b.tokens) / rate * float64(time.Second)), true
	}
	b.tokens--
	return int(b.tokens), 0, true
}
