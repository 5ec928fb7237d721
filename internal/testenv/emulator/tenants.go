package emulator

import (
	"net/http"
	"slices"
	"strings"
)

// tenantJSON is one entry of GET /tenants (api-version 2022-12-01, the
// specification's GetTenants example): tenantType and tenantBrandingLogoUrl
// are documented for the Home category only, so only Home carries tenantType.
type tenantJSON struct {
	ID             string   `json:"id"`
	TenantID       string   `json:"tenantId"`
	CountryCode    string   `json:"countryCode,omitempty"`
	DisplayName    string   `json:"displayName,omitempty"`
	Domains        []string `json:"domains,omitempty"`
	TenantCategory string   `json:"tenantCategory"`
	DefaultDomain  string   `json:"defaultDomain,omitempty"`
	TenantType     string   `json:"tenantType,omitempty"`
}

// listTenants answers GET /tenants as ARM does for the caller: its home
// tenant (Home) and each customer tenant with a subscription whose Lighthouse
// delegation names the caller (ProjectedBy), paged at the estate's page size.
// A tenant the estate does not name is listed without displayName and
// domains. ManagedBy entries (tenants managing the caller's own tenant) are
// not listed.
func (e *Emulator) listTenants(w http.ResponseWriter, r *http.Request, p principal, _ []string) *armError {
	e.mu.Lock()
	projected := map[string]bool{}
	for i := range e.estate.Subscriptions {
		s := &e.estate.Subscriptions[i]
		if s.TenantID != p.tid && s.reaches(p.tid, p.oid) {
			projected[s.TenantID] = true
		}
	}
	ids := make([]string, 0, len(projected))
	for id := range projected {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	all := make([]tenantJSON, 0, len(ids)+1)
	all = append(all, e.renderTenant(p.tid, "Home"))
	for _, id := range ids {
		all = append(all, e.renderTenant(id, "ProjectedBy"))
	}
	e.mu.Unlock()
	out, aerr := page(r, all, e.estate.PageSize)
	if aerr != nil {
		return aerr
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// renderTenant is tenant id as the tenants list shows it; e.mu must be held.
func (e *Emulator) renderTenant(id, category string) tenantJSON {
	t := tenantJSON{ID: "/tenants/" + id, TenantID: id, TenantCategory: category}
	if category == "Home" {
		t.TenantType = "AAD"
	}
	i := slices.IndexFunc(e.estate.Tenants, func(t Tenant) bool { return t.ID == id })
	if i < 0 {
		return t
	}
	tn := e.estate.Tenants[i]
	t.DisplayName, t.CountryCode = tn.Name, "US"
	if t.DefaultDomain = tn.Domain; t.DefaultDomain == "" {
		t.DefaultDomain = defaultDomain(tn.Name)
	}
	if t.DefaultDomain != "" {
		t.Domains = []string{t.DefaultDomain}
	}
	return t
}

// defaultDomain is the initial domain Entra ID gives a tenant named name:
// its letters and digits, lower case, under onmicrosoft.com.
func defaultDomain(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return b.String() + ".onmicrosoft.com"
}
