package web

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// lookUp asks dir for the tenants' names and the identity, both at once,
// within directoryTimeout; what it cannot learn stays empty (IDs only, link
// not known).
func lookUp(ctx context.Context, dir Directory) (map[string]TenantName, *Identity) {
	if dir == nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, directoryTimeout)
	defer cancel()
	var (
		names map[string]TenantName
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		if n, err := dir.TenantNames(ctx); err == nil {
			names = n
		}
	})
	id, err := dir.Identity(ctx)
	if err != nil {
		id = nil
	}
	wg.Wait()
	return names, id
}

// whoOf is the header of the identity id (nil: not known).
func whoOf(id *Identity) *whoView {
	if id == nil {
		return &whoView{PartnerID: "not known", Link: "not known", LinkClass: "warn", Kind: "not known"}
	}
	w := &whoView{PartnerID: id.PartnerID, Kind: id.Kind}
	var parts []string
	if id.ClientID != "" {
		parts = append(parts, "client ID "+id.ClientID)
	}
	if id.ObjectID != "" {
		parts = append(parts, "object ID "+id.ObjectID)
	}
	if id.TenantID != "" {
		parts = append(parts, "tenant "+id.TenantID)
	}
	w.Identity = strings.Join(parts, " · ")
	w.Link, w.LinkClass, w.LinkRemedy = linkState(id)
	return w
}

// linkState says what the identity's partner link is now, its class (ok,
// warn, bad) and, when it does not credit the partner, what to do.
func linkState(id *Identity) (state, class, remedy string) {
	l := id.Link
	switch {
	case id.Kind == KindDirect:
		return "one per customer tenant (a tenant without one shows its subscriptions as unlinked)", "", ""
	case id.LinkProblem != "":
		return "not known: " + id.LinkProblem, "warn", ""
	case !l.Active():
		return "not linked", "bad", "Onboard a customer (the form below, POST /api/links) or run handler link: that creates the link."
	case l.PartnerID == id.PartnerID:
		return "linked to " + partnerOf(l), "ok", ""
	case slices.Contains(id.Allowed, l.PartnerID):
		return "linked to " + partnerOf(l) + ", an allowed partner ID", "ok", ""
	default:
		return "linked to " + partnerOf(l) + ", outside the allowed set", "bad",
			"Set PAL_RELINK_FOREIGN=true (the next sweep changes it), or add the ID to PAL_ALLOWED_PARTNER_IDS if it is yours."
	}
}

// partnerOf is a link's partner ID with its name when the service gave one.
func partnerOf(l *pal.Link) string {
	if l.PartnerName != "" {
		return l.PartnerID + " (" + l.PartnerName + ")"
	}
	return l.PartnerID
}

// linkOutcome says what happened to the link in one invocation, as the
// links page shows it; readOnly is a GET status query, which never writes.
func linkOutcome(l pal.LinkResult, readOnly bool) string {
	switch l.Action {
	case pal.LinkCreated:
		return "created: linked to " + l.PartnerID
	case pal.LinkRelinked:
		return "changed from " + l.PreviousPartnerID + " to " + l.PartnerID
	case pal.LinkForeign:
		id := l.PreviousPartnerID
		if id == "" {
			id = l.PartnerID
		}
		return "linked to " + id + ", outside the allowed set, and left as it is (PAL_RELINK_FOREIGN is off)"
	}
	if l.PartnerID != "" {
		return "already linked to " + l.PartnerID
	}
	if readOnly {
		return "not linked (a status query creates no link; onboarding does)"
	}
	return "not linked"
}
