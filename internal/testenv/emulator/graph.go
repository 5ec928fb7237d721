package emulator

import (
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TargetGraph is the Microsoft Graph server (see [Emulator.GraphURL]).
const TargetGraph Target = "graph"

// GraphResource is Microsoft Graph's resource (token audience) in the public cloud.
const GraphResource = "https://graph.microsoft.com"

// graphAudiences are the aud values Graph accepts: its resource URI, with or
// without the slash, and its application ID.
var graphAudiences = []string{GraphResource, GraphResource + "/", "00000003-0000-0000-c000-000000000000"}

// graphMembershipRoles are the application permissions under which Graph lists
// a service principal's transitiveMemberOf: the least privileged one
// (Application.Read.All) and the higher ones its reference page names.
var graphMembershipRoles = []string{"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}

// graphGroupReadRoles are the permissions that also let the caller read a
// group's properties; without one, Graph returns the group of a directoryObject
// collection with its @odata.type and id only.
var graphGroupReadRoles = []string{"Directory.Read.All", "Directory.ReadWrite.All", "Group.Read.All", "Group.ReadWrite.All", "GroupMember.Read.All"}

// Graph paging of transitiveMemberOf: 100 objects by default, $top at most 999.
const (
	graphDefaultPage = 100
	graphMaxPage     = 999
)

// GraphURL is the base URL of the emulated Microsoft Graph (https://127.0.0.1:port,
// the same certificate as ARM). It serves, with a bearer token for Graph
// (aud https://graph.microsoft.com) issued by the emulator:
//
//   - GET /v1.0/servicePrincipals/{id}/transitiveMemberOf ($top, $select;
//     paging with @odata.nextLink and $skiptoken): the groups the service
//     principal (or managed identity) is a member of, nested ones included.
//
// The caller's token must carry one of the application permissions the
// reference page names (Application.Read.All the least privileged) in its
// roles claim, which the emulator fills from [Estate.GraphAppRoles] when the
// token is issued; otherwise 403 Authorization_RequestDenied. Only objects of
// the caller's tenant are found (404 Request_ResourceNotFound otherwise).
// Without a group-reading permission, groups come back with @odata.type and
// id only, as Graph returns objects the caller may not read. Errors are
// Graph's {"error":{"code","message","innerError"}}.
func (e *Emulator) GraphURL() string { return e.graph.URL }

// startGraph starts the Graph server; called by New.
func (e *Emulator) startGraph(cert tls.Certificate, errLog *log.Logger) {
	e.graph = httptest.NewUnstartedServer(http.HandlerFunc(e.serveGraph))
	e.graph.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	e.graph.Config.ErrorLog = errLog
	e.graph.StartTLS()
}

// isGraphAudience reports whether aud is Microsoft Graph's.
func isGraphAudience(aud string) bool { return slices.Contains(graphAudiences, aud) }

// graphRoles returns the Graph application permissions granted to (tid, oid);
// e.mu must not be held.
func (e *Emulator) graphRoles(tid, oid string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, r := range e.estate.GraphAppRoles {
		if r.TenantID == norm(tid) && r.PrincipalID == norm(oid) && !slices.Contains(out, r.Value) {
			out = append(out, r.Value)
		}
	}
	return out
}

// GrantGraphAppRole grants Graph application permission value to (tenantID,
// principalID). Tokens issued from then on carry it.
func (e *Emulator) GrantGraphAppRole(tenantID, principalID, value string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.estate.GraphAppRoles = append(e.estate.GraphAppRoles, GraphAppRole{TenantID: norm(tenantID), PrincipalID: norm(principalID), Value: value})
}

// graphError is one Graph error answer.
type graphError struct {
	status  int
	code    string
	message string
}

type graphErrorJSON struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			Date            string `json:"date"`
			RequestID       string `json:"request-id"`
			ClientRequestID string `json:"client-request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

func (g *graphError) write(w http.ResponseWriter, r *http.Request) {
	var body graphErrorJSON
	body.Error.Code, body.Error.Message = g.code, g.message
	body.Error.InnerError.Date = time.Now().UTC().Format("2006-01-02T15:04:05")
	body.Error.InnerError.RequestID = w.Header().Get("request-id")
	body.Error.InnerError.ClientRequestID = r.Header.Get("client-request-id")
	if body.Error.InnerError.ClientRequestID == "" {
		body.Error.InnerError.ClientRequestID = body.Error.InnerError.RequestID
	}
	writeJSON(w, g.status, body)
}

// serveGraph is the Graph server's handler.
func (e *Emulator) serveGraph(rw http.ResponseWriter, r *http.Request) {
	x := e.begin(TargetGraph, rw, r)
	defer x.end()
	w, rec := x.w, &x.rec
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	}
	w.Header().Set("request-id", newGUID())
	fail := func(g *graphError) {
		rec.ErrorCode = g.code
		g.write(w, r)
	}
	if x.fault(r, func(f Fault) { fail(&graphError{f.Status, f.code(), fmt.Sprintf("Injected fault: %d.", f.Status)}) }) {
		return
	}
	c, gerr := e.authenticateGraph(r)
	rec.TenantID, rec.ObjectID = c.TID, c.OID
	if gerr != nil {
		fail(gerr)
		return
	}
	segs := pathSegments(r.URL.Path)
	if r.Method != http.MethodGet || len(segs) != 4 || segs[0] != "v1.0" ||
		!strings.EqualFold(segs[1], "servicePrincipals") || !strings.EqualFold(segs[3], "transitiveMemberOf") {
		rec.Unhandled = true
		fail(&graphError{http.StatusNotFound, "Request_UnsupportedQuery",
			fmt.Sprintf("The emulator does not serve %s %s.", r.Method, r.URL.Path)})
		return
	}
	if gerr := e.transitiveMemberOf(w, r, c, segs[2]); gerr != nil {
		fail(gerr)
	}
}

// authenticateGraph checks r's bearer token for Graph.
func (e *Emulator) authenticateGraph(r *http.Request) (claims, *graphError) {
	invalid := func(msg string) *graphError {
		return &graphError{http.StatusUnauthorized, "InvalidAuthenticationToken", msg}
	}
	tok, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		return claims{}, invalid("Access token is empty.")
	}
	c, err := e.parseToken(tok)
	if err != nil {
		return claims{}, invalid("IDX14100: JWT is not well formed.")
	}
	if c.Exp == 0 || !time.Now().Before(time.Unix(c.Exp, 0)) {
		return c, invalid("Lifetime validation failed, the token is expired.")
	}
	if !isGraphAudience(c.Aud) {
		return c, invalid("Invalid audience.")
	}
	return c, nil
}

type directoryObjectJSON struct {
	ODataType   string  `json:"@odata.type"`
	ID          string  `json:"id"`
	DisplayName *string `json:"displayName"`
	// SecurityEnabled is a group property; nil for limited information.
	SecurityEnabled *bool `json:"securityEnabled"`
}

type directoryObjectsJSON struct {
	Context  string                `json:"@odata.context"`
	NextLink string                `json:"@odata.nextLink,omitempty"`
	Value    []directoryObjectJSON `json:"value"`
}

// transitiveMemberOf serves GET /v1.0/servicePrincipals/{id}/transitiveMemberOf.
func (e *Emulator) transitiveMemberOf(w http.ResponseWriter, r *http.Request, c claims, id string) *graphError {
	if !slices.ContainsFunc(c.Roles, func(v string) bool { return slices.Contains(graphMembershipRoles, v) }) {
		return &graphError{http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."}
	}
	id = norm(id)
	e.mu.Lock()
	known := e.objectInTenant(c.TID, id)
	var groups []Group
	if known {
		groups = e.transitiveGroups(c.TID, id)
	}
	e.mu.Unlock()
	if !known {
		return &graphError{http.StatusNotFound, "Request_ResourceNotFound",
			fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)}
	}
	q := r.URL.Query()
	size := graphDefaultPage
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > graphMaxPage {
			return &graphError{http.StatusBadRequest, "Request_BadRequest",
				fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", v, graphMaxPage)}
		}
		size = n
	}
	start := 0
	if v := q.Get("$skiptoken"); v != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(v, "emu"))
		if err != nil || n < 0 || n > len(groups) {
			return &graphError{http.StatusBadRequest, "Directory_ExpiredPageToken", "The specified page token value has expired and can no longer be included in your request."}
		}
		start = n
	}
	full := slices.ContainsFunc(c.Roles, func(v string) bool { return slices.Contains(graphGroupReadRoles, v) })
	end := min(start+size, len(groups))
	out := directoryObjectsJSON{Context: "https://graph.microsoft.com/v1.0/$metadata#directoryObjects", Value: []directoryObjectJSON{}}
	for _, g := range groups[start:end] {
		o := directoryObjectJSON{ODataType: "#microsoft.graph.group", ID: g.ID}
		if full {
			name, sec := g.DisplayName, true
			o.DisplayName, o.SecurityEnabled = &name, &sec
		}
		out.Value = append(out.Value, o)
	}
	if end < len(groups) {
		nq := cloneValues(q)
		nq.Set("$skiptoken", "emu"+strconv.Itoa(end))
		out.NextLink = "https://" + r.Host + r.URL.Path + "?" + nq.Encode()
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// objectInTenant reports whether id is a managed identity, service principal
// or group of tenant tid; e.mu must be held.
func (e *Emulator) objectInTenant(tid, id string) bool {
	return slices.ContainsFunc(e.estate.Identities, func(i Identity) bool { return i.TenantID == tid && i.ObjectID == id }) ||
		slices.ContainsFunc(e.estate.ServicePrincipals, func(sp ServicePrincipal) bool { return sp.TenantID == tid && sp.ObjectID == id }) ||
		slices.ContainsFunc(e.estate.Groups, func(g Group) bool { return g.TenantID == tid && g.ID == id })
}
