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
	"regexp"
	"strings"

	"github.com/robfig/cron/v3"
)

// parser reads the six fields, seconds first; no descriptors (@daily), which
// NCRONTAB does not know.
var parser = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// timeSpan is the TimeSpan form of a schedule: an interval.
var timeSpan = regexp.MustCompile(`^([0-9]+\.)?[0-9]{1,2}:[0-9]{2}:[0-9]{2}$`)

// Check returns nil when v is a schedule the host runs, else an error that
// says what is wrong, to follow the setting's name and value.
func Check(v string) error {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return errors.New("is empty: want an NCRONTAB expression such as 0 0 3 * * * (03:00 UTC daily)")
	case timeSpan.MatchString(v):
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
