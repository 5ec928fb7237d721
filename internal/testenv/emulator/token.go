package emulator

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// armAudiences are the token audiences ARM accepts.
var armAudiences = []string{
	"https://management.core.windows.net/",
	"https://management.core.windows.net",
	"https://management.azure.com/",
	"https://management.azure.com",
}

// tokenHeader is the JOSE header of every emulator token. The signature part of a
// token is the emulator's marker, not a real signature.
var tokenHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"RS256","kid":"pal-keeper-emulator"}`))

// claims are the claims of an emulator token, shaped like a managed identity's
// Entra ID v1 access token.
type claims struct {
	Aud      string `json:"aud"`
	Iss      string `json:"iss"`
	Iat      int64  `json:"iat"`
	Nbf      int64  `json:"nbf"`
	Exp      int64  `json:"exp"`
	AppID    string `json:"appid,omitempty"`
	Azp      string `json:"azp,omitempty"`
	AzpACR   string `json:"azpacr,omitempty"`
	AppIDACR string `json:"appidacr,omitempty"`
	IdP      string `json:"idp,omitempty"`
	IDType   string `json:"idtyp,omitempty"`
	OID      string `json:"oid"`
	Sub      string `json:"sub"`
	TID      string `json:"tid"`
	UTI      string `json:"uti,omitempty"`
	Ver      string `json:"ver,omitempty"`
	MIRID    string `json:"xms_mirid,omitempty"`
	// Roles are the application permissions granted to the caller for the
	// token's resource (Graph: [Estate.GraphAppRoles]).
	Roles []string `json:"roles,omitempty"`
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

func newGUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// claimsFor returns the claims of a token for id and audience aud, issued now.
func claimsFor(id Identity, aud string, now time.Time, lifetime time.Duration) claims {
	if isTokenExchange(aud) {
		return exchangeClaims(id, now, lifetime)
	}
	iss := "https://sts.windows.net/" + id.TenantID + "/"
	return claims{
		Aud: aud, Iss: iss, IdP: iss,
		Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(lifetime).Unix(),
		AppID: id.ClientID, AppIDACR: "2", IDType: "app",
		OID: id.ObjectID, Sub: id.ObjectID, TID: id.TenantID,
		UTI: base64.RawURLEncoding.EncodeToString([]byte(randomHex(8))), Ver: "1.0",
		MIRID: id.ResourceID,
	}
}

// mint encodes c as a token signed with the emulator's marker.
// A Graph token carries the Graph app roles granted to its principal now;
// e.mu must not be held.
func (e *Emulator) mint(c claims) string {
	if isGraphAudience(c.Aud) {
		c.Roles = e.graphRoles(c.TID, c.OID)
	}
	payload, _ := json.Marshal(c) // claims always marshal
	return tokenHeader + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + e.marker
}

// errToken is a token problem; its message is safe to return to the caller.
type errToken struct{ msg string }

func (e *errToken) Error() string { return e.msg }

// bearerToken is the token of an Authorization header value "Bearer <token>"
// (the scheme in any case); false when h is not one.
func bearerToken(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	return tok, ok && strings.EqualFold(scheme, "Bearer") && tok != ""
}

// parseToken decodes a token the emulator issued. It checks the shape and the
// marker, not the times or the audience.
func (e *Emulator) parseToken(tok string) (claims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return claims{}, &errToken{"The access token is invalid: it is not a JWT."}
	}
	var hdr map[string]any
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &hdr) != nil {
		return claims{}, &errToken{"The access token is invalid: its header is not base64url JSON."}
	}
	var c claims
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(pb, &c) != nil {
		return claims{}, &errToken{"The access token is invalid: its payload is not base64url JSON."}
	}
	if parts[2] != e.marker {
		return claims{}, &errToken{"The access token signature is invalid: it was not issued by this emulator."}
	}
	c.TID, c.OID = norm(c.TID), norm(c.OID)
	if c.TID == "" || c.OID == "" {
		return claims{}, &errToken{"The access token is invalid: it has no tid or oid claim."}
	}
	return c, nil
}

// identity finds the identity with the given client ID; "" means the first one.
func (e *Emulator) identity(clientID string) (Identity, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.findIdentity(func(id Identity) bool { return clientID == "" || id.ClientID == norm(clientID) })
}

func (e *Emulator) findIdentity(match func(Identity) bool) (Identity, bool) {
	for _, id := range e.estate.Identities {
		if match(id) {
			return id, true
		}
	}
	return Identity{}, false
}

// Token returns an access token for the identity with clientID ("" means the
// estate's first identity) and the given resource (audience), exactly as the
// identity endpoint would. It is for tests that call ARM without the endpoint.
func (e *Emulator) Token(clientID, resource string) (string, time.Time, error) {
	id, ok := e.identity(clientID)
	if !ok {
		return "", time.Time{}, fmt.Errorf("emulator: no identity with client ID %q", clientID)
	}
	if resource == "" {
		return "", time.Time{}, errors.New("emulator: resource is required")
	}
	now := time.Now()
	c := claimsFor(id, resource, now, e.tokenLifetime)
	return e.mint(c), time.Unix(c.Exp, 0), nil
}

// Credential returns an [azcore.TokenCredential] that mints tokens with [Emulator.Token]
// without going over HTTP. GetToken needs exactly one scope; "/.default" is cut off.
func (e *Emulator) Credential(clientID string) azcore.TokenCredential {
	return &credential{e: e, clientID: clientID}
}

type credential struct {
	e        *Emulator
	clientID string
}

func (c *credential) GetToken(_ context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if len(opts.Scopes) != 1 {
		return azcore.AccessToken{}, errors.New("emulator credential: GetToken requires exactly one scope")
	}
	tok, exp, err := c.e.Token(c.clientID, strings.TrimSuffix(opts.Scopes[0], "/.default"))
	if err != nil {
		return azcore.AccessToken{}, err
	}
	return azcore.AccessToken{Token: tok, ExpiresOn: exp}, nil
}
