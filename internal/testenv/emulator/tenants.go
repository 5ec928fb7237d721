package emulator

import (
	"net/http"
	"slices"
	"strings"
	"unicode"
)

// tenantJSON is a TenantIdDescription of Microsoft.Resources 2022-12-01
// (GET /tenants; Microsoft's example GetTenants.json).
type tenantJSON struct {
	ID             string   `json:"id"`
	TenantID       string   `json:"tenantId"`
	CountryCode    string   `json:"countryCode"`
	DisplayName    string   `json:"displayName"`
	Domains        []string `json:"domains"`
	TenantCategory string   `json:"tenantCategory"`
	DefaultDomain  string   `json:"defaultDomain"`
	TenantType     string   `json:"tenantType"`
}

// listTenants serves GET /tenants: the caller's home tenant (category Home)
// and the tenants whose subscriptions it reaches through an Azure Lighthouse
// delegation (ProjectedBy), in tenant ID order, paged at the estate's page
// size as ARM pages it with nextLink.
func (e *Emulator) listTenants(w http.ResponseWriter, r *http.Request, p principal, _ []string) *armError {
	e.mu.Lock()
	category := map[string]string{p.tid: "Home"}
	ids := e.principalIDs(p) // its own object ID and its groups'
	for i := range e.estate.Subscriptions {
		s := &e.estate.Subscriptions[i]
		if s.TenantID != p.tid && s.reaches(p.tid, ids) {
			category[s.TenantID] = "ProjectedBy"
		}
	}
	names := map[string]string{}
	for _, t := range e.estate.Tenants {
		names[t.ID] = t.Name
	}
	e.mu.Unlock()
	tenants := make([]string, 0, len(category))
	for id := range category {
		tenants = append(tenants, id)
	}
	slices.Sort(tenants)
	all := make([]tenantJSON, 0, len(tenants))
	for _, id := range tenants {
		name := names[id]
		domain := tenantDomain(name, id)
		all = append(all, tenantJSON{
			ID: "/tenants/" + id, TenantID: id, CountryCode: "US", DisplayName: name,
			Domains: []string{domain}, TenantCategory: category[id], DefaultDomain: domain, TenantType: "AAD",
		})
	}
	out, aerr := page(r, all, e.estate.PageSize)
	if aerr != nil {
		return aerr
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// tenantDomain is a tenant's initial domain: its name's letters and digits
// (else its ID's first group) under onmicrosoft.com.
func tenantDomain(name, id string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		b.WriteString(strings.SplitN(id, "-", 2)[0])
	}
	return b.String() + ".onmicrosoft.com"
}
