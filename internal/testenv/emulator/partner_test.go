package emulator

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sync"
	"testing"
	"time"
)

const partnersPath = "/providers/Microsoft.ManagementPartner/partners"

type partnerBody struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Name       string `json:"name"`
	Etag       int    `json:"etag"`
	Properties struct {
		PartnerID   string `json:"partnerId"`
		PartnerName string `json:"partnerName"`
		TenantID    string `json:"tenantId"`
		ObjectID    string `json:"objectId"`
		Version     int    `json:"version"`
		UpdatedTime string `json:"updatedTime"`
		CreatedTime string `json:"createdTime"`
		State       string `json:"state"`
	} `json:"properties"`
}

var sevenDigitTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$`)

func TestPartnerLifecycle(t *testing.T) {
	w := newWorld()
	est := w.estate()
	est.PartnerNames = map[string]string{"1234567": "Contoso MSP (Seattle)"}
	e := start(t, est, nil)
	tok := armToken(t, e, w.me.ClientID)
	q := "?api-version=2018-02-01"

	steps := []struct {
		name        string
		method      string
		path        string
		wantStatus  int
		wantCode    string
		wantPartner string // partnerId in the body
		wantVersion int
		wantState   string // of the record afterwards ("" = no record)
	}{
		{"GET none", "GET", partnersPath, 404, "NotFound", "", 0, ""},
		{"GET by ID none", "GET", partnersPath + "/1234567", 404, "NotFound", "", 0, ""},
		{"PATCH without link", "PATCH", partnersPath + "/1234567", 404, "NotFound", "", 0, ""},
		{"DELETE without link", "DELETE", partnersPath + "/1234567", 404, "NotFound", "", 0, ""},
		{"PUT creates", "PUT", partnersPath + "/1234567", 200, "", "1234567", 1, "Active"},
		{"GET current", "GET", partnersPath, 200, "", "1234567", 1, "Active"},
		{"GET by ID", "GET", partnersPath + "/1234567", 200, "", "1234567", 1, "Active"},
		{"GET by other ID", "GET", partnersPath + "/7654321", 404, "NotFound", "", 0, "Active"},
		{"PUT same again", "PUT", partnersPath + "/1234567", 409, "PartnerIdAlreadyLinked", "", 0, "Active"},
		{"PUT other", "PUT", partnersPath + "/7654321", 409, "PartnerIdAlreadyLinked", "", 0, "Active"},
		{"PATCH changes", "PATCH", partnersPath + "/7654321", 200, "", "7654321", 2, "Active"},
		{"DELETE old ID", "DELETE", partnersPath + "/1234567", 404, "NotFound", "", 0, "Active"},
		{"DELETE", "DELETE", partnersPath + "/7654321", 200, "", "", 0, "Deleted"},
		{"GET after delete", "GET", partnersPath, 404, "NotFound", "", 0, "Deleted"},
		{"PATCH after delete", "PATCH", partnersPath + "/7654321", 404, "NotFound", "", 0, "Deleted"},
		{"PUT reactivates", "PUT", partnersPath + "/1234567", 200, "", "1234567", 4, "Active"},
	}
	var created string
	for _, s := range steps {
		a := call(t, e, s.method, s.path+q, tok)
		if a.status != s.wantStatus || a.code(t) != s.wantCode {
			t.Fatalf("%s: %s %s = %d %q (%s), want %d %q", s.name, s.method, s.path, a.status, a.code(t), a.body, s.wantStatus, s.wantCode)
		}
		if s.method == "DELETE" && s.wantStatus == 200 && len(a.body) != 0 {
			t.Errorf("%s: DELETE body = %q, want empty", s.name, a.body)
		}
		if s.method == "PUT" || s.method == "PATCH" {
			if a.header.Get("x-ms-ratelimit-remaining-tenant-writes") == "" {
				t.Errorf("%s: no x-ms-ratelimit-remaining-tenant-writes", s.name)
			}
		}
		if s.wantPartner != "" {
			var b partnerBody
			if err := json.Unmarshal(a.body, &b); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			p := b.Properties
			if b.ID != "/providers/microsoft.managementpartner/partners/"+s.wantPartner || b.Name != s.wantPartner ||
				b.Type != "Microsoft.ManagementPartner/partners" || p.PartnerID != s.wantPartner ||
				p.TenantID != w.managing || p.ObjectID != w.me.ObjectID || p.State != "Active" {
				t.Errorf("%s: body %s", s.name, a.body)
			}
			if b.Etag != s.wantVersion || p.Version != s.wantVersion {
				t.Errorf("%s: etag, version = %d, %d, want %d", s.name, b.Etag, p.Version, s.wantVersion)
			}
			if !sevenDigitTime.MatchString(p.CreatedTime) || !sevenDigitTime.MatchString(p.UpdatedTime) {
				t.Errorf("%s: times %q %q lack 7 fractional digits", s.name, p.CreatedTime, p.UpdatedTime)
			}
			if created == "" {
				created = p.CreatedTime
			} else if p.CreatedTime != created {
				t.Errorf("%s: createdTime = %s, want it kept at %s", s.name, p.CreatedTime, created)
			}
			wantName := "Partner " + s.wantPartner
			if s.wantPartner == "1234567" {
				wantName = "Contoso MSP (Seattle)"
			}
			if p.PartnerName != wantName {
				t.Errorf("%s: partnerName = %q, want %q", s.name, p.PartnerName, wantName)
			}
		}
		l, ok := e.Link(w.me.TenantID, w.me.ObjectID)
		if got := map[bool]string{true: l.State, false: ""}[ok]; got != s.wantState {
			t.Errorf("%s: record state = %q, want %q", s.name, got, s.wantState)
		}
	}

	// The other identity has its own link.
	other := armToken(t, e, w.other.ClientID)
	if a := call(t, e, "GET", partnersPath+q, other); a.status != 404 {
		t.Errorf("other identity GET = %d, want 404", a.status)
	}
	if a := call(t, e, "PUT", partnersPath+"/1234567"+q, other); a.status != 200 {
		t.Errorf("other identity PUT = %d %s", a.status, a.body)
	}
	writes := e.Writes()
	if len(writes) != 11 { // 3 PATCH, 3 DELETE, 4 PUT in the steps + 1 PUT
		t.Errorf("Writes() has %d requests, want 11", len(writes))
	}
}

func TestPartnerIDValidation(t *testing.T) {
	w := newWorld()
	tests := []struct {
		known      []string
		id         string
		wantStatus int
	}{
		{nil, "12345", 400},
		{nil, "12345678", 400},
		{nil, "12a4567", 400},
		{nil, "123456", 200},
		{nil, "1234567", 200},
		{[]string{"1234567"}, "7654321", 400},
		{[]string{"1234567"}, "1234567", 200},
	}
	for _, tt := range tests {
		est := w.estate()
		est.KnownPartnerIDs = tt.known
		e := start(t, est, nil)
		tok := armToken(t, e, w.me.ClientID)
		for _, m := range []string{"PUT", "PATCH"} {
			if m == "PATCH" {
				_ = e.SetLink(Link{TenantID: w.managing, ObjectID: w.me.ObjectID, PartnerID: "111111"})
			}
			a := call(t, e, m, partnersPath+"/"+tt.id+"?api-version=2018-02-01", tok)
			wantCode := map[bool]string{true: "InvalidPartnerId", false: ""}[tt.wantStatus == 400]
			if a.status != tt.wantStatus || a.code(t) != wantCode {
				t.Errorf("known %v %s %s = %d %q, want %d %q", tt.known, m, tt.id, a.status, a.code(t), tt.wantStatus, wantCode)
			}
			e.RemoveLink(w.managing, w.me.ObjectID)
		}
	}
}

func TestSeededAndSetLinks(t *testing.T) {
	w := newWorld()
	est := w.estate()
	est.Links = []Link{{TenantID: w.managing, ObjectID: w.me.ObjectID, PartnerID: "7654321"}}
	e := start(t, est, nil)
	tok := armToken(t, e, w.me.ClientID)
	a := call(t, e, "GET", partnersPath+"?api-version=2018-02-01", tok)
	if a.status != 200 || a.json(t)["name"] != "7654321" {
		t.Fatalf("seeded link: %d %s", a.status, a.body)
	}
	created := time.Date(2018, 1, 20, 1, 23, 40, 528049600, time.UTC)
	if err := e.SetLink(Link{TenantID: w.managing, ObjectID: w.me.ObjectID, PartnerID: "1234567", Version: 57, CreatedTime: created}); err != nil {
		t.Fatal(err)
	}
	var b partnerBody
	_ = json.Unmarshal(call(t, e, "GET", partnersPath+"/1234567?api-version=2018-02-01", tok).body, &b)
	if b.Etag != 57 || b.Properties.CreatedTime != "2018-01-20T01:23:40.5280496Z" {
		t.Errorf("after SetLink: etag %d created %s", b.Etag, b.Properties.CreatedTime)
	}
	if err := e.SetLink(Link{TenantID: w.managing, ObjectID: w.me.ObjectID, PartnerID: "1234567", State: LinkDeleted}); err != nil {
		t.Fatal(err)
	}
	if l, _ := e.Link(w.managing, w.me.ObjectID); l.Active() || l.Version != 58 || !l.CreatedTime.Equal(created) {
		t.Errorf("soft-deleted by SetLink: %+v", l)
	}
	for _, bad := range []Link{{TenantID: w.managing, PartnerID: "1234567"}, {TenantID: w.managing, ObjectID: "x", PartnerID: "12"}, {TenantID: "t", ObjectID: "o", PartnerID: "123456", State: "Gone"}} {
		if err := e.SetLink(bad); err == nil {
			t.Errorf("SetLink(%+v) accepted", bad)
		}
	}
}

// TestConcurrentWriters runs many identities' link writes and state reads at once
// (run with -race).
func TestConcurrentWriters(t *testing.T) {
	est := Estate{}
	managing := newGUID()
	for range 8 {
		est.Identities = append(est.Identities, Identity{ClientID: newGUID(), TenantID: managing, ObjectID: newGUID()})
	}
	e := start(t, est, &Options{Throttle: &Throttle{ReadsPerSecond: 1000, ReadBurst: 1000, WritesPerSecond: 1000, WriteBurst: 1000}})
	var wg sync.WaitGroup
	for _, id := range est.Identities {
		tok := armToken(t, e, id.ClientID)
		wg.Go(func() {
			for range 5 {
				for _, m := range []string{"PUT", "GET", "DELETE"} {
					path := partnersPath + "/1234567?api-version=2018-02-01"
					if m == "GET" {
						path = partnersPath + "?api-version=2018-02-01"
					}
					if status, err := tryCall(e, m, path, tok); err != nil || status != 200 {
						t.Errorf("%s %s = %d, %v", m, path, status, err)
					}
				}
				_ = e.Requests()
				_, _ = e.Link(id.TenantID, id.ObjectID)
			}
		})
	}
	wg.Wait()
	for _, id := range est.Identities {
		l, ok := e.Link(id.TenantID, id.ObjectID)
		if !ok || l.Active() || l.Version != 10 {
			t.Errorf("identity %s: link %+v", id.ObjectID, l)
		}
	}
	if n := len(e.Writes()); n != 80 {
		t.Errorf("writes = %d, want 80", n)
	}
}

func TestPartnerPathForms(t *testing.T) {
	w := newWorld()
	e := start(t, w.estate(), nil)
	tok := armToken(t, e, w.me.ClientID)
	call(t, e, "PUT", partnersPath+"/123456?api-version=2018-02-01", tok)
	for _, p := range []string{
		"/providers/microsoft.managementpartner/partners?api-version=2018-02-01",
		"/providers/Microsoft.ManagementPartner/partners/?api-version=2018-02-01", // az managementpartner show without an ID
		"//providers/Microsoft.ManagementPartner/partners/123456?api-version=2018-02-01",
	} {
		if a := call(t, e, http.MethodGet, p, tok); a.status != 200 {
			t.Errorf("GET %s = %d %s", p, a.status, a.body)
		}
	}
}
