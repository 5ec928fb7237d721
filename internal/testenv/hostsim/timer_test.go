package hostsim

import (
	"encoding/json"
	"errors"
	"regexp"
	"testing"
	"time"
)

func timerApp(t *testing.T) string {
	return writeApp(t, basicHostJSON, map[string]string{
		"sweep/function.json": `{"bindings": [{"type": "timerTrigger", "direction": "in", "name": "timer", "schedule": "%APP_SCHEDULE%"}]}`,
		"fast/function.json":  `{"bindings": [{"type": "timerTrigger", "direction": "in", "name": "tick", "schedule": "*/5 * * * * *"}]}`,
	})
}

func TestTimerPayload(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: timerApp(t), Env: []string{"app_schedule=0 0 3 * * *"}}) // settings match ignoring case
	if f, _ := h.Function("sweep"); f.Schedule != "0 0 3 * * *" || f.TriggerType != TriggerTimer {
		t.Fatalf("function = %+v, want the schedule resolved", f)
	}
	ctx := testContext(t)
	before := time.Now().UTC()
	res, err := h.Timer(ctx, "sweep", false)
	if err != nil {
		t.Fatal(err)
	}
	r := receivedOf(t, res)
	var info struct {
		Schedule       map[string]any
		ScheduleStatus map[string]string
		IsPastDue      *bool
	}
	if err := json.Unmarshal(r.Data["timer"], &info); err != nil {
		t.Fatal(err)
	}
	if info.Schedule["AdjustForDST"] != true || info.IsPastDue == nil || *info.IsPastDue {
		t.Errorf("timer = %s", r.Data["timer"])
	}
	offset := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?\+00:00$`)
	for _, k := range []string{"Last", "Next", "LastUpdated"} {
		if !offset.MatchString(info.ScheduleStatus[k]) {
			t.Errorf("ScheduleStatus.%s = %q", k, info.ScheduleStatus[k])
		}
	}
	last, _ := time.Parse(time.RFC3339, info.ScheduleStatus["Last"])
	if last.Hour() != 3 || last.Minute() != 0 || !last.Before(before) || before.Sub(last) > 24*time.Hour {
		t.Errorf("first Last = %v, want the schedule's previous occurrence", last)
	}
	if len(r.Metadata) != 1 || r.Metadata["sys"] == nil {
		t.Errorf("Metadata = %v, want only sys", r.Metadata)
	}

	res, err = h.Timer(ctx, "sweep", true)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(receivedOf(t, res).Data["timer"], &info)
	last, _ = time.Parse(time.RFC3339Nano, info.ScheduleStatus["Last"])
	if last.Before(before.Add(-time.Second)) || !*info.IsPastDue {
		t.Errorf("second run: Last = %v (want the first run), IsPastDue = %v", last, *info.IsPastDue)
	}
	next, _ := time.Parse(time.RFC3339, info.ScheduleStatus["Next"])
	if next.Hour() != 3 || !next.Before(before) {
		t.Errorf("past-due Next = %v, want the missed occurrence", next)
	}

	res, err = h.Timer(ctx, "fast", false)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(receivedOf(t, res).Data["tick"]); !regexp.MustCompile(`"ScheduleStatus":null`).MatchString(got) {
		t.Errorf("sub-minute schedule: timer = %s, want ScheduleStatus null (no monitor)", got)
	}
	if _, err := h.Timer(ctx, "nope", false); !errors.Is(err, ErrUnknownFunction) {
		t.Errorf("Timer(nope) = %v", err)
	}
}
