package main

import (
	"context"
	"errors"
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

// exitCodesHelp lists the exit codes of handler link and handler sweep; the
// codes are the outcome package's (Outcome.ExitCode, ExitNotAttributed), chosen in finish.
const exitCodesHelp = `exit codes:
  0    done
  1    failed: sign-in needed (the message says how), a partner ID outside the allowed set,
       a subscription that could not be judged or recorded, Azure refused
  2    bad usage or bad input (the message names the flag)
  3    done, but a judged subscription is not attributed (only with --require-attributed)
  75   transient trouble (throttling, an outage, the sweep's time ran out): try again later
  130  interrupted
`

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
	c := newCommand("link", "Make sure the signed-in identity (az login, or PAL_CREDENTIAL) is linked to the partner ID,\n"+
		"then report the attribution of a customer tenant's subscriptions (none without --tenant).")
	var subs listFlag
	tenant := c.fs.String("tenant", "", "customer tenant ID (a GUID) whose subscriptions to report")
	c.fs.Var(&subs, "subscription", "subscription ID (repeatable, or comma-separated); default: every reachable one of --tenant")
	partner := c.fs.String("partner-id", "", "partner ID to link: PAL_PARTNER_ID (the default) or one of PAL_ALLOWED_PARTNER_IDS")
	out := c.output()
	require := c.fs.Bool("require-attributed", false, "exit 3 when any judged subscription is not attributed")
	c.notes = exitCodesHelp
	if code, ok := c.parse(args, stdout, stderr); !ok {
		return code
	}
	if code, ok := checkIDFlags(c, stderr, *tenant, subs, *partner); !ok {
		return code
	}
	// --partner-id is the request's partner ID, as partnerId is for POST
	// /api/links: it must be allowed. Without PAL_PARTNER_ID it is that.
	reqPartner := *partner
	if strings.TrimSpace(getenv(envPartnerID)) == "" {
		getenv, reqPartner = cliEnv(getenv, *partner), ""
	}
	s, err := settingsFromEnv(getenv)
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
	req.PartnerID = reqPartner
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
	return finish(stdout, stderr, "handler link", "pal-keeper link", res, outcome.Decide(ctx, res, err), err,
		out.resolve(stdout), *require)
}

// sweepCommand reports every reachable customer subscription, read-only unless --repair.
func sweepCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c := newCommand("sweep", "Judge every customer subscription the signed-in identity can reach and report those not\n"+
		"attributed; read-only unless --repair. On a terminal, stderr shows the progress.")
	repair := c.fs.Bool("repair", false, "also create or fix the signed-in identity's link (as the timer does)")
	partner := c.fs.String("partner-id", "", "partner ID to judge by, instead of PAL_PARTNER_ID")
	out := c.output()
	require := c.fs.Bool("require-attributed", false, "exit 3 when any judged subscription is not attributed")
	c.notes = exitCodesHelp
	if code, ok := c.parse(args, stdout, stderr); !ok {
		return code
	}
	if code, ok := checkIDFlags(c, stderr, "", nil, *partner); !ok {
		return code
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
	p := newProgress(stderr, time.Now)
	engine = progressEngine{Engine: engine, p: p}
	log := cliLogger(p.around(stderr))
	ctx, cancel := outcome.WorkContext(ctx, s.SweepTimeout, envSweepTimeout)
	defer cancel()
	rec := trigger.NewRecorder(store, "handler sweep", nil)
	res, result, err := trigger.RecordedSweep(ctx, &log, engine, rec, cliRunID(time.Now()), !*repair)
	title := "pal-keeper sweep (subscriptions not attributed)"
	if pal.IncompleteSweepOf(err) != nil {
		// What was judged within PAL_SWEEP_TIMEOUT is still worth reading.
		title = "pal-keeper sweep (incomplete; subscriptions not attributed)"
	}
	return finish(stdout, stderr, "handler sweep", title, res, result, err, out.resolve(stdout), *require)
}

// checkIDFlags checks the ID flags before anything else, so that the error
// names the flag as typed (not the setting or query field it stands for).
func checkIDFlags(c *command, stderr io.Writer, tenant string, subs []string, partner string) (int, bool) {
	switch {
	case len(subs) > 0 && tenant == "":
		return c.usageError(stderr, "--subscription needs --tenant"), false
	case tenant != "" && !pal.IsGUID(tenant):
		return c.usageError(stderr, "--tenant %q is not a tenant ID: want the customer tenant's GUID, such as 00000000-0000-0000-0000-000000000000", tenant), false
	case partner != "" && !pal.ValidPartnerID(partner):
		return c.usageError(stderr, "--partner-id %s", pal.PartnerIDProblem(partner)), false
	}
	for _, sub := range subs {
		if !pal.IsGUID(sub) {
			return c.usageError(stderr, "--subscription %q is not a subscription ID: want a GUID", sub), false
		}
	}
	return 0, true
}

// finish prints the result, when there is one, in format and returns the
// exit code (exitCodesHelp): out's, the outcome policy's (outcome.Decide)
// judgement of res and err, or, when out is done and requireAttributed, 3 if
// any judged subscription is not attributed.
func finish(stdout, stderr io.Writer, cmd, title string, res *pal.Result, out outcome.Outcome, err error, format string, requireAttributed bool) int {
	if res != nil {
		if perr := printResult(stdout, format, title, res); perr != nil {
			fmt.Fprintf(stderr, "%s: write the result: %v\n", cmd, perr)
			return outcome.ExitFailed
		}
	}
	if out.Kind == outcome.KindDone {
		if n := notAttributed(res); requireAttributed && n > 0 {
			fmt.Fprintf(stderr, "%s: %d judged subscription(s) not attributed (--require-attributed)\n", cmd, n)
			return outcome.ExitNotAttributed
		}
		return out.ExitCode()
	}
	switch {
	case out.Cancelled():
		fmt.Fprintf(stderr, "%s: interrupted before it finished\n", cmd)
	case err != nil:
		// The operator at the terminal sees the whole error.
		msg := describe(err)
		if out.Kind == outcome.KindRetry && !strings.Contains(msg, "try again") {
			msg += "; try again later"
		}
		fmt.Fprintf(stderr, "%s: %s\n", cmd, msg)
	case out.Kind == outcome.KindRetry:
		fmt.Fprintf(stderr, "%s: %s; try again later\n", cmd, out.Reason)
	default:
		fmt.Fprintf(stderr, "%s: %s\n", cmd, out.Reason)
	}
	return out.ExitCode()
}

// notAttributed counts the judged subscriptions of res that are not attributed.
func notAttributed(res *pal.Result) int {
	if res == nil {
		return 0
	}
	n := 0
	for s, c := range res.Summary {
		if s != pal.StatusAttributed {
			n += c
		}
	}
	return n
}

// describe renders an error for a terminal: the safe message and the fields
// the message does not already say.
func describe(err error) string {
	var pe *pal.Error
	if !errors.As(err, &pe) {
		return err.Error()
	}
	msg := pe.Message
	for _, k := range slices.Sorted(maps.Keys(pe.Fields)) {
		if f := k + ": " + pe.Fields[k]; !strings.Contains(msg, f) {
			msg += "; " + f
		}
	}
	return msg
}
