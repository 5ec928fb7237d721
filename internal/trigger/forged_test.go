package trigger

import (
	"testing"
	"time"
)

// TestForgedOriginalIDCostsOnlyTheForger: a retry copy's MessageId derives
// only from what the chain wrote and can check. pal-original-message-id is
// trusted only when the delivered MessageId is that ID (or its hash) with
// the /attempt-N suffix; otherwise the copy is named after the delivered
// MessageId. Failed before: message A carrying the victim's ID in the
// property scheduled "victim/attempt-2", so duplicate detection dropped the
// victim's own retry and its tenant was never judged (issue 16, D2).
func TestForgedOriginalIDCostsOnlyTheForger(t *testing.T) {
	recent := now.Add(-10 * time.Minute)
	body := `{"tenantId":"` + tenant + `"}`
	victim := "victim-message"
	copyID := func(id, props string) string {
		t.Helper()
		got, q := retryOnce(t, Options{MaxAttempts: 20}, delivery(t, body, id, recent, props))
		if got.Failure != nil || len(q.scheduled) != 1 {
			t.Fatalf("Failure = %+v, scheduled %d; want one copy", got.Failure, len(q.scheduled))
		}
		return q.scheduled[0].MessageID
	}
	tests := []struct {
		name, id, props, want string
	}{
		{"forged_on_a_first_delivery", "attacker", `{"pal-original-message-id":"` + victim + `"}`, "attacker/attempt-2"},
		{"forged_on_a_copy_of_another_chain", "attacker/attempt-3", `{"pal-attempt":3,"pal-original-message-id":"` + victim + `"}`, "attacker/attempt-4"},
		{"forged_with_an_attempt_suffix_in_the_property", "attacker", `{"pal-original-message-id":"` + victim + `/attempt-1"}`, "attacker/attempt-2"},
		{"the_victim's_own_first_retry", victim, "", victim + "/attempt-2"},
		{"the_victim's_own_copy_with_its_property", victim + "/attempt-2", `{"pal-attempt":2,"pal-original-message-id":"` + victim + `"}`, victim + "/attempt-3"},
	}
	ids := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := copyID(tt.id, tt.props)
			if got != tt.want {
				t.Errorf("copy ID = %q, want %q", got, tt.want)
			}
			ids[tt.name] = got
		})
	}
	for name, id := range ids {
		if (name == "forged_on_a_first_delivery" || name == "forged_on_a_copy_of_another_chain") && id == victim+"/attempt-2" {
			t.Errorf("%s took the victim's copy ID %q", name, id)
		}
	}
}
