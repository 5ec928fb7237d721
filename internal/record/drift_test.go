package record_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
)

func TestLogDrift(t *testing.T) {
	const tid, sid = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
	for _, c := range []struct {
		name     string
		ch       *record.Change
		wantLine bool
	}{
		{"nil change", nil, false},
		{"first judgement attributed", &record.Change{From: "", To: pal.StatusAttributed}, false},
		{"first judgement unlinked", &record.Change{From: "", To: pal.StatusUnlinked}, false},
		{"gained attribution", &record.Change{From: pal.StatusUnlinked, To: pal.StatusAttributed}, false},
		{"between non-attributed", &record.Change{From: pal.StatusUnlinked, To: pal.StatusNotDelegated}, false},
		{"lost to not-delegated", &record.Change{From: pal.StatusAttributed, To: pal.StatusNotDelegated}, true},
		{"lost to error", &record.Change{From: pal.StatusAttributed, To: pal.StatusError}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := zerolog.New(&buf)
			if c.ch != nil {
				c.ch.TenantID, c.ch.SubscriptionID, c.ch.Detail = tid, sid, "the delegation is gone"
			}
			if got := record.LogDrift(&log, c.ch); got != c.wantLine {
				t.Errorf("LogDrift: got %v, want %v", got, c.wantLine)
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if !c.wantLine {
				if buf.Len() != 0 {
					t.Errorf("logged %q, want nothing", buf.String())
				}
				return
			}
			if len(lines) != 1 {
				t.Fatalf("logged %d lines, want 1: %q", len(lines), buf.String())
			}
			var got map[string]string
			if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"level": "warn", "message": "attribution lost", "tenant_id": tid, "subscription_id": sid,
				"status": string(c.ch.To), "detail": "the delegation is gone"}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("field %s: got %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// TestDriftOncePerChange saves the same lost verdict on every sweep and
// logs through LogDrift: one line, not one per sweep.
func TestDriftOncePerChange(t *testing.T) {
	ctx := context.Background()
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	s := record.NewMemory()
	t0 := time.Now()
	v := record.Verdict{TenantID: "t", SubscriptionID: "s", Status: pal.StatusAttributed, CheckedAt: t0}
	for i, st := range []pal.Status{pal.StatusAttributed, pal.StatusAttributed, pal.StatusUnlinked, pal.StatusUnlinked, pal.StatusUnlinked} {
		v.Status, v.CheckedAt = st, t0.Add(time.Duration(i)*time.Minute)
		ch, err := s.Save(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		record.LogDrift(&log, ch)
	}
	if n := strings.Count(buf.String(), `"message":"attribution lost"`); n != 1 {
		t.Errorf("got %d drift lines over 5 sweeps, want 1: %s", n, buf.String())
	}
}
