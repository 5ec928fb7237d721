package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

const hdrErrorCode = "x-ms-error-code"

// statusWriter remembers the status of the answer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"InternalServerError","message":"emulator: cannot encode the answer"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

type armErrorBody struct {
	Error armErrorDetail `json:"error"`
}

type armErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// armError is an ARM error answer.
type armError struct {
	status  int
	code    string
	message string
}

func (a *armError) write(w http.ResponseWriter) {
	w.Header().Set(hdrErrorCode, a.code)
	writeJSON(w, a.status, armErrorBody{Error: armErrorDetail{Code: a.code, Message: a.message}})
}

func newARMError(status int, code, format string, args ...any) *armError {
	return &armError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// code is the error code of an injected fault: its ErrorCode, or its
// status's usual code when it names none.
func (f Fault) code() string {
	if f.ErrorCode != "" {
		return f.ErrorCode
	}
	status := f.Status
	switch status {
	case http.StatusTooManyRequests:
		return "TooManyRequests"
	case http.StatusUnauthorized:
		return "InvalidAuthenticationToken"
	case http.StatusForbidden:
		return "AuthorizationFailed"
	case http.StatusNotFound:
		return "NotFound"
	case http.StatusConflict:
		return "Conflict"
	case http.StatusGatewayTimeout:
		return "GatewayTimeout"
	}
	if t := http.StatusText(status); t != "" {
		return strings.ReplaceAll(t, " ", "")
	}
	return "InjectedFault"
}

// authenticate checks the bearer token of r. The claims are filled whenever the
// token could be decoded, also when it is then rejected.
func (e *Emulator) authenticate(r *http.Request) (claims, *armError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return claims{}, newARMError(http.StatusUnauthorized, "InvalidAuthenticationToken", "Authentication failed. The 'Authorization' header is missing.")
	}
	tok, ok := bearerToken(h)
	if !ok {
		return claims{}, newARMError(http.StatusUnauthorized, "InvalidAuthenticationToken", "Authentication failed. The 'Authorization' header is provided in an invalid format.")
	}
	c, err := e.parseToken(tok)
	if err != nil {
		return claims{}, newARMError(http.StatusUnauthorized, "InvalidAuthenticationToken", "%s", err.Error())
	}
	now := time.Now()
	if c.Exp == 0 || !now.Before(time.Unix(c.Exp, 0)) {
		return c, newARMError(http.StatusUnauthorized, "InvalidAuthenticationToken",
			"The access token expiry UTC time '%s' is earlier than current UTC time '%s'.",
			time.Unix(c.Exp, 0).UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if c.Nbf != 0 && time.Unix(c.Nbf, 0).After(now.Add(5*time.Minute)) {
		return c, newARMError(http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is not valid yet (nbf is in the future).")
	}
	if !slices.Contains(armAudiences, c.Aud) {
		return c, newARMError(http.StatusUnauthorized, "InvalidAuthenticationTokenAudience",
			"The access token has been obtained for wrong audience or resource '%s'. It should exactly match with one of the allowed audiences '%s'.",
			c.Aud, strings.Join(armAudiences, "','"))
	}
	return c, nil
}

// serveARM is the Resource Manager server's handler.
func (e *Emulator) serveARM(rw http.ResponseWriter, r *http.Request) {
	x := e.begin(TargetARM, rw, r)
	defer e.stats.begin()()
	defer x.end()
	w, rec := x.w, &x.rec
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20)) // bodies are ignored
	}
	c, authErr := e.authenticate(r)
	rec.TenantID, rec.ObjectID = c.TID, c.OID

	h := w.Header()
	h.Set("x-ms-request-id", newGUID())
	corr := r.Header.Get("x-ms-correlation-request-id")
	if corr == "" {
		corr = newGUID()
	}
	h.Set("x-ms-correlation-request-id", corr)
	h.Set("Cache-Control", "no-cache")

	if x.fault(r, func(f Fault) {
		newARMError(f.Status, f.code(), "Injected fault: %s %s answered %d %s.", r.Method, r.URL.Path, f.Status, f.code()).write(w)
	}) {
		return
	}
	if authErr != nil {
		h.Set("WWW-Authenticate", `Bearer authorization_uri="https://login.windows.net/", error="invalid_token", error_description="The access token is missing or invalid."`)
		authErr.write(w)
		return
	}
	p := principal{c.TID, c.OID}

	segs := pathSegments(r.URL.Path)
	write := r.Method != http.MethodGet && r.Method != http.MethodHead
	scope := "tenant"
	if len(segs) > 2 && strings.EqualFold(segs[0], "subscriptions") {
		scope = "subscription"
	}
	kind := "reads"
	left := 11999
	if write {
		kind, left = "writes", 1199
	}
	if n, wait, limited := e.allow(p, write); limited {
		if wait > 0 {
			h.Set("Retry-After", retryAfterSeconds(wait))
			newARMError(http.StatusTooManyRequests, "TooManyRequests",
				"The request is being throttled as the limit has been reached for operation type - %s. For more information, refer - https://aka.ms/armthrottling", kind).write(w)
			return
		}
		left = n
	}
	h.Set("x-ms-ratelimit-remaining-"+scope+"-"+kind, strconv.Itoa(left))

	handle, args := e.route(r.Method, segs)
	if handle == nil {
		rec.Unhandled = true
		newARMError(http.StatusNotFound, "EmulatorRouteNotFound",
			"The Azure emulator does not serve %s %s.", r.Method, r.URL.Path).write(w)
		return
	}
	if r.URL.Query().Get("api-version") == "" {
		newARMError(http.StatusBadRequest, "MissingApiVersionParameter",
			"The api-version query parameter (?api-version=) is required for all requests.").write(w)
		return
	}
	if aerr := handle(w, r, p, args); aerr != nil {
		aerr.write(w)
	}
}

// pathSegments splits a URL path into its non-empty segments.
func pathSegments(path string) []string {
	var out []string
	for s := range strings.SplitSeq(path, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

type armHandler func(w http.ResponseWriter, r *http.Request, p principal, args []string) *armError

type armRoute struct {
	method  string
	pattern []string // lower case; "*" captures a segment
	handle  armHandler
}

func (e *Emulator) routes() []armRoute {
	sub := []string{"subscriptions", "*"}
	ra := append(slices.Clone(sub), "providers", "microsoft.managedservices", "registrationassignments")
	rd := []string{"providers", "microsoft.authorization", "roledefinitions", "*"}
	perms := []string{"providers", "microsoft.authorization", "permissions"}
	partners := []string{"providers", "microsoft.managementpartner", "partners"}
	partner := append(slices.Clone(partners), "*")
	return []armRoute{
		{http.MethodGet, []string{"subscriptions"}, e.listSubscriptions},
		{http.MethodGet, []string{"tenants"}, e.listTenants},
		{http.MethodGet, sub, e.getSubscription},
		{http.MethodGet, ra, e.listAssignments},
		{http.MethodGet, append(slices.Clone(ra), "*"), e.getAssignment},
		{http.MethodGet, rd, e.getRoleDefinition},
		{http.MethodGet, append(slices.Clone(sub), rd...), e.getRoleDefinition},
		{http.MethodGet, rd[:3], e.listRoleDefinitions},
		{http.MethodGet, append(slices.Clone(sub), rd[:3]...), e.listRoleDefinitions},
		{http.MethodGet, append(slices.Clone(sub), perms...), e.listPermissions},
		{http.MethodGet, append(slices.Clone(sub), append([]string{"resourcegroups", "*"}, perms...)...), e.listPermissions},
		{http.MethodGet, append(slices.Clone(sub), "resourcegroups"), e.listResourceGroups},
		{http.MethodGet, partners, e.getCurrentPartner},
		{http.MethodGet, partner, e.getPartner},
		{http.MethodPut, partner, e.putPartner},
		{http.MethodPatch, partner, e.patchPartner},
		{http.MethodDelete, partner, e.deletePartner},
	}
}

// route finds the handler of method and path segments and the captured segments.
func (e *Emulator) route(method string, segs []string) (armHandler, []string) {
	for _, rt := range e.armRoutes {
		if rt.method != method || len(rt.pattern) != len(segs) {
			continue
		}
		var args []string
		ok := true
		for i, p := range rt.pattern {
			if p == "*" {
				args = append(args, segs[i])
			} else if !strings.EqualFold(p, segs[i]) {
				ok = false
				break
			}
		}
		if ok {
			return rt.handle, args
		}
	}
	return nil, nil
}

// ---- subscriptions ----

type tenantRef struct {
	TenantID string `json:"tenantId"`
}

type subscriptionPolicies struct {
	LocationPlacementID string `json:"locationPlacementId"`
	QuotaID             string `json:"quotaId"`
	SpendingLimit       string `json:"spendingLimit"`
}

type subscriptionJSON struct {
	ID                   string               `json:"id"`
	SubscriptionID       string               `json:"subscriptionId"`
	TenantID             string               `json:"tenantId"`
	DisplayName          string               `json:"displayName"`
	State                string               `json:"state"`
	ManagedByTenants     []tenantRef          `json:"managedByTenants"`
	AuthorizationSource  string               `json:"authorizationSource"`
	SubscriptionPolicies subscriptionPolicies `json:"subscriptionPolicies"`
	Tags                 map[string]string    `json:"tags,omitempty"`
}

func renderSubscription(s Subscription) subscriptionJSON {
	mbt := make([]tenantRef, 0, len(s.Delegations))
	for _, t := range s.managedByTenants() {
		mbt = append(mbt, tenantRef{t})
	}
	return subscriptionJSON{
		ID: "/subscriptions/" + s.ID, SubscriptionID: s.ID, TenantID: s.TenantID,
		DisplayName: s.DisplayName, State: s.State, ManagedByTenants: mbt,
		AuthorizationSource: "RoleBased",
		SubscriptionPolicies: subscriptionPolicies{
			LocationPlacementID: "Public_2014-09-01", QuotaID: "PayAsYouGo_2014-09-01", SpendingLimit: "Off",
		},
		Tags: s.Tags,
	}
}

type listJSON[T any] struct {
	Value    []T    `json:"value"`
	NextLink string `json:"nextLink,omitempty"`
}

// page cuts items to the page $skiptoken asks for and builds the nextLink.
func page[T any](r *http.Request, items []T, size int) (listJSON[T], *armError) {
	start := 0
	if tok := r.URL.Query().Get("$skiptoken"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(items) {
			return listJSON[T]{}, newARMError(http.StatusBadRequest, "InvalidSkipToken", "The skip token '%s' is invalid.", tok)
		}
		start = n
	}
	end := min(start+size, len(items))
	out := listJSON[T]{Value: items[start:end]}
	if out.Value == nil {
		out.Value = []T{}
	}
	if end < len(items) {
		q := cloneValues(r.URL.Query())
		q.Del("$skiptoken")
		enc := strings.ReplaceAll(q.Encode(), "%24", "$")
		if enc != "" {
			enc += "&"
		}
		out.NextLink = "https://" + r.Host + "/" + strings.Join(pathSegments(r.URL.Path), "/") + "?" + enc + "$skiptoken=" + strconv.Itoa(end)
	}
	return out, nil
}

func (e *Emulator) listSubscriptions(w http.ResponseWriter, r *http.Request, p principal, _ []string) *armError {
	e.mu.Lock()
	all := e.estate.Subscriptions
	ids := e.principalIDs(p)
	var reach []int
	for i := range all {
		if e.canReach(&all[i], p, ids) {
			reach = append(reach, i)
		}
	}
	byID := func(a, b int) int { return strings.Compare(all[a].ID, all[b].ID) }
	if !slices.IsSortedFunc(reach, byID) {
		slices.SortFunc(reach, byID)
	}
	idx, aerr := page(r, reach, e.estate.PageSize)
	if aerr != nil {
		e.mu.Unlock()
		return aerr
	}
	out := listJSON[subscriptionJSON]{Value: make([]subscriptionJSON, 0, len(idx.Value)), NextLink: idx.NextLink}
	for _, i := range idx.Value {
		out.Value = append(out.Value, renderSubscription(all[i]))
	}
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
	return nil
}

// reachSubscription returns a copy of subscription id if p can reach it.
func (e *Emulator) reachSubscription(id string, p principal) (Subscription, *armError) {
	if !isGUID(id) {
		return Subscription{}, newARMError(http.StatusBadRequest, "InvalidSubscriptionId", "The provided subscription identifier '%s' is malformed or invalid.", id)
	}
	id = norm(id)
	e.mu.Lock()
	defer e.mu.Unlock()
	i := e.subIndex(id)
	if i < 0 {
		return Subscription{}, newARMError(http.StatusNotFound, "SubscriptionNotFound", "The subscription '%s' could not be found.", id)
	}
	s := &e.estate.Subscriptions[i]
	if e.canReach(s, p, e.principalIDs(p)) {
		return cloneSubscription(*s), nil
	}
	if s.TenantID != p.tid {
		return Subscription{}, newARMError(http.StatusUnauthorized, "InvalidAuthenticationTokenTenant",
			"The access token is from the wrong issuer 'https://sts.windows.net/%s/'. It must match the tenant 'https://sts.windows.net/%s/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/%s' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.",
			p.tid, s.TenantID, s.TenantID)
	}
	return Subscription{}, newARMError(http.StatusForbidden, "AuthorizationFailed",
		"The client '%s' with object id '%s' does not have authorization to perform action 'Microsoft.Resources/subscriptions/read' over scope '/subscriptions/%s' or the scope is invalid. If access was recently granted, please refresh your credentials.",
		p.oid, p.oid, id)
}

func (e *Emulator) getSubscription(w http.ResponseWriter, _ *http.Request, p principal, args []string) *armError {
	s, aerr := e.reachSubscription(args[0], p)
	if aerr != nil {
		return aerr
	}
	writeJSON(w, http.StatusOK, renderSubscription(s))
	return nil
}

// ---- registration assignments ----

type jitPolicyJSON struct {
	MultiFactorAuthProvider   string `json:"multiFactorAuthProvider"`
	MaximumActivationDuration string `json:"maximumActivationDuration"`
}

type authorizationJSON struct {
	PrincipalID            string `json:"principalId"`
	PrincipalIDDisplayName string `json:"principalIdDisplayName,omitempty"`
	RoleDefinitionID       string `json:"roleDefinitionId"`
	// DelegatedRoleDefinitionIDs: only on a User Access Administrator authorization.
	DelegatedRoleDefinitionIDs []string       `json:"delegatedRoleDefinitionIds,omitempty"`
	JustInTimeAccessPolicy     *jitPolicyJSON `json:"justInTimeAccessPolicy,omitempty"`
}

// systemDataJSON is ARM's systemData of a resource. The emulator's
// delegations were all deployed by the customer's administrator at the
// emulator's epoch.
type systemDataJSON struct {
	CreatedBy          string `json:"createdBy"`
	CreatedByType      string `json:"createdByType"`
	CreatedAt          string `json:"createdAt"`
	LastModifiedBy     string `json:"lastModifiedBy"`
	LastModifiedByType string `json:"lastModifiedByType"`
	LastModifiedAt     string `json:"lastModifiedAt"`
}

// delegationSystemData is the systemData of every registration definition.
func delegationSystemData() systemDataJSON {
	const by, at = "admin@customer.example", "2024-01-01T00:00:00.0000000Z"
	return systemDataJSON{CreatedBy: by, CreatedByType: "User", CreatedAt: at, LastModifiedBy: by, LastModifiedByType: "User", LastModifiedAt: at}
}

type definitionPropertiesJSON struct {
	RegistrationDefinitionName string              `json:"registrationDefinitionName"`
	Description                string              `json:"description,omitempty"`
	ManagedByTenantID          string              `json:"managedByTenantId"`
	ManagedByTenantName        string              `json:"managedByTenantName,omitempty"`
	ManageeTenantID            string              `json:"manageeTenantId"`
	ManageeTenantName          string              `json:"manageeTenantName,omitempty"`
	Authorizations             []authorizationJSON `json:"authorizations"`
	EligibleAuthorizations     []authorizationJSON `json:"eligibleAuthorizations,omitempty"`
	ProvisioningState          string              `json:"provisioningState"`
}

type definitionJSON struct {
	Properties definitionPropertiesJSON `json:"properties"`
	ID         string                   `json:"id"`
	Type       string                   `json:"type"`
	Name       string                   `json:"name"`
	SystemData systemDataJSON           `json:"systemData"`
}

type assignmentPropertiesJSON struct {
	RegistrationDefinitionID string          `json:"registrationDefinitionId"`
	ProvisioningState        string          `json:"provisioningState"`
	RegistrationDefinition   *definitionJSON `json:"registrationDefinition,omitempty"`
}

type assignmentJSON struct {
	ID         string                   `json:"id"`
	Type       string                   `json:"type"`
	Name       string                   `json:"name"`
	Properties assignmentPropertiesJSON `json:"properties"`
}

func (e *Emulator) tenantName(id string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, t := range e.estate.Tenants {
		if t.ID == id {
			return t.Name
		}
	}
	return ""
}

func (e *Emulator) renderAssignment(s Subscription, d Delegation, expand bool) assignmentJSON {
	defID := "/subscriptions/" + s.ID + "/providers/Microsoft.ManagedServices/registrationDefinitions/" + d.DefinitionID
	a := assignmentJSON{
		ID:   "/subscriptions/" + s.ID + "/providers/Microsoft.ManagedServices/registrationAssignments/" + d.ID,
		Type: "Microsoft.ManagedServices/registrationAssignments",
		Name: d.ID,
		Properties: assignmentPropertiesJSON{
			RegistrationDefinitionID: defID,
			ProvisioningState:        "Succeeded",
		},
	}
	if !expand {
		return a
	}
	auths := make([]authorizationJSON, 0, len(d.Authorizations))
	for _, x := range d.Authorizations {
		a := authorizationJSON{PrincipalID: x.PrincipalID, PrincipalIDDisplayName: x.PrincipalDisplayName, RoleDefinitionID: x.RoleDefinitionID}
		if x.RoleDefinitionID == RoleUserAccessAdministrator {
			a.DelegatedRoleDefinitionIDs = slices.Clone(x.DelegatedRoleDefinitionIDs)
		}
		auths = append(auths, a)
	}
	var eligible []authorizationJSON
	for _, x := range d.EligibleAuthorizations {
		eligible = append(eligible, authorizationJSON{
			PrincipalID: x.PrincipalID, PrincipalIDDisplayName: x.PrincipalDisplayName, RoleDefinitionID: x.RoleDefinitionID,
			JustInTimeAccessPolicy: &jitPolicyJSON{MultiFactorAuthProvider: "None", MaximumActivationDuration: "PT8H"},
		})
	}
	desc := d.Description
	mbName := e.tenantName(d.ManagedByTenantID)
	if desc == "" && mbName != "" {
		desc = "Managed services by " + mbName
	}
	a.Properties.RegistrationDefinition = &definitionJSON{
		Properties: definitionPropertiesJSON{
			RegistrationDefinitionName: d.DefinitionName,
			Description:                desc,
			ManagedByTenantID:          d.ManagedByTenantID,
			ManagedByTenantName:        mbName,
			ManageeTenantID:            s.TenantID,
			ManageeTenantName:          e.tenantName(s.TenantID),
			Authorizations:             auths,
			EligibleAuthorizations:     eligible,
			ProvisioningState:          "Succeeded",
		},
		ID:         defID,
		Type:       "Microsoft.ManagedServices/registrationDefinitions",
		Name:       d.DefinitionID,
		SystemData: delegationSystemData(),
	}
	return a
}

func expandDefinition(r *http.Request) bool {
	return strings.EqualFold(r.URL.Query().Get("$expandRegistrationDefinition"), "true")
}

func (e *Emulator) listAssignments(w http.ResponseWriter, r *http.Request, p principal, args []string) *armError {
	a, aerr := e.authorize(args[0], p, actionAssignmentsRead, "/subscriptions/"+norm(args[0]))
	if aerr != nil {
		return aerr
	}
	s := a.sub
	ds := slices.Clone(s.Delegations)
	slices.SortFunc(ds, func(a, b Delegation) int { return strings.Compare(a.ID, b.ID) })
	items := make([]assignmentJSON, 0, len(ds))
	for _, d := range ds {
		items = append(items, e.renderAssignment(s, d, expandDefinition(r)))
	}
	e.mu.Lock()
	size := e.estate.PageSize
	e.mu.Unlock()
	out, aerr := page(r, items, size)
	if aerr != nil {
		return aerr
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (e *Emulator) getAssignment(w http.ResponseWriter, r *http.Request, p principal, args []string) *armError {
	a, aerr := e.authorize(args[0], p, actionAssignmentsRead,
		"/subscriptions/"+norm(args[0])+"/providers/Microsoft.ManagedServices/registrationAssignments/"+args[1])
	if aerr != nil {
		return aerr
	}
	s := a.sub
	id := norm(args[1])
	for _, d := range s.Delegations {
		if d.ID == id {
			writeJSON(w, http.StatusOK, e.renderAssignment(s, d, expandDefinition(r)))
			return nil
		}
	}
	return newARMError(http.StatusNotFound, "RegistrationAssignmentNotFound", "The registration assignment '%s' could not be found.", args[1])
}

// ---- role definitions ----

type permissionJSON struct {
	Actions        []string `json:"actions"`
	NotActions     []string `json:"notActions"`
	DataActions    []string `json:"dataActions"`
	NotDataActions []string `json:"notDataActions"`
}

type rolePropertiesJSON struct {
	RoleName         string           `json:"roleName"`
	Type             string           `json:"type"`
	Description      string           `json:"description"`
	Permissions      []permissionJSON `json:"permissions"`
	AssignableScopes []string         `json:"assignableScopes"`
}

type roleJSON struct {
	ID         string             `json:"id"`
	Name       string             `json:"name"`
	Type       string             `json:"type"`
	Properties rolePropertiesJSON `json:"properties"`
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (e *Emulator) getRoleDefinition(w http.ResponseWriter, r *http.Request, p principal, args []string) *armError {
	scope := ""
	if len(args) == 2 {
		a, aerr := e.authorize(args[0], p, actionRoleDefinitionsRead,
			"/subscriptions/"+norm(args[0])+"/providers/Microsoft.Authorization/roleDefinitions/"+args[1])
		if aerr != nil {
			return aerr
		}
		scope = "/subscriptions/" + a.sub.ID
	}
	id := norm(args[len(args)-1])
	e.mu.Lock()
	role, ok := e.lookupRole(id)
	e.mu.Unlock()
	if !ok {
		return newARMError(http.StatusNotFound, "RoleDefinitionDoesNotExist", "The specified role definition with ID '%s' does not exist.", args[len(args)-1])
	}
	writeJSON(w, http.StatusOK, renderRole(scope, role))
	return nil
}

// renderRole renders a role definition as seen at scope ("" for the tenant root).
func renderRole(scope string, role RoleDefinition) roleJSON {
	scopes := role.AssignableScopes
	if len(scopes) == 0 {
		scopes = []string{"/"}
	}
	return roleJSON{
		ID:   scope + "/providers/Microsoft.Authorization/roleDefinitions/" + role.ID,
		Name: role.ID,
		Type: "Microsoft.Authorization/roleDefinitions",
		Properties: rolePropertiesJSON{
			RoleName: role.Name, Type: role.Type, Description: role.Description,
			Permissions: []permissionJSON{{
				Actions: orEmpty(role.Actions), NotActions: orEmpty(role.NotActions),
				DataActions: orEmpty(role.DataActions), NotDataActions: orEmpty(role.NotDataActions),
			}},
			AssignableScopes: scopes,
		},
	}
}
