// Command handler is pal-keeper: an Azure Functions custom handler that keeps
// the Partner Admin Link of the function's managed identity and reports every
// customer subscription that does not credit the partner.
//
// Run without arguments it serves the custom-handler protocol on
// 127.0.0.1:$FUNCTIONS_CUSTOMHANDLER_PORT. Subcommands:
//
//	handler link --tenant T    make sure the signed-in identity is linked; report T's subscriptions
//	handler sweep [-o table]   report every reachable customer subscription
//	handler record forget --tenant T [--subscription S]  remove rows of an offboarded customer
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, openAMQPQueues))
}

const usage = `usage: handler [command] [flags]

commands:
  (none), serve   serve the Azure Functions custom-handler protocol (what the Functions host runs)
  link            make sure the signed-in identity is linked to PAL_PARTNER_ID and report attribution
                  flags: --tenant T  --subscription S (repeatable)  --partner-id P  -o FORMAT  --require-attributed
  sweep           report every reachable customer subscription that is not attributed
                  flags: --repair  --partner-id P  -o FORMAT  --require-attributed
  record forget   remove an offboarded customer's verdicts and changes from the record (PAL_RECORD_TABLE_URL)
                  flags: --tenant T (required)  --subscription S (only this one)
  help [command]  this text, or the command's (the same as handler COMMAND --help)

-o/--output: table (the default on a terminal), json (the default otherwise), jsonc, tsv or csv.
settings come from the environment (see docs/operations.md, "Settings").
the sandbox (no Azure account needed) is a separate command: go run ./cmd/sandbox
`

// run is main without the process: it returns the exit code. openQueues
// reaches Service Bus when serving (openAMQPQueues in the product).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, openQueues queueOpener) int {
	cmd := ""
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "", "serve":
		if len(args) > 0 && isHelp(args[0]) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		return serve(ctx, getenv, stdout, stderr, openQueues)
	case "link":
		return linkCommand(ctx, args, getenv, stdout, stderr)
	case "sweep":
		return sweepCommand(ctx, args, getenv, stdout, stderr)
	case "record":
		return recordCommand(ctx, args, getenv, stdout, stderr)
	case "help", "-h", "-help", "--help":
		if len(args) > 0 && (args[0] == "link" || args[0] == "sweep") {
			return run(ctx, []string{args[0], "--help"}, getenv, stdout, stderr, openQueues)
		}
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "handler: unknown command %q\n%s", cmd, usage)
		return 2
	}
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help"
}
