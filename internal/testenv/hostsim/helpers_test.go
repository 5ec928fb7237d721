package hostsim

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// fakeHandler is the path of testdata/fakehandler, built once by TestMain.
var fakeHandler string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hostsim-fake-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fakeHandler = filepath.Join(dir, "fakehandler")
	if runtime.GOOS == "windows" {
		fakeHandler += ".exe"
	}
	build := exec.Command("go", "build", "-o", fakeHandler, "./testdata/fakehandler")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the fake handler:", err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

const basicHostJSON = `{
  "version": "2.0",
  "customHandler": {"description": {"defaultExecutablePath": "handler", "arguments": ["--flag", "%APP_ARG%"]}}
}`

// writeApp writes host.json and the given files (relative path → content) into a new
// app root.
func writeApp(t *testing.T, hostJSON string, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	files["host.json"] = hostJSON
	for rel, content := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// syncBuffer collects the handler's output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startHost starts a Host on the fake handler and stops it when the test ends.
func startHost(t *testing.T, opts Options) (*Host, *syncBuffer) {
	t.Helper()
	if opts.Executable == "" {
		opts.Executable = fakeHandler
	}
	return startHostAsConfigured(t, opts)
}

// startHostAsConfigured is startHost without the executable override.
func startHostAsConfigured(t *testing.T, opts Options) (*Host, *syncBuffer) {
	t.Helper()
	out := &syncBuffer{}
	opts.Stdout, opts.Stderr = out, out
	if opts.Logger == nil {
		l := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
		opts.Logger = &l
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v\nhandler output:\n%s", err, out)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_, _ = h.Stop(ctx)
	})
	return h, out
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// echo is what the fake handler reports about the request it received.
type echo struct {
	Method           string
	Path             string
	RawQuery         string
	Host             string
	Header           http.Header
	ContentLength    int64
	TransferEncoding []string
	Body             string
	Pid              int
	Cwd              string
	Args             []string
	Env              map[string]string
	Invocation       int64
	Concurrent       int64
}

func echoOf(t *testing.T, res *InvocationResult) echo {
	t.Helper()
	if res == nil {
		t.Fatal("no invocation result")
	}
	if res.Failed {
		t.Fatalf("invocation failed: %v (status %d, body %s)", res.Err, res.Status, res.Body)
	}
	var e echo
	if err := json.Unmarshal(res.ReturnValue, &e); err != nil {
		t.Fatalf("ReturnValue is not an echo: %v\n%s", err, res.ReturnValue)
	}
	return e
}

// received is the envelope the handler received, key by key.
type received struct {
	Data     map[string]json.RawMessage
	Metadata map[string]json.RawMessage
}

func receivedOf(t *testing.T, res *InvocationResult) received {
	t.Helper()
	e := echoOf(t, res)
	var r received
	if err := json.Unmarshal([]byte(e.Body), &r); err != nil {
		t.Fatalf("handler did not receive an envelope: %v\n%s", err, e.Body)
	}
	return r
}

// str decodes a JSON string.
func str(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s is not a JSON string: %v", raw, err)
	}
	return s
}

// outputs64 is a directive making the fake handler answer with these Outputs.
func outputs64(outputs string) string {
	return "FAKE:outputs64=" + base64.RawURLEncoding.EncodeToString([]byte(outputs))
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jsonEqual compares two JSON texts semantically.
func jsonEqual(t *testing.T, got json.RawMessage, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %s: %v", want, err)
	}
	return mustJSON(t, g) == mustJSON(t, w)
}
