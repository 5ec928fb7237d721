package message

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

const (
	tenant = "8a3f1c2e-4b5d-4e6f-9a0b-1c2d3e4f5a6b"
	sub1   = "11111111-2222-4333-8444-555555555555"
	sub2   = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
	sub3   = "0f0f0f0f-1e1e-4d2d-8c3c-4b4b4b4b4b4b"
)

var lowerGUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// checkValid fails t unless req satisfies every invariant a decoder promises.
func checkValid(t testing.TB, req pal.Request) {
	t.Helper()
	if !lowerGUID.MatchString(req.TenantID) || req.TenantID == nilGUID {
		t.Errorf("TenantID %q is not a lower-case GUID", req.TenantID)
	}
	if len(req.SubscriptionIDs) > pal.MaxSubscriptionIDs {
		t.Errorf("%d subscription IDs, more than %d", len(req.SubscriptionIDs), pal.MaxSubscriptionIDs)
	}
	if req.SubscriptionIDs != nil && len(req.SubscriptionIDs) == 0 {
		t.Errorf("SubscriptionIDs is empty but not nil")
	}
	seen := map[string]bool{}
	for i, id := range req.SubscriptionIDs {
		if !lowerGUID.MatchString(id) || id == nilGUID {
			t.Errorf("SubscriptionIDs[%d] = %q is not a lower-case GUID", i, id)
		}
		if seen[id] {
			t.Errorf("SubscriptionIDs[%d] = %q is a duplicate", i, id)
		}
		seen[id] = true
	}
	if req.PartnerID != "" && !pal.ValidPartnerID(req.PartnerID) {
		t.Errorf("PartnerID %q is not 1-10 digits", req.PartnerID)
	}
	for name, s := range map[string]string{"RequestedBy": req.RequestedBy, "CorrelationID": req.CorrelationID} {
		if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxTextLen {
			t.Errorf("%s is invalid UTF-8 or longer than %d", name, maxTextLen)
		}
	}
}

// checkInvalidInput fails t unless err is a well-formed invalid-input error
// and returns it.
func checkInvalidInput(t testing.TB, err error) *pal.Error {
	t.Helper()
	var pe *pal.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *pal.Error", err, err)
	}
	if pe.Code != pal.CodeInvalidInput {
		t.Errorf("Code = %q, want %q", pe.Code, pal.CodeInvalidInput)
	}
	if pe.Message == "" || strings.Contains(pe.Message, "\n") {
		t.Errorf("Message %q is not one line", pe.Message)
	}
	if len(pe.Fields) == 0 {
		t.Errorf("no Fields in %v", pe)
	}
	if len(pe.Fields) > maxProblems {
		t.Errorf("%d Fields, more than %d", len(pe.Fields), maxProblems)
	}
	// Field keys and texts quote at most maxEcho bytes of input each; allow
	// for quoting escapes and the fixed wording around them.
	for k, v := range pe.Fields {
		if len(k) > 4*maxEcho+8 {
			t.Errorf("Fields key of %d bytes: %.60q…", len(k), k)
		}
		if len(v) > 4*maxEcho+120 {
			t.Errorf("Fields[%.60q] of %d bytes: %.80q…", k, len(v), v)
		}
	}
	if len(pe.Message) > 8*maxEcho+200 {
		t.Errorf("Message of %d bytes: %.80q…", len(pe.Message), pe.Message)
	}
	return pe
}

// checkFields fails t unless every want key is in got and its text contains
// the wanted text.
func checkFields(t testing.TB, got, want map[string]string) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("Fields has no %q; got %q", k, got)
			continue
		}
		if !strings.Contains(g, w) {
			t.Errorf("Fields[%q] = %q, want it to contain %q", k, g, w)
		}
	}
}
