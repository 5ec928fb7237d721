package pal

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"
)

// linkState is the link after the policy ran.
type linkState struct {
	result LinkResult
	// ok is true when the link holds an allowed partner ID.
	ok bool
	// problem says why the link does not credit the partner (when !ok).
	problem string
}

// ensureLink applies the create-or-update policy:
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
func (e *Engine) ensureLink(ctx context.Context, log *zerolog.Logger, target string, explicit, write bool) (linkState, error) {
	cur, err := e.az.Links.CurrentLink(ctx)
	if err != nil {
		return linkState{}, err
	}
	if write && e.needsWrite(cur, target, explicit) {
		// Concurrent invocations in this process all see the same missing or
		// wrong link: let one of them write it, and the others read the result.
		if err := e.lockLink(ctx); err != nil {
			return linkState{}, err
		}
		defer e.unlockLink()
		if cur, err = e.az.Links.CurrentLink(ctx); err != nil {
			return linkState{}, err
		}
	}
	if !cur.Active() {
		if !write {
			return linkState{
				result:  LinkResult{Action: LinkNone},
				problem: noLinkProblem,
			}, nil
		}
		created, err := e.az.Links.CreateLink(ctx, target)
		switch {
		case ErrorCodeOf(err) == CodeAlreadyLinked:
			log.Warn().Str("partner_id", target).Msg("PUT found the identity already linked; reading the link again")
			cur, err = e.az.Links.CurrentLink(ctx)
			if err != nil {
				return linkState{}, err
			}
			if !cur.Active() {
				return linkState{}, &Error{Code: CodeTransient, Message: "the Management Partner API says the identity is linked but shows no link; try again later"}
			}
		case err != nil:
			return linkState{}, err
		default:
			id := target
			if created != nil && created.PartnerID != "" {
				id = created.PartnerID
			}
			log.Info().Str("partner_id", id).Msg("partner link created")
			return linkState{result: LinkResult{Action: LinkCreated, PartnerID: id}, ok: e.allowed[id]}, nil
		}
	}

	existing := cur.PartnerID
	switch {
	case existing == target:
		return linkState{result: LinkResult{Action: LinkNone, PartnerID: existing}, ok: true}, nil
	case e.allowed[existing] && (!explicit || !write):
		return linkState{result: LinkResult{Action: LinkNone, PartnerID: existing}, ok: true}, nil
	case e.allowed[existing] || (e.relinkForeign && write):
		return e.relink(ctx, log, existing, target)
	default:
		return linkState{
			result:  LinkResult{Action: LinkForeign, PartnerID: existing, PreviousPartnerID: existing},
			problem: foreignLinkProblem(existing),
		}, nil
	}
}

// noLinkProblem says why no subscription is attributed without a link.
const noLinkProblem = "the identity has no partner link; an onboarding message or POST /api/links creates it"

// foreignLinkProblem says why a link to partnerID, outside the allowed set, credits no one.
func foreignLinkProblem(partnerID string) string {
	return fmt.Sprintf("the identity is linked to partner ID %s, outside the allowed set; "+
		"it was left alone (PAL_RELINK_FOREIGN=true relinks it)", partnerID)
}

// relink changes the link from existing to target with PATCH.
func (e *Engine) relink(ctx context.Context, log *zerolog.Logger, existing, target string) (linkState, error) {
	updated, err := e.az.Links.UpdateLink(ctx, target)
	if ErrorCodeOf(err) == CodeNotFound {
		return linkState{}, &Error{Code: CodeTransient, Message: "the partner link disappeared while it was being changed; try again", Err: err}
	}
	if err != nil {
		return linkState{}, err
	}
	id := target
	if updated != nil && updated.PartnerID != "" {
		id = updated.PartnerID
	}
	log.Info().Str("partner_id", id).Str("previous_partner_id", existing).Msg("partner link changed")
	return linkState{result: LinkResult{Action: LinkRelinked, PartnerID: id, PreviousPartnerID: existing}, ok: e.allowed[id]}, nil
}

// needsWrite reports whether the policy would write the link.
func (e *Engine) needsWrite(cur *Link, target string, explicit bool) bool {
	switch {
	case !cur.Active():
		return true
	case cur.PartnerID == target:
		return false
	case e.allowed[cur.PartnerID]:
		return explicit
	default:
		return e.relinkForeign
	}
}

// lockLink takes the process-wide link write lock, or gives up with ctx.
func (e *Engine) lockLink(ctx context.Context) error {
	select {
	case e.linkLock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return &Error{Code: CodeTransient, Message: "gave up waiting for another invocation to write the partner link", Err: ctx.Err()}
	}
}

func (e *Engine) unlockLink() { <-e.linkLock }
