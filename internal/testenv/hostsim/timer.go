package hostsim

import (
	"context"
	"time"
)

// timerState is what the host's schedule monitor remembers about a timer function.
type timerState struct {
	last, lastUpdated time.Time
}

// timerInfo is TimerInfo as JObject.FromObject writes it.
type timerInfo struct {
	Schedule       timerSchedule   `json:"Schedule"`
	ScheduleStatus *scheduleStatus `json:"ScheduleStatus"`
	IsPastDue      bool            `json:"IsPastDue"`
}

type timerSchedule struct {
	AdjustForDST bool `json:"AdjustForDST"`
}

// scheduleStatus holds local-kind DateTime values; on Azure local time is UTC, so they
// print with "+00:00".
type scheduleStatus struct {
	Last        string `json:"Last"`
	Next        string `json:"Next"`
	LastUpdated string `json:"LastUpdated"`
}

// Timer fires a timerTrigger function once, now. Data.<trigger> carries the TimerInfo
// the host would pass: ScheduleStatus.Last is the previous firing (before the first one
// in this Host: the schedule's previous occurrence), Next is the occurrence being fired
// (with isPastDue: the missed previous occurrence), LastUpdated is when the status was
// last written. ScheduleStatus is null when the schedule monitor is off (useMonitor
// false, or by default for schedules more frequent than once a minute). Metadata holds
// only sys.
func (h *Host) Timer(ctx context.Context, function string, isPastDue bool) (*InvocationResult, error) {
	f, err := h.lookupTrigger(function, TriggerTimer)
	if err != nil {
		return nil, err
	}
	sched, err := parseSchedule(f.Schedule)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	useMonitor := monitorByDefault(sched, now)
	if v, ok := prop(f.Trigger.Properties, "useMonitor").(bool); ok {
		useMonitor = v
	}
	info := timerInfo{Schedule: timerSchedule{AdjustForDST: true}, IsPastDue: isPastDue}
	if useMonitor {
		h.mu.Lock()
		st, ok := h.timers[f.Name]
		h.mu.Unlock()
		if !ok {
			prev, found := previousOccurrence(sched, now)
			if !found {
				prev = now
			}
			st = &timerState{last: prev, lastUpdated: prev}
		}
		next := now.Truncate(time.Second)
		if isPastDue {
			if prev, found := previousOccurrence(sched, now); found {
				next = prev
			}
		}
		info.ScheduleStatus = &scheduleStatus{
			Last:        st.last.Format(layoutLocal),
			Next:        next.Format(layoutLocal),
			LastUpdated: st.lastUpdated.Format(layoutLocal),
		}
	}
	data := map[string]any{f.Trigger.Name: info}
	md := map[string]any{"sys": newSys(f.Name, now)}
	res, _, err := h.invoke(ctx, f, envelope{Data: data, Metadata: md})
	if err != nil {
		return nil, err
	}
	if useMonitor {
		// TimerListener records the run whatever its outcome.
		h.mu.Lock()
		h.timers[f.Name] = &timerState{last: now, lastUpdated: time.Now().UTC()}
		h.mu.Unlock()
	}
	return res, nil
}
