// Command vulncheck reads the output of `govulncheck -format json` and
// prints every vulnerability it reports. It exits 1 when any vulnerability
// is reachable (has a call trace), whatever its module: a third-party module
// (fixed by upgrading it in go.mod) or the Go distribution, the standard
// library and the toolchain (fixed by a newer Go release for the package
// build: PACKAGE_GOTOOLCHAIN in the Makefile). Imported or required but
// unreachable vulnerabilities are printed for information.
//
// Usage:
//
//	GOTOOLCHAIN=<package toolchain> govulncheck -format json ./... > vuln.json
//	go run ./internal/tools/vulncheck [-traces n] [-go goX.Y.Z] [vuln.json]
//
// With -go, the scan must have used that Go release (the config message's
// go_version), so that the report is about the shipped binary's standard
// library. With no file it reads standard input. Exit status: 0 nothing
// reachable, 1 reachable vulnerabilities, 2 unusable input, a scan by another
// Go release, or bad usage.
package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
)

func main() {
	var opts options
	flag.IntVar(&opts.maxTraces, "traces", 3, "call traces to print per reachable vulnerability; 0 prints all")
	flag.StringVar(&opts.goVersion, "go", "", "the Go release the scan must have used, e.g. go1.27.3 (empty: any)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: vulncheck [-traces n] [-go goX.Y.Z] [govulncheck.json]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	in := io.Reader(os.Stdin)
	switch flag.NArg() {
	case 0:
	case 1:
		f, err := os.Open(flag.Arg(0))
		if err != nil {
			fmt.Fprintln(os.Stderr, "vulncheck:", err)
			os.Exit(2)
		}
		defer f.Close()
		in = f
	default:
		flag.Usage()
		os.Exit(2)
	}
	code, err := run(in, os.Stdout, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulncheck:", err)
	}
	os.Exit(code)
}

// options are the command's flags.
type options struct {
	maxTraces int    // call traces per reachable vulnerability; 0: all
	goVersion string // the Go release the scan must have used; "": any
}

// The govulncheck JSON protocol (golang.org/x/vuln/internal/govulncheck,
// protocol v1): a stream of objects each holding one of these fields.
type message struct {
	Config  *config  `json:"config"`
	OSV     *entry   `json:"osv"`
	Finding *finding `json:"finding"`
}

type config struct {
	ProtocolVersion string `json:"protocol_version"`
	ScannerVersion  string `json:"scanner_version"`
	DB              string `json:"db"`
	GoVersion       string `json:"go_version"`
	ScanLevel       string `json:"scan_level"`
}

// entry is the part of an OSV entry that is printed.
type entry struct {
	ID      string   `json:"id"`
	Summary string   `json:"summary"`
	Aliases []string `json:"aliases"`
}

// finding is one vulnerability found at one level. Trace[0] is the
// vulnerable module, package or symbol; for a reachable symbol the later
// frames lead back to the scanned code.
type finding struct {
	OSV          string  `json:"osv"`
	FixedVersion string  `json:"fixed_version"`
	Trace        []frame `json:"trace"`
}

type frame struct {
	Module   string    `json:"module"`
	Version  string    `json:"version"`
	Package  string    `json:"package"`
	Function string    `json:"function"`
	Receiver string    `json:"receiver"`
	Position *position `json:"position"`
}

type position struct {
	Filename string `json:"filename"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
}

// level is how close the scanned code gets to a vulnerability.
type level int

const (
	levelModule  level = iota // a required module is vulnerable
	levelPackage              // an imported package is vulnerable
	levelSymbol               // a vulnerable symbol is reachable
)

func (l level) String() string {
	return [...]string{"REQUIRED", "IMPORTED", "CALLED"}[l]
}

// vuln is everything found for one OSV entry in one module.
type vuln struct {
	id, module, version, fixed string
	level                      level
	traces                     [][]frame // reachable call traces
}

// inDistribution reports whether module is part of the Go distribution,
// whose fixes come with a Go release rather than a go.mod change.
func inDistribution(module string) bool {
	return module == "stdlib" || module == "toolchain"
}

// blocking reports whether v fails the check: reachable, in any module.
func (v *vuln) blocking() bool { return v.level == levelSymbol }

// run reads govulncheck's JSON from in, prints a report to out and returns
// the exit status.
func run(in io.Reader, out io.Writer, opts options) (int, error) {
	maxTraces := opts.maxTraces
	var cfg *config
	entries := map[string]*entry{}
	vulns := map[[2]string]*vuln{}
	dec := json.NewDecoder(in)
	for {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 2, fmt.Errorf("reading govulncheck JSON: %w", err)
		}
		switch {
		case m.Config != nil:
			cfg = m.Config
		case m.OSV != nil:
			entries[m.OSV.ID] = m.OSV
		case m.Finding != nil:
			f := m.Finding
			if len(f.Trace) == 0 || f.OSV == "" {
				return 2, fmt.Errorf("finding %q without a trace", f.OSV)
			}
			top := f.Trace[0]
			key := [2]string{f.OSV, top.Module}
			v := vulns[key]
			if v == nil {
				v = &vuln{id: f.OSV, module: top.Module, version: top.Version}
				vulns[key] = v
			}
			v.fixed = cmp.Or(v.fixed, f.FixedVersion)
			l := levelModule
			switch {
			case top.Function != "":
				l = levelSymbol
				v.traces = append(v.traces, f.Trace)
			case top.Package != "":
				l = levelPackage
			}
			v.level = max(v.level, l)
		}
	}
	if cfg == nil {
		return 2, errors.New("no config message: this is not the output of govulncheck -format json")
	}
	if opts.goVersion != "" && cfg.GoVersion != opts.goVersion {
		return 2, fmt.Errorf("the scan used %s, want %s (the package's toolchain): run govulncheck with GOTOOLCHAIN=%s", cmp.Or(cfg.GoVersion, "an unknown Go"), opts.goVersion, opts.goVersion)
	}
	if !strings.HasPrefix(cfg.ProtocolVersion, "v1.") {
		fmt.Fprintf(out, "WARNING: govulncheck JSON protocol %q; this reader knows v1\n", cfg.ProtocolVersion)
	}
	fmt.Fprintf(out, "govulncheck %s, %s, scan level %s, database %s\n", cfg.ScannerVersion, cfg.GoVersion, cfg.ScanLevel, cfg.DB)

	list := make([]*vuln, 0, len(vulns))
	for _, v := range vulns {
		list = append(list, v)
	}
	// Blocking first, then the closest, then by ID.
	slices.SortFunc(list, func(a, b *vuln) int {
		if a.blocking() != b.blocking() {
			if a.blocking() {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.level, a.level), cmp.Compare(a.id, b.id), cmp.Compare(a.module, b.module))
	})
	var blocking int
	for _, v := range list {
		note := "not reachable: informational"
		if v.blocking() {
			blocking++
			note = "BLOCKING: reachable; upgrade the module in go.mod"
			if inDistribution(v.module) {
				note = "BLOCKING: reachable in the Go distribution; build with a newer Go release (PACKAGE_GOTOOLCHAIN in the Makefile)"
			}
		}
		fixed := "no fix"
		if v.fixed != "" {
			fixed = "fixed in " + v.fixed
		}
		fmt.Fprintf(out, "%-8s %s %s@%s (%s) [%s]\n", v.level, v.id, v.module, cmp.Or(v.version, "?"), fixed, note)
		if e := entries[v.id]; e != nil {
			aliases := ""
			if len(e.Aliases) > 0 {
				aliases = " (" + strings.Join(e.Aliases, ", ") + ")"
			}
			fmt.Fprintf(out, "         %s%s\n", e.Summary, aliases)
		}
		// Findings differ in positions the rendering leaves out; print each
		// rendered trace once.
		var shown []string
		for _, t := range v.traces {
			if s := formatTrace(t); !slices.Contains(shown, s) {
				shown = append(shown, s)
			}
		}
		for i, s := range shown {
			if maxTraces > 0 && i == maxTraces {
				fmt.Fprintf(out, "         … and %d more call traces (-traces 0 prints all)\n", len(shown)-i)
				break
			}
			fmt.Fprintf(out, "         %s\n", s)
		}
	}
	fmt.Fprintf(out, "%d vulnerabilities: %d reachable, %d not reachable\n", len(list), blocking, len(list)-blocking)
	if blocking > 0 {
		fmt.Fprintf(out, "FAIL: %d reachable vulnerabilities (see \"fixed in\": a module upgrade in go.mod, or a newer Go release (PACKAGE_GOTOOLCHAIN in the Makefile) for the standard library)\n", blocking)
		return 1, nil
	}
	return 0, nil
}

// formatTrace renders a call trace from the scanned code's entry point to
// the vulnerable symbol: "file:line:col: a.F → b.(*T).G → net/http.H".
func formatTrace(t []frame) string {
	var b strings.Builder
	entry := t[len(t)-1]
	if p := entry.Position; p != nil && p.Filename != "" {
		fmt.Fprintf(&b, "%s:%d:%d: ", p.Filename, p.Line, p.Column)
	}
	for i := len(t) - 1; i >= 0; i-- {
		b.WriteString(frameName(t[i], i == 0))
		if i > 0 {
			b.WriteString(" → ")
		}
	}
	return b.String()
}

// frameName names a frame's function with its package's last element, or
// its full import path for the vulnerable symbol.
func frameName(f frame, fullPath bool) string {
	pkg := f.Package
	if !fullPath {
		pkg = path.Base(pkg)
	}
	name := f.Function
	if r := f.Receiver; r != "" {
		if strings.HasPrefix(r, "*") {
			r = "(" + r + ")"
		}
		name = r + "." + name
	}
	return pkg + "." + name
}
