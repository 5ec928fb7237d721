package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildSandbox builds ./cmd/sandbox into a temporary directory.
func buildSandbox(t *testing.T) string {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "sandbox")
	build := exec.Command("go", append(append([]string{"build"}, buildFlags()...), "-o", exe, "./cmd/sandbox")...)
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the sandbox: %v\n%s", err, out)
	}
	return exe
}

// handlerCopy copies the handler binary to a path of its own, so that the
// processes running it are this test's alone.
func handlerCopy(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(handlerBinary)
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(t.TempDir(), "handler")
	if err := os.WriteFile(exe, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return exe
}

// running lists the PIDs of live processes whose executable is exe (Linux /proc).
func running(t *testing.T, exe string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc: cannot list processes")
	}
	var pids []string
	for _, e := range entries {
		if target, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && target == exe {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// waitGone waits (up to a deadline) until no process runs exe.
func waitGone(t *testing.T, exe string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for len(running(t, exe)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("handler %s still running (pids %v) after the sandbox ended", exe, running(t, exe))
		}
		time.Sleep(50 * time.Millisecond) // polls the process table; orders no goroutines
	}
}

// TestSandboxStopsItsHandler: the sandbox's handler ends with the sandbox,
// when its stdout is closed (sandbox -v | head: SIGPIPE) and when the sandbox
// is killed outright.
func TestSandboxStopsItsHandler(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the sandbox")
	}
	sandbox := buildSandbox(t)

	t.Run("stdout_closed", func(t *testing.T) {
		t.Parallel()
		exe := handlerCopy(t)
		cmd := exec.Command(sandbox, "-v", "--handler", exe)
		cmd.Dir = ".."
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr syncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Read the first line, then hang up, as head -1 does.
		if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
			t.Fatalf("first line: %v", err)
		}
		stdout.Close()
		err = cmd.Wait()
		code := cmd.ProcessState.ExitCode()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			t.Errorf("the sandbox died of %v: it did not stop its handler", ws.Signal())
		}
		if code != 141 && code != 0 {
			t.Errorf("sandbox with stdout closed: %v, exit %d, want 141 (or 0 if it finished first)\n%s", err, code, stderr.String())
		}
		if strings.Contains(stderr.String(), "sandbox: ") {
			t.Errorf("the sandbox complained on stderr: %s", stderr.String())
		}
		waitGone(t, exe)
	})

	t.Run("killed", func(t *testing.T) {
		t.Parallel()
		exe := handlerCopy(t)
		cmd := exec.Command(sandbox, "--serve", "--handler", exe)
		cmd.Dir = ".."
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = cmd.Process.Kill() }()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() && !strings.Contains(sc.Text(), "serving until Ctrl-C") {
		}
		if len(running(t, exe)) != 1 {
			t.Fatalf("want one handler process while the sandbox serves, got %v", running(t, exe))
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		go func() { _, _ = io.Copy(io.Discard, stdout) }()
		_ = cmd.Wait()
		waitGone(t, exe)
	})
}
