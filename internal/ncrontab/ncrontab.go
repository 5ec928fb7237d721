// Package ncrontab checks a timer trigger's schedule as the Azure Functions
// host reads it: a six-field NCRONTAB expression ({second} {minute} {hour}
// {day} {month} {day-of-week}) or a TimeSpan interval (hh:mm:ss, or
// d.hh:mm:ss). The fields are parsed by github.com/robfig/cron/v3 with its
// seconds field, so each one's range is checked (hour 0-23, day 1-31, month
// 1-12 or JAN-DEC, day-of-week 0-6 or SUN-SAT).
package ncrontab

import (
	"errors"
	"fmt"
	"strings"

	"github.com/robfig/cron/v3"
)

// parser reads the six fields, seconds first; no descriptors (@daily), which
// NCRONTAB does not know.
var parser = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// isTimeSpan reports whether v has the TimeSpan form of a schedule, an
// interval: [d.]h:mm:ss or [d.]hh:mm:ss. (No regexp: nothing is compiled at
// the handler's start, before its readiness probe.)
func isTimeSpan(v string) bool {
	if day, rest, ok := strings.Cut(v, "."); ok {
		if !digits(day, 1, len(day)) {
			return false
		}
		v = rest
	}
	parts := strings.Split(v, ":")
	return len(parts) == 3 && digits(parts[0], 1, 2) && digits(parts[1], 2, 2) && digits(parts[2], 2, 2)
}

// digits reports whether s is min to max ASCII digits.
func digits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Check returns nil when v is a schedule the host runs, else an error that
// says what is wrong, to follow the setting's name and value.
func Check(v string) error {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return errors.New("is empty: want an NCRONTAB expression such as 0 0 3 * * * (03:00 UTC daily)")
	case isTimeSpan(v):
		return nil
	case strings.ContainsAny(v, "=?@"):
		// robfig/cron's own extensions (TZ=, ?, descriptors) are not NCRONTAB.
		return errors.New("is not an NCRONTAB expression: =, ? and @ are not NCRONTAB")
	}
	if n := len(strings.Fields(v)); n != 6 {
		return fmt.Errorf("is not an NCRONTAB expression: want six fields {second} {minute} {hour} {day} {month} {day-of-week}, got %d", n)
	}
	if _, err := parser.Parse(v); err != nil {
		return fmt.Errorf("is not an NCRONTAB expression: %w", err)
	}
	return nil
}
