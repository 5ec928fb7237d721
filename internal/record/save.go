package record

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// timePrecision is the precision every store keeps times at: Table Storage
// keeps 100 ns ticks, so both stores cut to whole microseconds and a time read
// back equals the time saved.
const timePrecision = time.Microsecond

// normTime returns t in UTC at the stores' precision.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(timePrecision)
}

// invalid returns a CodeInvalidInput error about one field.
func invalid(field, problem string) error {
	return &pal.Error{Code: pal.CodeInvalidInput, Message: "record: " + field + " " + problem, Fields: map[string]string{field: problem}}
}

// checkKey checks a value that becomes part of a Table Storage key: not empty,
// at most 256 characters, none of / \ # ? and no control character.
func checkKey(field, v string) error {
	switch {
	case v == "":
		return invalid(field, "is required")
	case len(v) > 256:
		return invalid(field, "is longer than 256 characters")
	case strings.ContainsAny(v, `/\#?`):
		return invalid(field, `must not contain / \ # or ?`)
	}
	for _, r := range v {
		if r < 0x20 || r >= 0x7f && r <= 0x9f {
			return invalid(field, "must not contain control characters")
		}
	}
	return nil
}

// prepareVerdict checks v and normalises its times and roles.
func prepareVerdict(v Verdict) (Verdict, error) {
	if err := checkKey("tenantId", v.TenantID); err != nil {
		return v, err
	}
	if err := checkKey("subscriptionId", v.SubscriptionID); err != nil {
		return v, err
	}
	if v.Status == "" {
		return v, invalid("status", "is required")
	}
	if v.CheckedAt.IsZero() {
		return v, invalid("checkedAt", "is required")
	}
	v.CheckedAt = normTime(v.CheckedAt)
	v.DisplayName, v.Detail = storedText(v.DisplayName), storedText(v.Detail)
	v.Roles = storedRoles(v.Roles)
	for _, p := range []struct{ field, s string }{
		{"displayName", v.DisplayName}, {"detail", v.Detail}, {"roles", encodeRoles(v.Roles)}, {"checkedBy", v.CheckedBy},
	} {
		if err := checkString(p.field, p.s); err != nil {
			return v, err
		}
	}
	return v, nil
}

// decide applies the Save rule to the new verdict v given the stored one (nil
// when none): it returns the verdict to store with its Since, the change to
// append (nil when the status did not change) and apply=false when v is older
// than the stored verdict, which then stays as it is.
func decide(stored *Verdict, v Verdict) (out Verdict, ch *Change, apply bool) {
	if stored != nil && v.CheckedAt.Before(stored.CheckedAt) {
		return *stored, nil, false
	}
	if stored != nil && stored.Status == v.Status {
		v.Since = stored.Since
		return v, nil, true
	}
	v.Since = v.CheckedAt
	ch = &Change{TenantID: v.TenantID, SubscriptionID: v.SubscriptionID, To: v.Status, At: v.CheckedAt, Detail: v.Detail}
	if stored != nil {
		ch.From = stored.Status
	}
	return v, ch, true
}

// prepareRun checks a new run and fills its defaults.
func prepareRun(r Run) (Run, error) {
	if err := checkKey("runId", r.ID); err != nil {
		return r, err
	}
	if r.StartedAt.IsZero() {
		return r, invalid("startedAt", "is required")
	}
	if r.Outcome == "" {
		r.Outcome = OutcomeRunning
	}
	if err := checkRun(r); err != nil {
		return r, err
	}
	return normRun(r), nil
}

// checkRun refuses a run whose row Table Storage could not keep.
func checkRun(r Run) error {
	if len(r.Counted) > (MaxItems+7)/8 {
		return invalid("counted", fmt.Sprintf("holds more than %d work items", MaxItems))
	}
	return checkString("detail", r.Detail)
}

// normRun normalises a run's times and copies its summary.
func normRun(r Run) Run {
	r.Detail = storedText(r.Detail)
	r.StartedAt = normTime(r.StartedAt)
	r.FinishedAt = normTime(r.FinishedAt)
	r.Summary = maps.Clone(r.Summary)
	r.Counted = slices.Clone(r.Counted)
	return r
}

// applyRun runs fn on a copy of r and keeps what fn must not change.
func applyRun(r Run, fn func(*Run)) Run {
	n := r
	n.Summary = maps.Clone(r.Summary)
	n.Counted = slices.Clone(r.Counted)
	fn(&n)
	n.ID, n.StartedAt = r.ID, r.StartedAt
	return normRun(n)
}

// matches reports whether v passes f.
func (f Filter) matches(v Verdict) bool {
	return (len(f.TenantIDs) == 0 || slices.Contains(f.TenantIDs, v.TenantID)) &&
		(len(f.Statuses) == 0 || slices.Contains(f.Statuses, v.Status))
}

// sortVerdicts sorts by tenant, then subscription.
func sortVerdicts(vs []Verdict) {
	slices.SortFunc(vs, func(a, b Verdict) int {
		if c := strings.Compare(a.TenantID, b.TenantID); c != 0 {
			return c
		}
		return strings.Compare(a.SubscriptionID, b.SubscriptionID)
	})
}

// runNotFound is the error of UpdateRun for an unknown run.
func runNotFound(id string) error {
	return &pal.Error{Code: pal.CodeNotFound, Message: fmt.Sprintf("record: no run %q", id)}
}

// runExists is the error of StartRun for a run ID already stored.
func runExists(id string) error {
	return &pal.Error{Code: pal.CodeRejected, Message: fmt.Sprintf("record: run %q already exists", id)}
}
