package emulator

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// AppServiceAPIVersion is the identity endpoint's protocol version (App Service's
// 2019-08-01, what MSAL sends when IDENTITY_ENDPOINT and IDENTITY_HEADER are set).
const AppServiceAPIVersion = "2019-08-01"

// identityError is App Service's error body.
type identityError struct {
	StatusCode    int    `json:"statusCode"`
	Message       string `json:"message"`
	CorrelationID string `json:"correlationId"`
}

func writeIdentityError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, identityError{StatusCode: status, Message: fmt.Sprintf(format, args...), CorrelationID: newGUID()})
}

// tokenResponse is App Service's token answer (expires_on in Unix seconds, as a string).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresOn   string `json:"expires_on"`
	Resource    string `json:"resource"`
	TokenType   string `json:"token_type"`
	ClientID    string `json:"client_id"`
}

// serveIdentity is the managed identity endpoint's handler:
// GET /msi/token?api-version=2019-08-01&resource=<aud>[&client_id=|object_id=|mi_res_id=]
// with header X-IDENTITY-HEADER.
func (e *Emulator) serveIdentity(rw http.ResponseWriter, r *http.Request) {
	x := e.begin(TargetIdentity, rw, r)
	defer x.end()
	w, rec := x.w, &x.rec
	if x.fault(r, func(f Fault) { writeIdentityError(w, f.Status, "Injected fault: %d.", f.Status) }) {
		return
	}
	if r.URL.Path != IdentityPath {
		rec.Unhandled = true
		writeIdentityError(w, http.StatusNotFound, "The managed identity endpoint is %s.", IdentityPath)
		return
	}
	if r.Method != http.MethodGet {
		writeIdentityError(w, http.StatusMethodNotAllowed, "Only GET is supported.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-IDENTITY-HEADER")), []byte(e.identityHeader)) != 1 {
		writeIdentityError(w, http.StatusUnauthorized, "The X-IDENTITY-HEADER header is missing or wrong.")
		return
	}
	q := r.URL.Query()
	if v := q.Get("api-version"); v != AppServiceAPIVersion {
		writeIdentityError(w, http.StatusBadRequest, "The api-version '%s' is not supported; use %s.", v, AppServiceAPIVersion)
		return
	}
	resource := q.Get("resource")
	if resource == "" {
		writeIdentityError(w, http.StatusBadRequest, "The resource query parameter is required.")
		return
	}
	var selectors int
	match := func(Identity) bool { return true } // none: the first identity
	if v := norm(q.Get("client_id")); v != "" {
		selectors++
		match = func(id Identity) bool { return id.ClientID == v }
	}
	if v := norm(q.Get("object_id")); v != "" {
		selectors++
		match = func(id Identity) bool { return id.ObjectID == v }
	}
	if v := norm(q.Get("principal_id")); v != "" {
		selectors++
		match = func(id Identity) bool { return id.ObjectID == v }
	}
	if v := norm(q.Get("mi_res_id")); v != "" {
		selectors++
		match = func(id Identity) bool { return id.ResourceID != "" && norm(id.ResourceID) == v }
	}
	if selectors > 1 {
		writeIdentityError(w, http.StatusBadRequest, "Only one of client_id, object_id, principal_id and mi_res_id may be given.")
		return
	}
	e.mu.Lock()
	id, ok := e.findIdentity(match)
	e.mu.Unlock()
	if !ok {
		writeIdentityError(w, http.StatusBadRequest, "Unable to load the proper Managed Identity.")
		return
	}
	rec.TenantID, rec.ObjectID = id.TenantID, id.ObjectID
	c := claimsFor(id, resource, time.Now(), e.tokenLifetime)
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: e.mint(c),
		ExpiresOn:   strconv.FormatInt(c.Exp, 10),
		Resource:    resource,
		TokenType:   "Bearer",
		ClientID:    id.ClientID,
	})
}
