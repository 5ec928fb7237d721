package recordtest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/pal-keeper/pal-keeper/internal/record"
)

// hostile are customer-chosen strings: custom role names, display names and
// details may hold any of them.
var hostile = []string{
	"Ops;Admin", "a=b", "<b>bold</b>", "x/y", "#tag", "why?", `back\slash`, `"quoted"`, "it's", "tab\there",
	"line\nbreak", "\r\n=1+1", "＝1+1", "naïve 😀", strings.Repeat("n", 1000), strings.Repeat("é", 1000),
}

// runText checks that no customer-chosen string fails a Save: each is
// stored and read back as given, and the characters Table Storage cannot
// keep, or text beyond the bound, come back made storable, never refused.
func runText(t *testing.T, open Open, base record.Verdict) {
	ctx := context.Background()
	t.Run("customer-chosen text is stored as given", func(t *testing.T) {
		s := open(t)
		vs := make([]record.Verdict, len(hostile))
		for i, h := range hostile {
			v := base
			v.SubscriptionID = subscriptionN(i)
			v.DisplayName, v.Detail, v.Roles = h, "detail of "+h, []string{h, "Reader"}
			vs[i] = v
		}
		// Save one by one and SaveAll: both paths write the text.
		for _, v := range vs[:len(vs)/2] {
			mustSave(t, s, v)
		}
		if _, err := s.SaveAll(ctx, vs[len(vs)/2:]); err != nil {
			t.Fatalf("SaveAll: %v", err)
		}
		got := verdicts(t, s, record.Filter{})
		if len(got) != len(vs) {
			t.Fatalf("verdicts: got %d, want %d", len(got), len(vs))
		}
		for i, g := range got {
			w := vs[i]
			if g.DisplayName != w.DisplayName || g.Detail != w.Detail || !slices.Equal(g.Roles, w.Roles) {
				t.Errorf("got %q %q %q, want %q %q %q", g.DisplayName, g.Detail, g.Roles, w.DisplayName, w.Detail, w.Roles)
			}
		}
		if cs := changes(t, s, 0); len(cs) != len(vs) {
			t.Errorf("changes: got %d, want %d", len(cs), len(vs))
		}
	})

	t.Run("text Table Storage cannot keep is made storable", func(t *testing.T) {
		s := open(t)
		long := strings.Repeat("x", 10_000)
		tests := []struct {
			in, want string
		}{
			{"nul\x00bell\x07esc\x1b", "nul\uFFFDbell\uFFFDesc\uFFFD"},
			{"bad \xff utf-8", "bad \uFFFD utf-8"},
			{"\uFFFE\uFFFF", "\uFFFD\uFFFD"},
			{long, strings.Repeat("x", 4<<10-len("…")) + "…"},
		}
		for i, tt := range tests {
			v := base
			v.SubscriptionID = subscriptionN(i)
			v.DisplayName, v.Detail, v.Roles = tt.in, tt.in, []string{tt.in}
			if _, err := s.Save(ctx, v); err != nil {
				t.Fatalf("Save(%q): %v", tt.in[:min(len(tt.in), 40)], err)
			}
		}
		many := base
		many.SubscriptionID = subscriptionN(len(tests))
		many.Roles = make([]string, 40)
		for i := range many.Roles {
			many.Roles[i] = "Role " + strings.Repeat("r", i)
		}
		mustSave(t, s, many)
		got := verdicts(t, s, record.Filter{})
		for i, tt := range tests {
			g := got[i]
			if g.DisplayName != tt.want || g.Detail != tt.want || !slices.Equal(g.Roles, []string{tt.want}) {
				t.Errorf("%d: got %q %q %d roles, want %q", i, g.DisplayName[:min(len(g.DisplayName), 40)], g.Detail[:min(len(g.Detail), 40)], len(g.Roles), tt.want[:min(len(tt.want), 40)])
			}
		}
		if r := got[len(tests)].Roles; len(r) != 32 || r[31] != "… (9 more)" || r[30] != many.Roles[30] {
			t.Errorf("40 roles: got %d, last %q, want 32 ending with \"… (9 more)\"", len(r), r[len(r)-1])
		}
	})

	t.Run("a run's detail is made storable", func(t *testing.T) {
		s := open(t)
		r := record.Run{ID: "run-text", StartedAt: t0, Detail: "tenant \x00 <b>Ops;Admin</b>"}
		if err := s.StartRun(ctx, r); err != nil {
			t.Fatalf("StartRun: %v", err)
		}
		got, err := s.UpdateRun(ctx, r.ID, func(r *record.Run) { r.Detail += " ?#/" })
		if err != nil {
			t.Fatalf("UpdateRun: %v", err)
		}
		if want := "tenant \uFFFD <b>Ops;Admin</b> ?#/"; got.Detail != want {
			t.Errorf("detail: got %q, want %q", got.Detail, want)
		}
		if last, err := s.LastRun(ctx); err != nil || last.Detail != got.Detail {
			t.Errorf("LastRun: got %+v, %v, want detail %q", last, err, got.Detail)
		}
	})
}

// subscriptionN is the i-th of the suite's subscription IDs.
func subscriptionN(i int) string {
	const hex = "0123456789abcdef"
	return "aaaaaaaa-0000-0000-0000-0000000000" + string(hex[i/16%16]) + string(hex[i%16])
}
