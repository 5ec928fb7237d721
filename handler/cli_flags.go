package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mattn/go-isatty"

	"github.com/pal-keeper/pal-keeper/internal/outcome"
)

// command is a subcommand's flag set and its help text, Azure CLI style:
// every flag has a --long name (Go's flag package accepts one or two dashes),
// a few a short one (-o), and -h/--help prints the help on stdout and exits 0.
type command struct {
	name    string // "link"
	summary string // what it does, for --help
	fs      *flag.FlagSet
	short   map[string]string // long name → short name
	notes   string            // after the flags: exit codes, examples
}

func newCommand(name, summary string) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are printed on one line by parse
	fs.Usage = func() {}
	return &command{name: name, summary: summary, fs: fs, short: map[string]string{}}
}

// output adds -o/--output (and the older --json) to c.
func (c *command) output() *outputFlag {
	o := &outputFlag{}
	c.fs.Var(o, "output", "output format: "+strings.Join(outputFormats, ", ")+" (default: table on a terminal, else json)")
	c.fs.Var(o, "o", "")
	c.short["output"] = "o"
	c.fs.BoolFunc("json", "the same as --output json", func(string) error { return o.Set(outputJSON) })
	return o
}

// parse parses args. It returns false, with the exit code, when the command
// should not run: help asked for (0, the help on stdout) or a usage error (2,
// one line on stderr that names the flag as the user typed it).
func (c *command) parse(args []string, stdout, stderr io.Writer) (int, bool) {
	err := c.fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		c.help(stdout)
		return 0, false
	case err != nil:
		return c.usageError(stderr, "%s", asTyped(err.Error(), args)), false
	case c.fs.NArg() > 0:
		return c.usageError(stderr, "unexpected argument %q (flags start with --)", c.fs.Arg(0)), false
	}
	return 0, true
}

// asTyped rewrites the flag package's "-name" in msg as the user typed it,
// e.g. "--name" (the package accepts both and names the flag with one dash).
func asTyped(msg string, args []string) string {
	for _, a := range args {
		if !strings.HasPrefix(a, "--") || a == "--" {
			continue
		}
		name, _, _ := strings.Cut(a[2:], "=")
		for _, form := range []string{": -" + name, " -" + name + ":"} {
			if i := strings.Index(msg, form); i >= 0 && (i+len(form) == len(msg) || form[len(form)-1] == ':') {
				return msg[:i] + strings.Replace(form, "-"+name, "--"+name, 1) + msg[i+len(form):]
			}
		}
	}
	return msg
}

// usageError prints "handler NAME: what (see handler NAME --help)" and returns 2.
func (c *command) usageError(stderr io.Writer, format string, a ...any) int {
	fmt.Fprintf(stderr, "handler %s: %s (see handler %s --help)\n", c.name, fmt.Sprintf(format, a...), c.name)
	return outcome.ExitUsage
}

// help writes the command's help: usage, summary, the flags, the notes.
func (c *command) help(w io.Writer) {
	fmt.Fprintf(w, "usage: handler %s [flags]\n\n%s\n\nflags:\n", c.name, c.summary)
	aliases := map[string]bool{}
	for _, s := range c.short {
		aliases[s] = true
	}
	c.fs.VisitAll(func(f *flag.Flag) {
		if aliases[f.Name] {
			return
		}
		name := "    --" + f.Name
		if s, ok := c.short[f.Name]; ok {
			name = "-" + s + ", --" + f.Name
		}
		if _, isBool := f.Value.(interface{ IsBoolFlag() bool }); !isBool {
			name += " " + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		}
		fmt.Fprintf(w, "  %-34s %s\n", name, f.Usage)
	})
	fmt.Fprintf(w, "  %-34s %s\n", "-h, --help", "this text")
	if c.notes != "" {
		fmt.Fprintf(w, "\n%s", c.notes)
	}
}

// Output formats of -o/--output, as the Azure CLI names them.
const (
	outputTable = "table"
	outputJSON  = "json"
	outputJSONC = "jsonc"
	outputTSV   = "tsv"
	outputCSV   = "csv"
)

var outputFormats = []string{outputTable, outputJSON, outputJSONC, outputTSV, outputCSV}

// outputFlag is the value of -o/--output; "" until set.
type outputFlag struct{ format string }

func (o *outputFlag) String() string {
	if o == nil {
		return ""
	}
	return o.format
}

func (o *outputFlag) Set(v string) error {
	v = strings.ToLower(strings.TrimSpace(v))
	for _, f := range outputFormats {
		if v == f {
			o.format = f
			return nil
		}
	}
	return fmt.Errorf("want %s", orList(outputFormats))
}

// resolve is the format to print in: the one asked for, else table when
// stdout is a terminal (a person reads it) and json otherwise (a program does).
func (o *outputFlag) resolve(stdout io.Writer) string {
	if o.format != "" {
		return o.format
	}
	if isTerminal(stdout) {
		return outputTable
	}
	return outputJSON
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
