package trigger

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
)

// principalHeader is set by App Service Authentication (Easy Auth) for an
// authenticated caller: base64 of JSON with the caller's claims.
const principalHeader = "X-MS-CLIENT-PRINCIPAL"

// clientPrincipal is the decoded X-MS-CLIENT-PRINCIPAL.
type clientPrincipal struct {
	AuthType string `json:"auth_typ"`
	RoleType string `json:"role_typ"`
	Claims   []struct {
		Type  string `json:"typ"`
		Value string `json:"val"`
	} `json:"claims"`
}

// roleClaimTypes are the claim types that carry app roles.
var roleClaimTypes = []string{"roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"}

// authorize checks the caller's role when one is required. It returns 0 when
// the caller may go on, else 401 (no principal) or 403 (other roles).
func authorize(header http.Header, role string) (int, string) {
	if role == "" {
		return 0, ""
	}
	raw := strings.TrimSpace(header.Get(principalHeader))
	if raw == "" {
		return http.StatusUnauthorized, "sign in: this API needs an authenticated caller (App Service Authentication)"
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(raw)
	}
	var p clientPrincipal
	if err != nil || json.Unmarshal(b, &p) != nil {
		return http.StatusUnauthorized, "the caller's principal could not be read"
	}
	types := roleClaimTypes
	if p.RoleType != "" {
		types = append([]string{p.RoleType}, types...)
	}
	for _, c := range p.Claims {
		for _, t := range types {
			if strings.EqualFold(c.Type, t) && c.Value == role {
				return 0, ""
			}
		}
	}
	return http.StatusForbidden, "the caller lacks the role " + role
}
