package hostsim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// worker is one run of the handler process.
type worker struct {
	id   string // FUNCTIONS_CUSTOMHANDLER_WORKER_ID
	port int
	base string // http://127.0.0.1:{port}

	cmd  *exec.Cmd
	tail *tailBuffer

	ready    chan struct{} // closed once the process answered GET / or failed to start
	startErr error         // set before ready is closed

	done    chan struct{} // closed when the process has exited
	state   *os.ProcessState
	waitErr error

	intentional atomic.Bool // the host stopped it (Stop, Restart, timeout)
}

func newWorker() *worker {
	return &worker{
		id:    newGUID(),
		tail:  &tailBuffer{max: 20},
		ready: make(chan struct{}),
		done:  make(chan struct{}),
	}
}

// exited reports whether the process has exited.
func (w *worker) exited() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// exitCode is the process exit code, -1 when it was killed by a signal or never ran.
// Only valid after done is closed.
func (w *worker) exitCode() int {
	if w.state == nil {
		return -1
	}
	return w.state.ExitCode()
}

func (w *worker) describeExit() string {
	if w.state == nil {
		return "did not run"
	}
	return w.state.String()
}

// terminate asks the process to stop with SIGTERM, waits up to grace (or until ctx
// ends), then kills it. It returns the exit code; the error says the process had to
// be killed.
func (w *worker) terminate(ctx context.Context, grace time.Duration) (int, error) {
	w.intentional.Store(true)
	if w.cmd == nil || w.cmd.Process == nil {
		return -1, nil
	}
	if w.exited() {
		return w.exitCode(), nil
	}
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		// Not supported (Windows) or already gone: fall through to Kill.
		_ = w.cmd.Process.Kill()
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-w.done:
		return w.exitCode(), nil
	case <-timer.C:
	case <-ctx.Done():
	}
	_ = w.cmd.Process.Kill()
	<-w.done
	return w.exitCode(), fmt.Errorf("hostsim: handler did not exit within %s of SIGTERM and was killed", grace)
}

// kill stops the process at once, as the host does when it restarts a worker.
func (w *worker) kill() {
	w.intentional.Store(true)
	if w.cmd == nil || w.cmd.Process == nil {
		return
	}
	_ = w.cmd.Process.Kill()
	<-w.done
}

// launch starts the handler process for w and waits until it answers GET /. It always
// closes w.ready; on failure the process is gone and w.startErr says why.
func (h *Host) launch(ctx context.Context, w *worker) error {
	err := h.startProcess(ctx, w)
	if err != nil {
		w.startErr = err
		h.log.Error().Err(err).Str("workerId", w.id).Msg("handler failed to start")
	}
	close(w.ready)
	return err
}

var errInitTimeout = errors.New("initialization timeout")

func (h *Host) startProcess(ctx context.Context, w *worker) error {
	lctx, cancel := context.WithTimeoutCause(ctx, h.initTimeout, errInitTimeout)
	defer cancel()
	defer context.AfterFunc(h.ctx, cancel)()

	port, err := freePort()
	if err != nil {
		return err
	}
	w.port = port
	w.base = "http://127.0.0.1:" + strconv.Itoa(port)

	cmd := exec.Command(h.exe, h.args...)
	cmd.Dir = h.workDir
	cmd.Env = h.childEnv(port, w.id)
	outLines := newOutputLines(h.ingested, false, w.id)
	errLines := newOutputLines(h.ingested, true, w.id)
	cmd.Stdout = io.MultiWriter(h.stdout, outLines)
	cmd.Stderr = io.MultiWriter(h.stderr, w.tail, errLines)
	cmd.WaitDelay = 2 * time.Second
	stopWithHost(cmd)
	if err := h.ctx.Err(); err != nil {
		return ErrHostStopped
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("hostsim: starting handler %s: %w", h.exe, err)
	}
	w.cmd = cmd
	go func() {
		w.waitErr = cmd.Wait() // returns once the output has been copied
		outLines.flush()
		errLines.flush()
		w.state = cmd.ProcessState
		close(w.done)
	}()
	if h.track() {
		go h.watch(w)
	}
	if err := h.waitReady(lctx, w); err != nil {
		w.kill()
		return err
	}
	h.log.Info().Str("workerId", w.id).Int("port", port).Int("pid", cmd.Process.Pid).Msg("handler ready")
	return nil
}

// childEnv is the handler's environment: the app settings plus the variables the host
// adds (HttpWorkerProcess).
func (h *Host) childEnv(port int, workerID string) []string {
	added := map[string]string{
		"FUNCTIONS_CUSTOMHANDLER_PORT":      strconv.Itoa(port),
		"FUNCTIONS_CUSTOMHANDLER_WORKER_ID": workerID,
		"FUNCTIONS_HTTPWORKER_PORT":         strconv.Itoa(port),
		"FUNCTIONS_HTTPWORKER_ID":           workerID,
		"FUNCTIONS_APP_ROOT_PATH":           h.appRoot,
	}
	env := make([]string, 0, len(h.env)+len(added))
	for _, kv := range h.env {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := added[k]; !ok {
			env = append(env, kv)
		}
	}
	for _, k := range []string{"FUNCTIONS_CUSTOMHANDLER_PORT", "FUNCTIONS_CUSTOMHANDLER_WORKER_ID",
		"FUNCTIONS_HTTPWORKER_PORT", "FUNCTIONS_HTTPWORKER_ID", "FUNCTIONS_APP_ROOT_PATH"} {
		env = append(env, k+"="+added[k])
	}
	return env
}

// waitReady polls GET / every 25 ms until the handler answers anything.
func (h *Host) waitReady(ctx context.Context, w *worker) error {
	tick := time.NewTicker(readyPollInterval)
	defer tick.Stop()
	for {
		if h.ping(ctx, w) {
			return nil
		}
		select {
		case <-w.done:
			return fmt.Errorf("hostsim: handler exited before it was ready (%s, exit code %d)%s",
				w.describeExit(), w.exitCode(), w.tail.suffix())
		case <-ctx.Done():
			switch {
			case h.ctx.Err() != nil:
				return ErrHostStopped
			case errors.Is(context.Cause(ctx), errInitTimeout):
				return fmt.Errorf("hostsim: handler did not answer GET %s/ within %s%s", w.base, h.initTimeout, w.tail.suffix())
			default:
				return ctx.Err()
			}
		case <-tick.C:
		}
	}
}

func (h *Host) ping(ctx context.Context, w *worker) bool {
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(pctx, http.MethodGet, w.base+"/", nil)
	if err != nil {
		return false
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	_ = resp.Body.Close()
	return true
}

// watch restarts the handler when it exits on its own, like the host's dispatcher; after
// three exits within 30 minutes the host gives up.
func (h *Host) watch(w *worker) {
	defer h.wg.Done()
	<-w.done
	<-w.ready
	if w.startErr != nil || w.intentional.Load() {
		return
	}
	h.log.Warn().Str("workerId", w.id).Int("exitCode", w.exitCode()).Str("stderr", w.tail.String()).
		Msg("handler exited unexpectedly")

	h.restartMu.Lock()
	defer h.restartMu.Unlock()
	h.mu.Lock()
	if h.stopped || h.worker != w {
		h.mu.Unlock()
		return
	}
	now := time.Now()
	recent := h.crashes[:0]
	for _, t := range h.crashes {
		if now.Sub(t) < crashWindow {
			recent = append(recent, t)
		}
	}
	h.crashes = append(recent, now)
	if len(h.crashes) >= crashThreshold {
		h.failed = fmt.Errorf("hostsim: handler exited %d times within %s (last: %s); the host shut down%s",
			len(h.crashes), crashWindow, w.describeExit(), w.tail.suffix())
		h.notifyLocked()
		h.mu.Unlock()
		h.log.Error().Err(h.failed).Msg("giving up on the handler")
		return
	}
	nw := h.installWorkerLocked()
	h.mu.Unlock()
	_ = h.launch(context.Background(), nw)
}

// tailBuffer keeps the last lines written to it (the handler's stderr).
type tailBuffer struct {
	mu      sync.Mutex
	max     int
	lines   []string
	partial []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, p...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		t.lines = append(t.lines, strings.TrimRight(string(t.partial[:i]), "\r"))
		t.partial = t.partial[i+1:]
		if len(t.lines) > t.max {
			t.lines = t.lines[len(t.lines)-t.max:]
		}
	}
	if len(t.partial) > 4096 {
		t.partial = t.partial[len(t.partial)-4096:]
	}
	return len(p), nil
}

// String returns the kept lines, oldest first.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := append([]string(nil), t.lines...)
	if len(t.partial) > 0 {
		lines = append(lines, string(t.partial))
	}
	return strings.Join(lines, "\n")
}

func (t *tailBuffer) suffix() string {
	if s := t.String(); s != "" {
		return "; last stderr lines:\n" + s
	}
	return ""
}

// syncWriter serialises writes from the handler's stdout and stderr copies (and from
// successive handler processes) into the caller's writers.
type syncWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (s syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
