package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pal-keeper/pal-keeper/internal/message"
	"github.com/pal-keeper/pal-keeper/internal/outcome"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/trigger"
	"github.com/rs/zerolog"
)

// listFlag is a repeatable string flag that also splits on commas.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// cliEnv returns getenv with PAL_PARTNER_ID overridden by a flag, if given.
func cliEnv(getenv func(string) string, partnerID string) func(string) string {
	return func(k string) string {
		if k == envPartnerID && partnerID != "" {
			return partnerID
		}
		return getenv(k)
	}
}

// cliLogger logs to stderr in a human format, keeping stdout for the report.
func cliLogger(stderr io.Writer) zerolog.Logger {
	return zerolog.New(zerolog.ConsoleWriter{Out: stderr, NoColor: true}).Level(zerolog.InfoLevel).With().Timestamp().Logger()
}

// linkCommand makes sure the signed-in identity is linked and reports the
// attribution of one customer tenant's subscriptions (none without --tenant).
func linkCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("link", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var subs listFlag
	tenant := fs.String("tenant", "", "customer tenant GUID whose subscriptions to report")
	fs.Var(&subs, "subscription", "subscription GUID (repeatable, or comma-separated); default: every reachable one of --tenant")
	partner := fs.String("partner-id", "", "partner ID to link (default PAL_PARTNER_ID)")
	asJSON := fs.Bool("json", false, "print the result object as JSON")
	if err := fs.Parse(args); err != nil {
		return outcome.ExitUsage
	}
	if len(subs) > 0 && *tenant == "" {
		fmt.Fprintln(stderr, "handler link: --subscription needs --tenant")
		return outcome.ExitUsage
	}
	s, err := settingsFromEnv(cliEnv(getenv, *partner))
	if err != nil {
		fmt.Fprintf(stderr, "handler link: invalid setting %v\n", err)
		return outcome.ExitFailed
	}
	req := pal.Request{RequestedBy: "handler link"}
	if *tenant != "" {
		values := map[string][]string{"tenantId": {*tenant}}
		if len(subs) > 0 {
			values["subscriptionId"] = subs
		}
		req, err = message.DecodeQuery(values)
		if err != nil {
			fmt.Fprintf(stderr, "handler link: %s\n", describe(err))
			return outcome.ExitUsage
		}
	}
	engine, _, store, err := buildEngineAndRecord(ctx, s)
	if err != nil {
		fmt.Fprintf(stderr, "handler link: %v\n", err)
		return outcome.ExitFailed
	}
	log := cliLogger(stderr)
	res, err := engine.Onboard(ctx, &log, req)
	if err == nil {
		err = trigger.NewRecorder(store, "handler link", nil).Save(ctx, &log, res)
	}
	return finish(stdout, stderr, "handler link", "pal-keeper link", res, outcome.Decide(ctx, res, err), err, *asJSON)
}

// sweepCommand reports every reachable customer subscription, read-only unless --repair.
func sweepCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the result object as JSON")
	repair := fs.Bool("repair", false, "also create or fix the signed-in identity's link (as the timer does)")
	partner := fs.String("partner-id", "", "partner ID (default PAL_PARTNER_ID)")
	if err := fs.Parse(args); err != nil {
		return outcome.ExitUsage
	}
	s, err := settingsFromEnv(cliEnv(getenv, *partner))
	if err != nil {
		fmt.Fprintf(stderr, "handler sweep: invalid setting %v\n", err)
		return outcome.ExitFailed
	}
	engine, _, store, err := buildEngineAndRecord(ctx, s)
	if err != nil {
		fmt.Fprintf(stderr, "handler sweep: %v\n", err)
		return outcome.ExitFailed
	}
	log := cliLogger(stderr)
	ctx, cancel := outcome.WorkContext(ctx, s.SweepTimeout, envSweepTimeout)
	defer cancel()
	rec := trigger.NewRecorder(store, "handler sweep", nil)
	res, out, err := trigger.RecordedSweep(ctx, &log, engine, rec, cliRunID(time.Now()), !*repair)
	title := "pal-keeper sweep (subscriptions not attributed)"
	if pal.IncompleteSweepOf(err) != nil {
		// What was judged within PAL_SWEEP_TIMEOUT is still worth reading.
		title = "pal-keeper sweep (incomplete; subscriptions not attributed)"
	}
	return finish(stdout, stderr, "handler sweep", title, res, out, err, *asJSON)
}

// finish prints the result, when there is one, and returns the exit code of
// out, the outcome policy's (outcome.Decide) judgement of res and err: 0
// done, 2 bad input, 75 transient trouble (try again later), 130
// interrupted, 1 otherwise — e.g. when something could not be judged or
// recorded.
func finish(stdout, stderr io.Writer, cmd, title string, res *pal.Result, out outcome.Outcome, err error, asJSON bool) int {
	if res != nil {
		if asJSON {
			if perr := printJSON(stdout, res); perr != nil {
				fmt.Fprintln(stderr, perr)
				return outcome.ExitFailed
			}
		} else {
			printReport(stdout, title, res)
		}
	}
	if out.Kind == outcome.KindDone {
		return out.ExitCode()
	}
	switch {
	case out.Cancelled():
		fmt.Fprintf(stderr, "%s: interrupted before it finished\n", cmd)
	case err != nil:
		// The operator at the terminal sees the whole error.
		fmt.Fprintf(stderr, "%s: %s\n", cmd, describe(err))
	case out.Kind == outcome.KindRetry:
		fmt.Fprintf(stderr, "%s: %s; try again later\n", cmd, out.Reason)
	default:
		fmt.Fprintf(stderr, "%s: %s\n", cmd, out.Reason)
	}
	return out.ExitCode()
}

// describe renders an error for a terminal: the safe message and the fields.
func describe(err error) string {
	var pe *pal.Error
	if !errors.As(err, &pe) {
		return err.Error()
	}
	msg := pe.Message
	for _, k := range slices.Sorted(maps.Keys(pe.Fields)) {
		msg += fmt.Sprintf("; %s: %s", k, pe.Fields[k])
	}
	return msg
}
