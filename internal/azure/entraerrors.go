package azure

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// Entra error codes (AADSTS…) of the assertion flow that translateEntra names.
const (
	aadstsNoServicePrincipal = 700016 // the app has no service principal in the tenant
	aadstsNoMatchingFIC      = 70021  // no federated credential matches (also right after one was created)
	aadstsNoFICs             = 70025  // the app has no federated credential at all
	aadstsIssuerMismatch     = 700211 // no federated credential with the assertion's issuer
	aadstsAudienceMismatch   = 700212 // no federated credential with the assertion's audience
	aadstsSubjectMismatch    = 700213 // no federated credential with the assertion's subject
)

// aadstsPattern finds an AADSTS error code in a message (compiled on first
// use: no regexp is compiled at package init).
var aadstsPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`AADSTS([0-9]{4,7})`) })

// entraContext is what a translated message needs to say.
type entraContext struct {
	tenantID, clientID, audience, authority, issuerHost string
	direct                                              bool
}

// translateEntra turns an error of the app's ClientAssertionCredential into a
// [*pal.Error] whose message is safe to show (an AADSTS code and what to fix,
// never the assertion, a token or the raw answer):
//
//   - AADSTS700211/700212/700213 (issuer, audience, subject mismatch) and
//     AADSTS70025 (no federated credential) → CodeRejected, naming the
//     federated credential setting to fix
//   - AADSTS70021 (no matching federated credential; also what Entra answers
//     minutes after one was created) → CodeTransient
//   - AADSTS700016 (no service principal in the tenant) → CodeNotConsented
//     with the admin-consent URL in a customer tenant; CodeRejected in the
//     managing tenant (a wrong PAL_APP_CLIENT_ID)
//   - 408, 429, 5xx and no answer at all (network) → CodeTransient
//   - any other answer → CodeRejected with its AADSTS code
func translateEntra(err error, ec entraContext) error {
	var pe *pal.Error
	if errors.As(err, &pe) {
		return err
	}
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || afe.RawResponse == nil {
		return &pal.Error{Code: pal.CodeTransient, Message: fmt.Sprintf("get a token as app %s in tenant %s: no answer from Entra ID", ec.clientID, ec.tenantID), Err: err}
	}
	status := afe.RawResponse.StatusCode
	code := aadstsCode(afe.RawResponse)
	prefix := fmt.Sprintf("Entra ID refused the managed identity's assertion for app %s in tenant %s (AADSTS%d): ", ec.clientID, ec.tenantID, code)
	host := ec.issuerHost
	if host == "" {
		host = IssuerHostPublic
	}
	issuer := strings.TrimRight(host, "/") + "/<managing tenant ID>/v2.0"
	rejected := func(msg string) error {
		return &pal.Error{Code: pal.CodeRejected, Message: prefix + msg, Err: err}
	}
	switch code {
	case aadstsIssuerMismatch:
		return rejected("no federated credential of the app has the managed identity's issuer; set the federated credential's issuer to " + issuer)
	case aadstsAudienceMismatch:
		return rejected("no federated credential of the app has the audience " + ec.audience + "; set the federated credential's audiences to [" + ec.audience + "]")
	case aadstsSubjectMismatch:
		return rejected("no federated credential of the app has the managed identity as subject; set the federated credential's subject to the user-assigned identity's principal (object) ID")
	case aadstsNoFICs:
		return rejected("the app has no federated credential; add one trusting the function's user-assigned identity (issuer, subject = its principal ID, audience " + ec.audience + ")")
	case aadstsNoMatchingFIC:
		return &pal.Error{Code: pal.CodeTransient, Message: prefix + "no federated credential matches yet; a new one takes minutes to apply, otherwise check its issuer, subject and audience", Err: err}
	case aadstsNoServicePrincipal:
		if ec.direct {
			return &pal.Error{
				Code: pal.CodeNotConsented,
				Message: fmt.Sprintf("app %s has no service principal in tenant %s: an administrator of the tenant has not granted admin consent; consent at %s",
					ec.clientID, ec.tenantID, AdminConsentURL(ec.authority, ec.tenantID, ec.clientID)),
				Err: err,
			}
		}
		return rejected("the app has no service principal in the managing tenant; check PAL_APP_CLIENT_ID (the app must be registered in the managed identity's tenant)")
	}
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		return &pal.Error{Code: pal.CodeTransient, Message: fmt.Sprintf("get a token as app %s in tenant %s: Entra ID answered %d", ec.clientID, ec.tenantID, status), Err: err}
	case code != 0:
		return rejected("see the AADSTS code in the Entra ID documentation")
	default:
		return &pal.Error{Code: pal.CodeRejected, Message: fmt.Sprintf("get a token as app %s in tenant %s: Entra ID answered %d", ec.clientID, ec.tenantID, status), Err: err}
	}
}

// aadstsCode returns the first AADSTS code of an Entra error answer: the
// error_codes array, else an AADSTS number in error_description; 0 if none.
func aadstsCode(resp *http.Response) int {
	body, err := runtime.Payload(resp)
	if err != nil || len(body) == 0 {
		return 0
	}
	var e struct {
		Codes       []int  `json:"error_codes"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) == nil {
		if len(e.Codes) > 0 {
			return e.Codes[0]
		}
		if m := aadstsPattern().FindStringSubmatch(e.Description); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n
		}
		return 0
	}
	if m := aadstsPattern().FindSubmatch(body); m != nil {
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	return 0
}
