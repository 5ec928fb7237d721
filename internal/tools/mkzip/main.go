// Command mkzip writes pal-keeper's Azure Functions deployment package: a zip
// holding, at its root, host.json, the handler executable built for
// linux/amd64 with cgo off (mode 0755), and one folder per function holding only
// its function.json (mode 0644). Nothing else goes in.
//
//	go run ./internal/tools/mkzip [-root .] [-o dist/functionapp.zip] [-handler path] [-go go]
//
// Without -handler it builds ./handler itself (CGO_ENABLED=0 GOOS=linux
// GOARCH=amd64 go build -trimpath). Either way the executable must be a static
// x86-64 ELF file, or no zip is written. The zip is written with Go's
// archive/zip, so packaging needs nothing but Go; modes are stored as Unix
// attributes, which is what keeps the execute bit on the Linux host.
//
// `make package` runs it.
package main

import (
	"archive/zip"
	"context"
	"debug/elf"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"time"
)

// Modes stored in the zip.
const (
	execMode = 0o755
	fileMode = 0o644
)

// executable is the name of the handler in the package; host.json must name it.
const executable = "handler"

// modified is the timestamp of every entry, so that the same inputs give the
// same zip.
var modified = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// functionName is what a function folder may be called.
var functionName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	flags := flag.NewFlagSet("mkzip", flag.ContinueOnError)
	flags.SetOutput(stderr)
	root := flags.String("root", ".", "repository root (holds host.json, functions/ and handler/)")
	out := flags.String("o", filepath.Join("dist", "functionapp.zip"), "zip to write")
	handler := flags.String("handler", "", "use this linux/amd64 handler executable instead of building ./handler")
	goCmd := flags.String("go", "go", "the go command that builds ./handler")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "mkzip: unexpected arguments %q\n", flags.Args())
		return 2
	}
	if err := pack(ctx, *goCmd, *root, *out, *handler); err != nil {
		fmt.Fprintf(stderr, "mkzip: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "mkzip: wrote %s\n", *out)
	return 0
}

// entry is one file of the package.
type entry struct {
	name string      // path inside the zip, slash-separated
	src  string      // file to copy
	mode fs.FileMode // Unix permission bits
}

// pack builds the handler with goCmd (unless handler is given) and writes the
// package of the repository at root to out.
func pack(ctx context.Context, goCmd, root, out, handler string) error {
	entries, err := collect(root)
	if err != nil {
		return err
	}
	if handler == "" {
		tmp, err := os.MkdirTemp("", "mkzip-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		handler = filepath.Join(tmp, executable)
		if err := build(ctx, goCmd, root, handler); err != nil {
			return err
		}
	}
	if err := checkExecutable(handler); err != nil {
		return err
	}
	entries = append(entries, entry{name: executable, src: handler, mode: execMode})
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	return writeZip(out, entries)
}

// collect finds host.json and every functions/<name>/function.json under root.
// host.json must name the executable the package holds.
func collect(root string) ([]entry, error) {
	hostJSON := filepath.Join(root, "host.json")
	raw, err := os.ReadFile(hostJSON)
	if err != nil {
		return nil, err
	}
	var host struct {
		CustomHandler struct {
			Description struct {
				DefaultExecutablePath string `json:"defaultExecutablePath"`
			} `json:"description"`
		} `json:"customHandler"`
	}
	if err := json.Unmarshal(raw, &host); err != nil {
		return nil, fmt.Errorf("%s: %w", hostJSON, err)
	}
	if got := host.CustomHandler.Description.DefaultExecutablePath; got != executable {
		return nil, fmt.Errorf("%s: customHandler.description.defaultExecutablePath is %q, want %q (the executable the package holds)", hostJSON, got, executable)
	}
	entries := []entry{{name: "host.json", src: hostJSON, mode: fileMode}}

	dirs, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		return nil, err
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		if !functionName.MatchString(d.Name()) {
			return nil, fmt.Errorf("functions/%s: not a function name (letters, digits, '_' and '-')", d.Name())
		}
		src := filepath.Join(root, "functions", d.Name(), "function.json")
		raw, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", d.Name(), err)
		}
		if !json.Valid(raw) {
			return nil, fmt.Errorf("%s: not valid JSON", src)
		}
		entries = append(entries, entry{name: d.Name() + "/function.json", src: src, mode: fileMode})
	}
	if len(entries) == 1 {
		return nil, fmt.Errorf("%s: no function folders", filepath.Join(root, "functions"))
	}
	return entries, nil
}

// build compiles ./handler of root for linux/amd64 with cgo off into out.
func build(ctx context.Context, goCmd, root, out string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, goCmd, "build", "-trimpath", "-ldflags=-s -w", "-o", abs, "./handler")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building ./handler for linux/amd64: %v\n%s", err, output)
	}
	return nil
}

// checkExecutable makes sure path is what the Flex Consumption host can run: a
// 64-bit x86-64 ELF executable without a program interpreter (static: cgo off).
func checkExecutable(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: not a Linux executable: %w", path, err)
	}
	defer f.Close()
	switch {
	case f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64:
		return fmt.Errorf("%s: built for %v %v, want ELFCLASS64 EM_X86_64 (GOOS=linux GOARCH=amd64)", path, f.Class, f.Machine)
	case f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN:
		return fmt.Errorf("%s: ELF type %v is not an executable", path, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s: dynamically linked (has a program interpreter); build with CGO_ENABLED=0", path)
		}
	}
	return nil
}

// writeZip writes entries to out, through a temporary file so that a failed run
// never leaves a partial package behind.
func writeZip(out string, entries []entry) (err error) {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".functionapp-*.zip")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	zw := zip.NewWriter(tmp)
	for _, e := range entries {
		if err := addFile(zw, e); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := tmp.Chmod(fileMode); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

// addFile copies one entry into zw with its Unix mode.
func addFile(zw *zip.Writer, e entry) error {
	src, err := os.Open(e.src)
	if err != nil {
		return err
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", e.src)
	}
	hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: modified}
	hdr.SetMode(e.mode)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, src); err != nil {
		return fmt.Errorf("%s: %w", e.src, err)
	}
	return nil
}
