package emulator

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// partnerTimeLayout writes times with 7 fractional digits, as the service does.
const partnerTimeLayout = "2006-01-02T15:04:05.0000000Z"

type partnerPropertiesJSON struct {
	PartnerID   string `json:"partnerId"`
	PartnerName string `json:"partnerName"`
	TenantID    string `json:"tenantId"`
	ObjectID    string `json:"objectId"`
	Version     int    `json:"version"`
	UpdatedTime string `json:"updatedTime"`
	CreatedTime string `json:"createdTime"`
	State       string `json:"state"`
}

type partnerJSON struct {
	ID         string                `json:"id"`
	Type       string                `json:"type"`
	Name       string                `json:"name"`
	Etag       int                   `json:"etag"`
	Properties partnerPropertiesJSON `json:"properties"`
}

// renderPartner renders l; e.mu must be held.
func (e *Emulator) renderPartner(l Link) partnerJSON {
	name := e.estate.PartnerNames[l.PartnerID]
	if name == "" {
		name = "Partner " + l.PartnerID
	}
	return partnerJSON{
		ID:   "/providers/microsoft.managementpartner/partners/" + l.PartnerID,
		Type: "Microsoft.ManagementPartner/partners",
		Name: l.PartnerID,
		Etag: l.Version,
		Properties: partnerPropertiesJSON{
			PartnerID: l.PartnerID, PartnerName: name, TenantID: l.TenantID, ObjectID: l.ObjectID,
			Version: l.Version, UpdatedTime: l.UpdatedTime.UTC().Format(partnerTimeLayout),
			CreatedTime: l.CreatedTime.UTC().Format(partnerTimeLayout), State: l.State,
		},
	}
}

func errNoPartner() *armError {
	return newARMError(http.StatusNotFound, "NotFound", "No management partner is linked to this user or service principal.")
}

// checkPartnerID validates a partner ID for PUT and PATCH; e.mu must be held.
func (e *Emulator) checkPartnerID(id string) *armError {
	if !partnerIDRE.MatchString(id) {
		return newARMError(http.StatusBadRequest, "InvalidPartnerId",
			"The partner ID '%s' is invalid: it must be a 6 or 7 digit location-based partner ID.", id)
	}
	if len(e.estate.KnownPartnerIDs) > 0 && !slices.Contains(e.estate.KnownPartnerIDs, id) {
		return newARMError(http.StatusBadRequest, "InvalidPartnerId",
			"The partner ID '%s' is invalid: no such partner location is known (known: %s).", id, strings.Join(e.estate.KnownPartnerIDs, ", "))
	}
	return nil
}

// GET /providers/Microsoft.ManagementPartner/partners: the caller's active link.
func (e *Emulator) getCurrentPartner(w http.ResponseWriter, _ *http.Request, p principal, _ []string) *armError {
	return e.answerPartner(w, func() (*partnerJSON, *armError) {
		l := e.links[p]
		if l == nil || !l.Active() {
			return nil, errNoPartner()
		}
		return e.rendered(l), nil
	})
}

// GET /providers/Microsoft.ManagementPartner/partners/{id}: the caller's active
// link when it is to id; 404 otherwise (also when linked to another ID).
func (e *Emulator) getPartner(w http.ResponseWriter, _ *http.Request, p principal, args []string) *armError {
	return e.answerPartner(w, func() (*partnerJSON, *armError) {
		l := e.links[p]
		if l == nil || !l.Active() || l.PartnerID != args[0] {
			return nil, errNoPartner()
		}
		return e.rendered(l), nil
	})
}

// PUT: create the caller's link, or re-activate a soft-deleted one. 409
// PartnerIdAlreadyLinked when an active link exists, whatever its ID.
func (e *Emulator) putPartner(w http.ResponseWriter, _ *http.Request, p principal, args []string) *armError {
	id := args[0]
	return e.answerPartner(w, func() (*partnerJSON, *armError) {
		if aerr := e.checkPartnerID(id); aerr != nil {
			return nil, aerr
		}
		now := time.Now().UTC()
		l := e.links[p]
		switch {
		case l == nil:
			l = &Link{TenantID: p.tid, ObjectID: p.oid, PartnerID: id, State: LinkActive, Version: 1, CreatedTime: now, UpdatedTime: now}
			e.links[p] = l
		case l.Active():
			return nil, newARMError(http.StatusConflict, "PartnerIdAlreadyLinked", "This user or service principal is already linked with a Partner ID")
		default:
			l.PartnerID, l.State, l.UpdatedTime = id, LinkActive, now
			l.Version++
		}
		return e.rendered(l), nil
	})
}

// PATCH: change the partner ID of the caller's active link.
func (e *Emulator) patchPartner(w http.ResponseWriter, _ *http.Request, p principal, args []string) *armError {
	id := args[0]
	return e.answerPartner(w, func() (*partnerJSON, *armError) {
		if aerr := e.checkPartnerID(id); aerr != nil {
			return nil, aerr
		}
		l := e.links[p]
		if l == nil || !l.Active() {
			return nil, errNoPartner()
		}
		l.PartnerID, l.UpdatedTime = id, time.Now().UTC()
		l.Version++
		return e.rendered(l), nil
	})
}

// DELETE: soft-delete the caller's active link to id; 200 with an empty body.
// 404 when there is no active link to id.
func (e *Emulator) deletePartner(w http.ResponseWriter, _ *http.Request, p principal, args []string) *armError {
	return e.answerPartner(w, func() (*partnerJSON, *armError) {
		l := e.links[p]
		if l == nil || !l.Active() || l.PartnerID != args[0] {
			return nil, errNoPartner()
		}
		l.State, l.UpdatedTime = LinkDeleted, time.Now().UTC()
		l.Version++
		return nil, nil
	})
}

// answerPartner runs f under the lock and writes its answer after: the body, an
// empty 200 when f returns neither body nor error, or the error.
func (e *Emulator) answerPartner(w http.ResponseWriter, f func() (*partnerJSON, *armError)) *armError {
	e.mu.Lock()
	body, aerr := f()
	e.mu.Unlock()
	switch {
	case aerr != nil:
		return aerr
	case body == nil:
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
	default:
		writeJSON(w, http.StatusOK, body)
	}
	return nil
}

// rendered renders l; e.mu must be held.
func (e *Emulator) rendered(l *Link) *partnerJSON {
	out := e.renderPartner(*l)
	return &out
}
