package main

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// repoRoot is the repository root seen from this package's directory.
const repoRoot = "../../.."

// wantPackage is exactly what the deployment package holds, with the modes.
var wantPackage = map[string]fs.FileMode{
	"host.json":                 0o644,
	"handler":                   0o755,
	"onboarding/function.json":  0o644,
	"links/function.json":       0o644,
	"sweep/function.json":       0o644,
	"report/function.json":      0o644,
	"dashboard/function.json":   0o644,
	"sweep-check/function.json": 0o644,
}

// TestPackage runs the tool exactly as `make package` does (go run, in its
// own process: compressing the 13 MB handler in this -race test binary took
// seconds), into a temporary directory, and checks the zip entry by entry.
func TestPackage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "dist", "functionapp.zip")
	cmd := exec.Command("go", "run", "./internal/tools/mkzip", "-go", "go", "-root", ".", "-o", out)
	cmd.Dir = repoRoot
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkzip: %v\n%s", err, output)
	}

	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()

	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	sort.Strings(names)
	var want []string
	for name := range wantPackage {
		want = append(want, name)
	}
	sort.Strings(want)
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("zip entries:\n got %q\nwant %q", names, want)
	}

	for _, f := range zr.File {
		t.Run(f.Name, func(t *testing.T) {
			if got, want := f.CreatorVersion>>8, uint16(3); got != want {
				t.Errorf("creator OS = %d, want %d (Unix, so the host honours the mode)", got, want)
			}
			if got := f.Mode(); !got.IsRegular() {
				t.Errorf("mode = %v, want a regular file", got)
			}
			if got, want := f.Mode().Perm(), wantPackage[f.Name]; got != want {
				t.Errorf("mode = %v, want %v", got, want)
			}
			body := readEntry(t, f)
			if f.Name == "handler" {
				if err := checkELF(body); err != nil {
					t.Error(err)
				}
				return
			}
			src := filepath.Join(repoRoot, "host.json")
			if f.Name != "host.json" {
				src = filepath.Join(repoRoot, "functions", filepath.FromSlash(f.Name))
			}
			wantBody, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(body, wantBody) {
				t.Errorf("content differs from %s", src)
			}
		})
	}
}

// TestPackageLeavesOutEverythingElse packs a repository root littered with
// files that must not be deployed.
func TestPackageLeavesOutEverythingElse(t *testing.T) {
	root := t.TempDir()
	copyFile(t, filepath.Join(repoRoot, "host.json"), filepath.Join(root, "host.json"))
	for name := range wantPackage {
		if fn, ok := strings.CutSuffix(name, "/function.json"); ok {
			copyFile(t, filepath.Join(repoRoot, "functions", fn, "function.json"), filepath.Join(root, "functions", fn, "function.json"))
		}
	}
	writeFile(t, filepath.Join(root, "functions", "onboarding", "adapter.go"), "package onboarding\n")
	writeFile(t, filepath.Join(root, "functions", "links", "README.md"), "# links\n")
	writeFile(t, filepath.Join(root, "functions", "notes.txt"), "not a function\n")
	writeFile(t, filepath.Join(root, "local.settings.json"), `{"Values":{"AzureWebJobsStorage":"UseDevelopmentStorage=true"}}`)
	writeFile(t, filepath.Join(root, "README.md"), "# readme\n")

	out := filepath.Join(t.TempDir(), "functionapp.zip")
	var stderr bytes.Buffer
	// A small static executable stands in for the handler: this test is about
	// the other files, and compressing the real one takes seconds under -race.
	if code := run(context.Background(), []string{"-root", root, "-o", out, "-handler", tinyExecutable(t)}, &stderr); code != 0 {
		t.Fatalf("mkzip exited %d: %s", code, stderr.String())
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	got := map[string]bool{}
	for _, f := range zr.File {
		got[f.Name] = true
		if _, ok := wantPackage[f.Name]; !ok {
			t.Errorf("zip holds %s, want only %v", f.Name, keys(wantPackage))
		}
	}
	for name := range wantPackage {
		if !got[name] {
			t.Errorf("zip lacks %s", name)
		}
	}
}

// TestCollectRejects: a repository that cannot make a valid package writes no zip.
func TestCollectRejects(t *testing.T) {
	hostJSON, err := os.ReadFile(filepath.Join(repoRoot, "host.json"))
	if err != nil {
		t.Fatal(err)
	}
	fnJSON := `{"bindings":[]}`
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"other executable", map[string]string{"host.json": strings.Replace(string(hostJSON), `"handler"`, `"app"`, 1), "functions/a/function.json": fnJSON}, `defaultExecutablePath is "app"`},
		{"no host.json", map[string]string{"functions/a/function.json": fnJSON}, "host.json"},
		{"no functions", map[string]string{"host.json": string(hostJSON), "functions/.keep": ""}, "no function folders"},
		{"folder without function.json", map[string]string{"host.json": string(hostJSON), "functions/a/readme.md": "x"}, "function a"},
		{"function.json not JSON", map[string]string{"host.json": string(hostJSON), "functions/a/function.json": "{"}, "not valid JSON"},
		{"bad folder name", map[string]string{"host.json": string(hostJSON), "functions/a b/function.json": fnJSON}, "not a function name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for name, body := range tt.files {
				writeFile(t, filepath.Join(root, filepath.FromSlash(name)), body)
			}
			out := filepath.Join(t.TempDir(), "functionapp.zip")
			var stderr bytes.Buffer
			code := run(context.Background(), []string{"-root", root, "-o", out, "-handler", "/nonexistent"}, &stderr)
			if code != 1 {
				t.Errorf("exit code = %d, want 1", code)
			}
			if got := stderr.String(); !strings.Contains(got, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", got, tt.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("zip written (stat error %v), want none", err)
			}
		})
	}
}

// TestCheckExecutable refuses what the Linux host could not run.
func TestCheckExecutable(t *testing.T) {
	good, err := os.ReadFile(linuxHandler(t))
	if err != nil {
		t.Fatal(err)
	}
	arm64 := bytes.Clone(good)
	binary.LittleEndian.PutUint16(arm64[18:], uint16(elf.EM_AARCH64)) // e_machine
	dynamic := bytes.Clone(good)
	phoff := binary.LittleEndian.Uint64(dynamic[32:]) // e_phoff; p_type is the first word of a program header
	binary.LittleEndian.PutUint32(dynamic[phoff:], uint32(elf.PT_INTERP))

	tests := []struct {
		name string
		body []byte
		want string // "" means accepted
	}{
		{"static linux amd64", good, ""},
		{"shell script", []byte("#!/bin/sh\necho hi\n"), "not a Linux executable"},
		{"arm64", arm64, "EM_AARCH64"},
		{"dynamically linked", dynamic, "CGO_ENABLED=0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "handler")
			if err := os.WriteFile(path, tt.body, 0o755); err != nil {
				t.Fatal(err)
			}
			err := checkExecutable(path)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("got %v, want accepted", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// linuxHandler builds ./handler for linux/amd64 once per test run (the same
// build the tool does) and returns its path.
func linuxHandler(t *testing.T) string {
	t.Helper()
	handlerOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mkzip-test-")
		if err != nil {
			handlerErr = err
			return
		}
		handlerPath = filepath.Join(dir, executable)
		handlerErr = build(context.Background(), "go", repoRoot, handlerPath)
	})
	if handlerErr != nil {
		t.Fatal(handlerErr)
	}
	return handlerPath
}

// tinyExecutable builds a program that does nothing the way build builds
// the handler (static, linux/amd64) and returns its path.
func tinyExecutable(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	writeFile(t, src, "package main\n\nfunc main() {}\n")
	exe := filepath.Join(dir, executable)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", exe, src)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GO111MODULE=on")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build a tiny executable: %v\n%s", err, out)
	}
	return exe
}

var (
	handlerOnce sync.Once
	handlerPath string
	handlerErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if handlerPath != "" {
		os.RemoveAll(filepath.Dir(handlerPath))
	}
	os.Exit(code)
}

// checkELF is checkExecutable for bytes in memory.
func checkELF(body []byte) error {
	f, err := os.CreateTemp("", "mkzip-handler-")
	if err != nil {
		return err
	}
	path := f.Name()
	defer os.Remove(path)
	if _, err := f.Write(body); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return checkExecutable(path)
}

func readEntry(t *testing.T, f *zip.File) []byte {
	t.Helper()
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	body, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	body, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dst, string(body))
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func keys(m map[string]fs.FileMode) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
