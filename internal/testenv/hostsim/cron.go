package hostsim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// schedule is a timer trigger schedule: an NCRONTAB expression or a TimeSpan interval.
// All times are UTC (the simulator does not read WEBSITE_TIME_ZONE).
type schedule interface {
	// next returns the first occurrence strictly after t.
	next(t time.Time) (time.Time, bool)
}

// parseSchedule parses "{second} {minute} {hour} {day} {month} {day-of-week}" (or the
// five-field form without seconds), or a TimeSpan such as "00:05:00".
func parseSchedule(s string) (schedule, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("empty schedule")
	}
	if !strings.ContainsAny(s, " \t") && strings.Contains(s, ":") {
		d, err := parseTimeSpan(s)
		if err != nil {
			return nil, err
		}
		if d <= 0 {
			return nil, fmt.Errorf("interval %q must be positive", s)
		}
		return interval(d), nil
	}
	fields := strings.Fields(s)
	if len(fields) == 5 {
		fields = append([]string{"0"}, fields...)
	}
	if len(fields) != 6 {
		return nil, fmt.Errorf("%q has %d fields; NCRONTAB needs 6 (second minute hour day month day-of-week)", s, len(fields))
	}
	var c cron
	specs := []struct {
		dst      *uint64
		lo, hi   int
		names    []string
		nameBase int
	}{
		{&c.second, 0, 59, nil, 0},
		{&c.minute, 0, 59, nil, 0},
		{&c.hour, 0, 23, nil, 0},
		{&c.dom, 1, 31, nil, 0},
		{&c.month, 1, 12, []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}, 1},
		// NCrontab's day of week is 0-6 (Sunday 0); 7 is refused, as the host does.
		{&c.dow, 0, 6, []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}, 0},
	}
	for i, sp := range specs {
		bits, err := parseCronField(fields[i], sp.lo, sp.hi, sp.names, sp.nameBase)
		if err != nil {
			return nil, fmt.Errorf("field %d %q: %w", i+1, fields[i], err)
		}
		*sp.dst = bits
	}
	if _, ok := c.next(time.Now()); !ok {
		return nil, fmt.Errorf("%q never occurs", s)
	}
	return c, nil
}

func parseCronField(f string, lo, hi int, names []string, nameBase int) (uint64, error) {
	value := func(s string) (int, error) {
		for i, n := range names {
			if strings.EqualFold(s, n) || (len(s) > 3 && strings.HasPrefix(strings.ToLower(s), n)) {
				return i + nameBase, nil
			}
		}
		v, err := strconv.Atoi(s)
		if err != nil || v < lo || v > hi {
			return 0, fmt.Errorf("%q is not in %d-%d", s, lo, hi)
		}
		return v, nil
	}
	var bits uint64
	for _, part := range strings.Split(f, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n <= 0 {
				return 0, fmt.Errorf("bad step %q", stepText)
			}
			step = n
		}
		var from, to int
		switch {
		case rng == "*":
			from, to = lo, hi
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if from, err = value(a); err != nil {
				return 0, err
			}
			if to, err = value(b); err != nil {
				return 0, err
			}
			if to < from {
				return 0, fmt.Errorf("range %q is reversed", rng)
			}
		default:
			v, err := value(rng)
			if err != nil {
				return 0, err
			}
			from, to = v, v
			if hasStep {
				to = hi
			}
		}
		for v := from; v <= to; v += step {
			bits |= 1 << uint(v)
		}
	}
	return bits, nil
}

type cron struct {
	second, minute, hour, dom, month, dow uint64
}

func (c cron) next(after time.Time) (time.Time, bool) {
	t := after.UTC().Truncate(time.Second).Add(time.Second)
	limit := t.AddDate(10, 0, 0)
	for t.Before(limit) {
		y, mo, d := t.Date()
		h, mi, _ := t.Clock()
		switch {
		case c.month&(1<<uint(mo)) == 0:
			t = time.Date(y, mo+1, 1, 0, 0, 0, 0, time.UTC)
		// NCrontab requires both the day of month and the day of week to match.
		case c.dom&(1<<uint(d)) == 0 || c.dow&(1<<uint(t.Weekday())) == 0:
			t = time.Date(y, mo, d+1, 0, 0, 0, 0, time.UTC)
		case c.hour&(1<<uint(h)) == 0:
			t = time.Date(y, mo, d, h+1, 0, 0, 0, time.UTC)
		case c.minute&(1<<uint(mi)) == 0:
			t = time.Date(y, mo, d, h, mi+1, 0, 0, time.UTC)
		case c.second&(1<<uint(t.Second())) == 0:
			t = t.Add(time.Second)
		default:
			return t, true
		}
	}
	return time.Time{}, false
}

type interval time.Duration

func (iv interval) next(t time.Time) (time.Time, bool) {
	return t.UTC().Add(time.Duration(iv)), true
}

// previousOccurrence returns the last occurrence of s strictly before t, searching
// backwards in growing windows.
func previousOccurrence(s schedule, t time.Time) (time.Time, bool) {
	if iv, ok := s.(interval); ok {
		return t.UTC().Add(-time.Duration(iv)), true
	}
	for w := time.Second; w <= 10*366*24*time.Hour; w *= 2 {
		c, ok := s.next(t.Add(-w - time.Second))
		if !ok || !c.Before(t) {
			continue
		}
		for {
			n, ok := s.next(c)
			if !ok || !n.Before(t) {
				return c, true
			}
			c = n
		}
	}
	return time.Time{}, false
}

// monitorByDefault reports whether useMonitor defaults to true for s: it does when the
// schedule's interval is at least a minute.
func monitorByDefault(s schedule, now time.Time) bool {
	a, ok1 := s.next(now)
	b, ok2 := s.next(a)
	return ok1 && ok2 && b.Sub(a) >= time.Minute
}
