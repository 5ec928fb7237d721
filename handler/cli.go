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

	"github.com/pal-keeper/pal-keeper/internal/message"
	"github.com/pal-keeper/pal-keeper/internal/pal"
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
		return 2
	}
	if len(subs) > 0 && *tenant == "" {
		fmt.Fprintln(stderr, "handler link: --subscription needs --tenant")
		return 2
	}
	s, err := settingsFromEnv(cliEnv(getenv, *partner))
	if err != nil {
		fmt.Fprintf(stderr, "handler link: invalid setting %v\n", err)
		return 1
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
			return 2
		}
	}
	engine, _, err := buildEngine(s)
	if err != nil {
		fmt.Fprintf(stderr, "handler link: %v\n", err)
		return 1
	}
	log := cliLogger(stderr)
	res, err := engine.Onboard(ctx, &log, req)
	if err != nil {
		fmt.Fprintf(stderr, "handler link: %s\n", describe(err))
		return 1
	}
	return finish(stdout, stderr, "pal-keeper link", res, *asJSON)
}

// sweepCommand reports every reachable customer subscription, read-only unless --repair.
func sweepCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the result object as JSON")
	repair := fs.Bool("repair", false, "also create or fix the signed-in identity's link (as the timer does)")
	partner := fs.String("partner-id", "", "partner ID (default PAL_PARTNER_ID)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	s, err := settingsFromEnv(cliEnv(getenv, *partner))
	if err != nil {
		fmt.Fprintf(stderr, "handler sweep: invalid setting %v\n", err)
		return 1
	}
	engine, _, err := buildEngine(s)
	if err != nil {
		fmt.Fprintf(stderr, "handler sweep: %v\n", err)
		return 1
	}
	log := cliLogger(stderr)
	ctx, cancel := context.WithTimeout(ctx, s.SweepTimeout)
	defer cancel()
	res, err := engine.Sweep(ctx, &log, &pal.SweepOptions{ReadOnly: !*repair})
	if inc := pal.IncompleteSweepOf(err); inc != nil {
		// What was judged within PAL_SWEEP_TIMEOUT is still worth reading.
		finish(stdout, stderr, "pal-keeper sweep (incomplete; subscriptions not attributed)", inc.Result, *asJSON)
	}
	if err != nil {
		fmt.Fprintf(stderr, "handler sweep: %s\n", describe(err))
		return 1
	}
	return finish(stdout, stderr, "pal-keeper sweep (subscriptions not attributed)", res, *asJSON)
}

// finish prints the result; the exit code is 1 when something could not be judged.
func finish(stdout, stderr io.Writer, title string, res *pal.Result, asJSON bool) int {
	if asJSON {
		if err := printJSON(stdout, res); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	} else {
		printReport(stdout, title, res)
	}
	if n := res.Summary[pal.StatusError]; n > 0 {
		fmt.Fprintf(stderr, "%d subscription(s) could not be judged; see the detail column\n", n)
		return 1
	}
	return 0
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
