package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/pal-keeper/pal-keeper/internal/outcome"
	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
)

// forgetter is a record that can forget a tenant (both stores can).
type forgetter interface {
	Forget(ctx context.Context, tenantID, subscriptionID string) (record.Forgotten, error)
}

// recordCommand runs `handler record <subcommand>`: today only forget.
func recordCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	const use = "usage: handler record forget --tenant T [--subscription S] (see handler record forget --help)"
	switch {
	case len(args) > 0 && isHelp(args[0]):
		fmt.Fprintln(stdout, use)
		return 0
	case len(args) == 0 || args[0] != "forget":
		fmt.Fprintln(stderr, use)
		return outcome.ExitUsage
	}
	return forgetCommand(ctx, args[1:], getenv, stdout, stderr)
}

// forgetCommand removes a tenant's verdicts and changes of status (or one
// subscription's) from the record PAL_RECORD_TABLE_URL names, for an
// offboarded customer, and logs what it removed.
func forgetCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	const cmd = "handler record forget"
	c := newCommand("record forget", "Remove an offboarded customer's verdicts and changes of status from the record\n"+
		"PAL_RECORD_TABLE_URL names (runs stay). Remove the delegation or consent first, or the next sweep\n"+
		"records the customer again.")
	tenant := c.fs.String("tenant", "", "customer tenant GUID whose rows to remove (required)")
	sub := c.fs.String("subscription", "", "only this subscription GUID of the tenant")
	c.notes = "exit codes: 0 done, 1 failed (no table URL, 403), 2 bad usage, 75 Table Storage unreachable: try again later\n"
	if code, ok := c.parse(args, stdout, stderr); !ok {
		return code
	}
	if !pal.IsGUID(*tenant) {
		return c.usageError(stderr, "--tenant must be a tenant GUID")
	}
	if *sub != "" && !pal.IsGUID(*sub) {
		return c.usageError(stderr, "--subscription must be a subscription GUID")
	}
	tenantID, subID := strings.ToLower(*tenant), strings.ToLower(*sub)
	s, err := settingsFromEnv(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "%s: invalid setting %v\n", cmd, err)
		return outcome.ExitFailed
	}
	if s.RecordTableURL == "" {
		fmt.Fprintf(stderr, "%s: no record to forget from: set PAL_RECORD_TABLE_URL to the record's table service\n", cmd)
		return outcome.ExitFailed
	}
	_, _, store, err := buildEngineAndRecord(ctx, s)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return outcome.ExitFailed
	}
	f, ok := store.(forgetter)
	if !ok {
		fmt.Fprintf(stderr, "%s: the record %T cannot forget\n", cmd, store)
		return outcome.ExitFailed
	}
	log := cliLogger(stderr)
	got, err := f.Forget(ctx, tenantID, subID)
	if err != nil {
		log.Error().Str("tenant_id", tenantID).Str("subscription_id", subID).Int("verdicts", got.Verdicts).
			Int("changes", got.Changes).Str("error", describe(err)).Msg("record forget failed")
		out := outcome.Decide(ctx, nil, err)
		fmt.Fprintf(stderr, "%s: %s\n", cmd, describe(err))
		return out.ExitCode()
	}
	log.Info().Str("tenant_id", tenantID).Str("subscription_id", subID).Int("verdicts", got.Verdicts).
		Int("changes", got.Changes).Str("record", s.RecordTableURL).Msg("record forget")
	what := "tenant " + tenantID
	if subID != "" {
		what = "subscription " + subID + " of " + what
	}
	fmt.Fprintf(stdout, "forgot %s: %d verdict(s), %d change(s) of status\n", what, got.Verdicts, got.Changes)
	return 0
}
