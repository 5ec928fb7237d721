package pal

import (
	"context"
	"fmt"
	"strings"

	"github.com/rs/zerolog"
)

// linkPolicy is the partner-link policy that both engines apply ([Engine] for
// the managing tenant's identity, [DirectEngine] in each customer tenant):
// which partner ID a request targets, which IDs credit the partner, and what
// to write — GET the link, then PUT, nothing or PATCH (see ensure).
type linkPolicy struct {
	// partnerID is the default target (PAL_PARTNER_ID).
	partnerID string
	// allowed holds partnerID and PAL_ALLOWED_PARTNER_IDS.
	allowed map[string]bool
	// relinkForeign PATCHes a link outside the allowed set (PAL_RELINK_FOREIGN).
	relinkForeign bool
}

// newLinkPolicy checks the partner IDs of options and returns their policy.
func newLinkPolicy(partnerID string, options *EngineOptions) (*linkPolicy, error) {
	if !ValidPartnerID(partnerID) {
		return nil, fmt.Errorf("partner ID %q: must be digits", partnerID)
	}
	allowed := map[string]bool{partnerID: true}
	for _, id := range options.AllowedPartnerIDs {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !ValidPartnerID(id) {
			return nil, fmt.Errorf("allowed partner ID %q: must be digits", id)
		}
		allowed[id] = true
	}
	return &linkPolicy{partnerID: partnerID, allowed: allowed, relinkForeign: options.RelinkForeign}, nil
}

// allows reports whether a request may name partnerID: the one partner-ID
// check of both engines (their Allowed) and of the triggers.
func (p *linkPolicy) allows(partnerID string) bool { return p.allowed[partnerID] }

// PartnerNotAllowed is the error for a request that names partnerID outside
// the allowed set: the one wording and code (CodePartnerNotAllowed, answered
// 403) of that refusal, whether the engine or a trigger finds it.
func PartnerNotAllowed(partnerID string) *Error {
	return &Error{
		Code:    CodePartnerNotAllowed,
		Message: fmt.Sprintf("partner ID %s is not allowed here; allowed are PAL_PARTNER_ID and PAL_ALLOWED_PARTNER_IDS", partnerID),
		Fields:  map[string]string{"partnerId": "not in the allowed set"},
	}
}

// target returns the partner ID a request asks for ("" = the default), and
// whether it named one.
func (p *linkPolicy) target(requested string) (linkRequest, error) {
	if requested == "" {
		return linkRequest{target: p.partnerID}, nil
	}
	if !p.allows(requested) {
		return linkRequest{}, PartnerNotAllowed(requested)
	}
	return linkRequest{target: requested, explicit: true}, nil
}

// linkRequest is what an invocation asks of the link.
type linkRequest struct {
	// target is the partner ID to link when the policy writes.
	target string
	// explicit is true when the request named target: an allowed link to
	// another ID is then changed to it.
	explicit bool
	// write allows PUT and PATCH; false only reads (Status, a read-only sweep).
	write bool
}

// linkState is the link after the policy ran.
type linkState struct {
	result LinkResult
	// ok is true when the link holds an allowed partner ID.
	ok bool
	// problem says why the link does not credit the partner (when !ok).
	problem string
}

// identityLink is one identity's partner link: the API to it and the lock
// that serialises its writes within the process. The managing identity has
// one; in direct mode each customer tenant's service principal has its own.
type identityLink struct {
	links PartnerLinker
	// lock is a one-slot channel on purpose: that is the simplest lock whose
	// waiting honours the context (sync.Mutex cannot be given up on, and
	// errgroup or a weighted semaphore would add nothing for a single slot).
	lock chan struct{}
}

func newIdentityLink(links PartnerLinker) *identityLink {
	return &identityLink{links: links, lock: make(chan struct{}, 1)}
}

// ensure applies the create-or-update policy to id's link:
//
//   - no link: PUT the target (write) or report it missing (read-only);
//   - linked to the target: nothing;
//   - linked to another allowed ID: nothing, unless the request named the
//     target explicitly, then PATCH to it;
//   - linked to an ID outside the allowed set: PATCH when RelinkForeign (and
//     writing), otherwise report it as foreign.
//
// A PUT that fails with CodeAlreadyLinked (any 409) means another writer raced us:
// the link is read again and the policy applied to what is there now.
func (p *linkPolicy) ensure(ctx context.Context, log *zerolog.Logger, id *identityLink, req linkRequest) (linkState, error) {
	cur, err := id.links.CurrentLink(ctx)
	if err != nil {
		return linkState{}, err
	}
	if req.write && p.needsWrite(cur, req) {
		// Concurrent invocations in this process all see the same missing or
		// wrong link: let one of them write it, and the others read the result.
		if err := id.acquire(ctx); err != nil {
			return linkState{}, err
		}
		defer id.release()
		if cur, err = id.links.CurrentLink(ctx); err != nil {
			return linkState{}, err
		}
	}
	if !cur.Active() {
		if !req.write {
			return linkState{result: LinkResult{Action: LinkNone}, problem: noLinkProblem}, nil
		}
		created, err := id.links.CreateLink(ctx, req.target)
		switch {
		case ErrorCodeOf(err) == CodeAlreadyLinked:
			log.Warn().Str("partner_id", req.target).Msg("PUT found the identity already linked; reading the link again")
			cur, err = id.links.CurrentLink(ctx)
			if err != nil {
				return linkState{}, err
			}
			if !cur.Active() {
				return linkState{}, &Error{Code: CodeTransient, Message: "the Management Partner API says the identity is linked but shows no link; try again later"}
			}
		case err != nil:
			return linkState{}, err
		default:
			linked := req.target
			if created != nil && created.PartnerID != "" {
				linked = created.PartnerID
			}
			log.Info().Str("partner_id", linked).Msg("partner link created")
			return linkState{result: LinkResult{Action: LinkCreated, PartnerID: linked}, ok: p.allowed[linked]}, nil
		}
	}

	existing := cur.PartnerID
	switch {
	case existing == req.target:
		return linkState{result: LinkResult{Action: LinkNone, PartnerID: existing}, ok: true}, nil
	case p.allowed[existing] && (!req.explicit || !req.write):
		return linkState{result: LinkResult{Action: LinkNone, PartnerID: existing}, ok: true}, nil
	case p.allowed[existing] || (p.relinkForeign && req.write):
		return p.relink(ctx, log, id, existing, req.target)
	default:
		return linkState{
			result:  LinkResult{Action: LinkForeign, PartnerID: existing, PreviousPartnerID: existing},
			problem: foreignLinkProblem(existing),
		}, nil
	}
}

// stateOf rebuilds the link's state from a [LinkResult], without asking
// Azure: a worker judges with the link its coordinator found.
func (p *linkPolicy) stateOf(l LinkResult) linkState {
	switch {
	case l.PartnerID == "":
		return linkState{result: l, problem: noLinkProblem}
	case l.Action == LinkForeign || !p.allowed[l.PartnerID]:
		return linkState{result: l, problem: foreignLinkProblem(l.PartnerID)}
	default:
		return linkState{result: l, ok: true}
	}
}

// noLinkProblem says why no subscription is attributed without a link.
const noLinkProblem = "the identity has no partner link; an onboarding message or POST /api/links creates it"

// foreignLinkProblem says why a link to partnerID, outside the allowed set, credits no one.
func foreignLinkProblem(partnerID string) string {
	return fmt.Sprintf("the identity is linked to partner ID %s, outside the allowed set; "+
		"it was left alone (PAL_RELINK_FOREIGN=true relinks it)", partnerID)
}

// relink changes id's link from existing to target with PATCH.
func (p *linkPolicy) relink(ctx context.Context, log *zerolog.Logger, id *identityLink, existing, target string) (linkState, error) {
	updated, err := id.links.UpdateLink(ctx, target)
	if ErrorCodeOf(err) == CodeNotFound {
		return linkState{}, &Error{Code: CodeTransient, Message: "the partner link disappeared while it was being changed; try again", Err: err}
	}
	if err != nil {
		return linkState{}, err
	}
	linked := target
	if updated != nil && updated.PartnerID != "" {
		linked = updated.PartnerID
	}
	log.Info().Str("partner_id", linked).Str("previous_partner_id", existing).Msg("partner link changed")
	return linkState{result: LinkResult{Action: LinkRelinked, PartnerID: linked, PreviousPartnerID: existing}, ok: p.allowed[linked]}, nil
}

// needsWrite reports whether the policy would write the link cur.
func (p *linkPolicy) needsWrite(cur *Link, req linkRequest) bool {
	switch {
	case !cur.Active():
		return true
	case cur.PartnerID == req.target:
		return false
	case p.allowed[cur.PartnerID]:
		return req.explicit
	default:
		return p.relinkForeign
	}
}

// acquire takes the identity's link write lock, or gives up with ctx.
func (id *identityLink) acquire(ctx context.Context) error {
	select {
	case id.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return &Error{Code: CodeTransient, Message: "gave up waiting for another invocation to write the partner link", Err: ctx.Err()}
	}
}

func (id *identityLink) release() { <-id.lock }
