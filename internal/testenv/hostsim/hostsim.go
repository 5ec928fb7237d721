// Package hostsim simulates the Azure Functions host for a custom handler.
//
// It starts the handler executable the way the host does (host.json customHandler
// description, FUNCTIONS_CUSTOMHANDLER_PORT and friends, readiness by polling GET /),
// sends invocations in the host's exact wire shapes (Newtonsoft conversions, double-encoded
// Service Bus bodies, HTTP request objects, timer info) and applies the host's rules to the
// answers: only a 2xx application/json answer is a success, a function timeout restarts
// the handler, Service Bus messages are completed, redelivered or dead-lettered.
//
// The facts it imitates, with their sources, are in docs/reference.md. It is used by
// end-to-end tests and by cmd/sandbox; it only ever talks to 127.0.0.1.
//
// A Host is safe for concurrent use.
//
// Where the host's behaviour is derived rather than observed, the simulator follows the
// host and WebJobs source: JSON-object bodies copy their top-level properties into
// Metadata (Service Bus: non-array properties; HTTP: all, arrays as JSON text, plus query
// and route parameters), ISO date strings in such properties are printed the way
// Newtonsoft reads them ("01/02/2024 03:04:05"), a missing http output answers 200 "{}",
// an HTTP function without an http output answers an empty 200 (OkResult). HTTP
// Metadata has no "Params" (only Data.<req> has it). A request without Content-Length
// (chunked) reaches the handler without a body.
//
// Logs: the simulator records what the host ingests (Host.Ingested): every stdout and
// stderr line of the handler process, and the Logs of an answer only when the answer is
// a 2xx JSON invocation result; the Logs of a non-2xx answer are dropped. ReturnValue is
// parsed (InvocationResult.ReturnValue) but, as in the host, it reaches nothing unless a
// binding is named "$return".
//
// Not simulated: retry policies (RetryContext), sessions, batches (cardinality "many" is
// rejected), message expiry, lock renewal, runOnStartup and timers firing on their own
// (use Timer or the admin endpoint), WEBSITE_TIME_ZONE (all times are UTC). Topic
// subscriptions are queues named "<topic>/Subscriptions/<subscription>"; output bindings
// to a topic go to the queue named after the topic.
package hostsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// DefaultHostVersion is the host version the simulator reports in
// X-Azure-Functions-HostVersion and User-Agent unless Options.HostVersion is set.
const DefaultHostVersion = "4.1037.0.0"

const (
	defaultInitTimeout        = 30 * time.Second
	defaultFunctionTimeout    = 30 * time.Minute
	defaultStopGracePeriod    = 10 * time.Second
	defaultMaxDeliveryCount   = 10
	defaultMaxConcurrentCalls = 16
	defaultBaseURL            = "http://localhost:7071"
	defaultRoutePrefix        = "api"
	readyPollInterval         = 25 * time.Millisecond
	crashThreshold            = 3                // HttpFunctionInvocationDispatcher.ErrorEventsThreshold
	crashWindow               = 30 * time.Minute // WorkerRestartErrorIntervalThresholdInMinutes
	maxAnswerBytes            = 128 << 20
)

// Errors returned by the simulator. InvocationResult.Err wraps ErrFunctionTimeout or
// ErrInvalidResponse when the handler's answer made the invocation fail.
var (
	// ErrHostStopped: the host was stopped (or is stopping); nothing more is invoked.
	ErrHostStopped = errors.New("hostsim: host is stopped")
	// ErrUnknownFunction: no function of that name (or not one of the needed trigger type).
	ErrUnknownFunction = errors.New("hostsim: unknown function")
	// ErrFunctionDisabled: the function is disabled.
	ErrFunctionDisabled = errors.New("hostsim: function is disabled")
	// ErrFunctionTimeout: the invocation ran longer than functionTimeout; the handler was restarted.
	ErrFunctionTimeout = errors.New("hostsim: function timeout")
	// ErrInvalidResponse: the handler's answer was not a 2xx JSON invocation result.
	ErrInvalidResponse = errors.New("hostsim: invalid invocation response")
)

// Options configure a Host. Only AppRoot is required.
type Options struct {
	// AppRoot holds host.json and the function folders (<name>/function.json or
	// functions/<name>/function.json).
	AppRoot string
	// Executable replaces customHandler.description.defaultExecutablePath (tests build the
	// handler elsewhere; the sandbox re-executes itself).
	Executable string
	// Args, when not nil, replaces customHandler.description.arguments.
	Args []string
	// Env is the handler's complete environment ("KEY=VALUE"), i.e. the app settings; it is
	// also where %SETTING% references are resolved. The FUNCTIONS_* variables the host sets
	// are added. Pass os.Environ() to inherit this process's environment.
	Env []string
	// Stdout and Stderr receive the handler's output (discarded when nil).
	Stdout, Stderr io.Writer
	// Logger receives the simulator's own log (nothing when nil).
	Logger *zerolog.Logger

	// InitTimeout bounds the wait for the handler to answer GET / (default 30 s).
	InitTimeout time.Duration
	// FunctionTimeout overrides host.json functionTimeout (default 30 min); negative
	// means no timeout.
	FunctionTimeout time.Duration
	// StopGracePeriod is how long Stop waits after SIGTERM before killing (default 10 s).
	StopGracePeriod time.Duration

	// MaxDeliveryCount is the queues' maximum delivery count (default 10,
	// Service Bus's default; docs/reference.md).
	MaxDeliveryCount int
	// QueueMaxDeliveryCount sets the maximum delivery count of single queues
	// by name (case-insensitive), as each Service Bus queue has its own
	// max_delivery_count; the others have MaxDeliveryCount.
	QueueMaxDeliveryCount map[string]int
	// MaxConcurrentCalls overrides host.json extensions.serviceBus.maxConcurrentCalls
	// (default 16): concurrent deliveries per queue.
	MaxConcurrentCalls int
	// DuplicateDetectionWindow turns on the queues' duplicate detection: a message whose
	// MessageID was sent to the queue within the window is accepted and dropped (Service
	// Bus requiresDuplicateDetection; 0: off, the Service Bus default).
	DuplicateDetectionWindow time.Duration
	// ServiceBusREST names an app setting the simulator sets to the base URL
	// (http://127.0.0.1:{port}) of its Service Bus REST send endpoint, so the handler
	// can send to the simulated queues (see ServiceBusREST); "" serves none.
	ServiceBusREST string
	// AutoDeliver delivers queued messages in the background as they arrive (the sandbox);
	// without it messages wait for DrainQueue (tests).
	AutoDeliver bool

	// FunctionKey is the key authLevel "function" requires (default: random, see
	// Host.FunctionKey). MasterKey is accepted for "function" and "admin" (default:
	// FunctionKey).
	FunctionKey, MasterKey string
	// HostVersion is reported to the handler (default DefaultHostVersion).
	HostVersion string
	// BaseURL is the public address of the simulated function app, used for the Url and
	// Host of HTTP requests (default http://localhost:7071).
	BaseURL string
}

// Host is a running simulated Functions host with its handler process.
type Host struct {
	appRoot          string
	exe              string
	args             []string
	workDir          string
	env              []string
	settings         settings
	routePrefix      string
	forwarding       bool
	functionTimeout  time.Duration
	initTimeout      time.Duration
	grace            time.Duration
	maxDelivery      int
	queueMaxDelivery map[string]int
	maxConcurrent    int
	functionKey      string
	masterKey        string
	hostVersion      string
	baseURL          *url.URL
	log              zerolog.Logger
	stdout, stderr   io.Writer
	ingested         *ingestLog

	functions []*Function
	routes    map[*Function]routeTemplate

	transport *http.Transport
	client    *http.Client // invocations: follows redirects like the host's HttpClient
	rawClient *http.Client // forwarded requests: no redirects

	ctx    context.Context // cancelled by Stop
	cancel context.CancelFunc
	wg     sync.WaitGroup // watchers, deliveries, pumps

	restartMu sync.Mutex // serialises launching and stopping handler processes

	mu            sync.Mutex
	worker        *worker
	workerChanged chan struct{} // closed when worker, failed or stopped changes
	stopped       bool
	failed        error
	crashes       []time.Time
	queues        *queueSet   // shared by the processes of a cluster
	rest          *restServer // the Service Bus REST endpoint Start serves, if any
	dedupe        time.Duration
	timers        map[string]*timerState
	stopDone      chan struct{}
	stopCode      int
	stopErr       error
}

// Start reads the app's configuration, starts the handler and waits until it is ready.
// ctx bounds the start only; the handler runs until Stop.
func Start(ctx context.Context, opts Options) (*Host, error) {
	queues := newQueueSet()
	var rest *restServer
	if opts.ServiceBusREST != "" {
		var err error
		if rest, err = startREST(queues); err != nil {
			return nil, err
		}
		opts.Env = append(append([]string(nil), opts.Env...), opts.ServiceBusREST+"="+rest.url)
	}
	h, err := start(ctx, opts, queues)
	if err != nil {
		if rest != nil {
			rest.close()
		}
		return nil, err
	}
	h.rest = rest
	return h, nil
}

// start starts one handler process whose queues are queues.
func start(ctx context.Context, opts Options, queues *queueSet) (*Host, error) {
	h, err := newHost(opts, queues)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	w := h.installWorkerLocked()
	h.mu.Unlock()
	if err := h.launch(ctx, w); err != nil {
		h.mu.Lock()
		h.stopped = true
		h.mu.Unlock()
		h.cancel()
		h.wg.Wait()
		h.transport.CloseIdleConnections()
		return nil, err
	}
	if opts.AutoDeliver {
		h.startPumps()
	}
	return h, nil
}

func newHost(opts Options, queues *queueSet) (*Host, error) {
	if opts.AppRoot == "" {
		return nil, errors.New("hostsim: Options.AppRoot is required")
	}
	root, err := filepath.Abs(opts.AppRoot)
	if err != nil {
		return nil, fmt.Errorf("hostsim: %w", err)
	}
	cfg, err := readHostConfig(root)
	if err != nil {
		return nil, err
	}
	h := &Host{
		appRoot:          root,
		env:              append([]string(nil), opts.Env...),
		settings:         newSettings(opts.Env),
		initTimeout:      durationOr(opts.InitTimeout, defaultInitTimeout),
		grace:            durationOr(opts.StopGracePeriod, defaultStopGracePeriod),
		maxDelivery:      intOr(opts.MaxDeliveryCount, defaultMaxDeliveryCount),
		queueMaxDelivery: lowerKeys(opts.QueueMaxDeliveryCount),
		functionKey:      opts.FunctionKey,
		masterKey:        opts.MasterKey,
		hostVersion:      opts.HostVersion,
		queues:           queues,
		dedupe:           opts.DuplicateDetectionWindow,
		timers:           map[string]*timerState{},
		routes:           map[*Function]routeTemplate{},
		stopDone:         make(chan struct{}),
		log:              zerolog.Nop(),
		ingested:         newIngestLog(),
	}
	if opts.Logger != nil {
		h.log = opts.Logger.With().Str("component", "hostsim").Logger()
	}
	if h.functionKey == "" {
		h.functionKey = newKey()
	}
	if h.masterKey == "" {
		h.masterKey = h.functionKey
	}
	if h.hostVersion == "" {
		h.hostVersion = DefaultHostVersion
	}
	base := opts.BaseURL
	if base == "" {
		base = defaultBaseURL
	}
	if h.baseURL, err = url.Parse(strings.TrimSuffix(base, "/")); err != nil || h.baseURL.Host == "" {
		return nil, fmt.Errorf("hostsim: Options.BaseURL %q is not an absolute URL", base)
	}
	var outMu sync.Mutex
	h.stdout, h.stderr = syncWriter{&outMu, writerOr(opts.Stdout)}, syncWriter{&outMu, writerOr(opts.Stderr)}

	if err := h.configureHandler(cfg, opts); err != nil {
		return nil, err
	}
	h.routePrefix = defaultRoutePrefix
	if p := cfg.Extensions.HTTP.RoutePrefix; p != nil {
		h.routePrefix = strings.Trim(*p, "/")
	}
	switch {
	case opts.FunctionTimeout != 0:
		h.functionTimeout = opts.FunctionTimeout
	case cfg.FunctionTimeout != nil:
		if h.functionTimeout, err = parseTimeSpan(*cfg.FunctionTimeout); err != nil {
			return nil, fmt.Errorf("hostsim: host.json functionTimeout: %w", err)
		}
	default:
		h.functionTimeout = defaultFunctionTimeout
	}
	h.maxConcurrent = intOr(opts.MaxConcurrentCalls, intOr(cfg.Extensions.ServiceBus.MaxConcurrentCalls, defaultMaxConcurrentCalls))

	if h.functions, err = loadFunctions(root, h.settings); err != nil {
		return nil, err
	}
	prefix, _ := parseRoute(h.routePrefix)
	for _, f := range h.functions {
		if strings.EqualFold(f.TriggerType, TriggerHTTP) {
			rt, _ := parseRoute(f.Route) // validated by loadFunction
			h.routes[f] = append(append(routeTemplate(nil), prefix...), rt...)
		}
		if f.Queue != "" {
			h.Queue(f.Queue)
		}
	}

	h.transport = &http.Transport{
		Proxy:               nil, // loopback only, never through a proxy
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		DisableCompression:  true, // the host's HttpClient sends no Accept-Encoding
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
	}
	h.client = &http.Client{Transport: h.transport}
	h.rawClient = &http.Client{Transport: h.transport, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.workerChanged = make(chan struct{})
	return h, nil
}

// configureHandler resolves the executable, its arguments and working directory as
// HttpWorkerOptionsSetup/HttpWorkerDescription do.
func (h *Host) configureHandler(cfg *hostConfig, opts Options) error {
	var desc handlerSection
	if cfg.CustomHandler != nil {
		desc = *cfg.CustomHandler
	} else if opts.Executable == "" {
		return errors.New("hostsim: host.json has no customHandler section")
	}
	h.forwarding = desc.EnableForwardingHTTPRequest
	expand := func(s string) string { v, _ := h.settings.resolve(s, false); return v }

	h.workDir = h.appRoot
	if wd := expand(desc.Description.WorkingDirectory); wd != "" {
		if !filepath.IsAbs(wd) {
			wd = filepath.Join(h.appRoot, wd)
		}
		h.workDir = wd
	}
	if opts.Args != nil {
		h.args = append([]string(nil), opts.Args...)
	} else {
		for _, a := range desc.Description.Arguments {
			h.args = append(h.args, expand(a))
		}
	}
	if opts.Executable != "" {
		exe, err := filepath.Abs(opts.Executable)
		if err != nil {
			return fmt.Errorf("hostsim: %w", err)
		}
		h.exe = exe
		return nil
	}
	exe := expand(desc.Description.DefaultExecutablePath)
	if exe == "" {
		return errors.New("hostsim: host.json customHandler.description.defaultExecutablePath is empty")
	}
	if !filepath.IsAbs(exe) {
		if p := filepath.Join(h.appRoot, exe); fileExists(p) {
			exe = p
		} else if p, err := exec.LookPath(exe); err == nil {
			exe = p
		} else {
			return fmt.Errorf("hostsim: handler executable %q is neither in %s nor on PATH", exe, h.appRoot)
		}
	}
	h.exe = exe
	return nil
}

// Stop stops the host: it sends SIGTERM to the handler, waits up to the grace period
// (or until ctx ends), kills it if needed and returns its exit code (-1 when it was
// killed by a signal). Stop is idempotent.
func (h *Host) Stop(ctx context.Context) (int, error) {
	h.mu.Lock()
	if h.stopped {
		done := h.stopDone
		h.mu.Unlock()
		select {
		case <-done:
			return h.stopCode, h.stopErr
		case <-ctx.Done():
			return -1, ctx.Err()
		}
	}
	h.stopped = true
	h.notifyLocked()
	h.mu.Unlock()
	h.cancel()

	h.restartMu.Lock()
	h.mu.Lock()
	w := h.worker
	h.mu.Unlock()
	code, err := w.terminate(ctx, h.grace)
	h.restartMu.Unlock()
	h.log.Info().Int("exitCode", code).Msg("handler stopped")

	idle := make(chan struct{})
	go func() { h.wg.Wait(); close(idle) }()
	select {
	case <-idle:
	case <-ctx.Done():
		if err == nil {
			err = fmt.Errorf("hostsim: waiting for deliveries to end: %w", ctx.Err())
		}
	}
	h.transport.CloseIdleConnections()
	if h.rest != nil {
		h.rest.close()
	}
	h.stopCode, h.stopErr = code, err
	close(h.stopDone)
	return code, err
}

// Restart stops the handler (SIGTERM, grace period, kill) and starts a new process.
// Invocations in flight on the old process fail, as they do when the host restarts a
// worker; new invocations wait for the new process.
func (h *Host) Restart(ctx context.Context) error {
	h.restartMu.Lock()
	defer h.restartMu.Unlock()
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return ErrHostStopped
	}
	old := h.worker
	h.failed, h.crashes = nil, nil
	nw := h.installWorkerLocked()
	h.mu.Unlock()
	if _, err := old.terminate(ctx, h.grace); err != nil {
		h.log.Warn().Err(err).Msg("restart")
	}
	return h.launch(ctx, nw)
}

// restartAfterTimeout replaces the worker that ran a timed-out invocation, as
// WebScriptHostExceptionHandler.OnTimeoutExceptionAsync does.
func (h *Host) restartAfterTimeout(old *worker, function, invocationID string) {
	h.restartMu.Lock()
	defer h.restartMu.Unlock()
	h.mu.Lock()
	if h.stopped || h.worker != old {
		h.mu.Unlock()
		return
	}
	nw := h.installWorkerLocked()
	h.mu.Unlock()
	h.log.Warn().Str("function", function).Str("invocationId", invocationID).
		Msgf("A function timeout has occurred. Restarting worker process executing invocationId '%s'.", invocationID)
	old.kill()
	_ = h.launch(context.Background(), nw)
}

// acquire returns the running handler process, waiting while one is being started.
func (h *Host) acquire(ctx context.Context) (*worker, error) {
	for {
		h.mu.Lock()
		stopped, failed, w, changed := h.stopped, h.failed, h.worker, h.workerChanged
		h.mu.Unlock()
		switch {
		case stopped:
			return nil, ErrHostStopped
		case failed != nil:
			return nil, failed
		}
		select {
		case <-w.ready:
		case <-changed:
			continue
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if w.startErr != nil {
			return nil, fmt.Errorf("hostsim: handler is not running: %w", w.startErr)
		}
		if !w.exited() {
			return w, nil
		}
		// The process is gone and is about to be replaced (crash or restart).
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (h *Host) installWorkerLocked() *worker {
	w := newWorker()
	h.worker = w
	h.notifyLocked()
	return w
}

func (h *Host) notifyLocked() {
	if h.workerChanged != nil {
		close(h.workerChanged)
	}
	h.workerChanged = make(chan struct{})
}

// track registers a background goroutine; it refuses once the host is stopping.
func (h *Host) track() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return false
	}
	h.wg.Add(1)
	return true
}

// Functions returns the app's functions, sorted by name.
func (h *Host) Functions() []Function {
	out := make([]Function, len(h.functions))
	for i, f := range h.functions {
		out[i] = *f
	}
	return out
}

// Function returns the function with the given name (case-insensitive).
func (h *Host) Function(name string) (Function, bool) {
	if f := h.lookup(name); f != nil {
		return *f, true
	}
	return Function{}, false
}

func (h *Host) lookup(name string) *Function {
	for _, f := range h.functions {
		if strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}

func (h *Host) lookupTrigger(name, triggerType string) (*Function, error) {
	f := h.lookup(name)
	if f == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownFunction, name)
	}
	if triggerType != "" && !strings.EqualFold(f.TriggerType, triggerType) {
		return nil, fmt.Errorf("%w: %q has a %s, not a %s", ErrUnknownFunction, name, f.TriggerType, triggerType)
	}
	if f.Disabled {
		return nil, fmt.Errorf("%w: %s", ErrFunctionDisabled, f.Name)
	}
	return f, nil
}

// FunctionKey is the key that authLevel "function" requires (query "code" or header
// "x-functions-key").
func (h *Host) FunctionKey() string { return h.functionKey }

// MasterKey is the key authLevel "admin" requires; it also passes "function".
func (h *Host) MasterKey() string { return h.masterKey }

// AppRoot is the absolute app root.
func (h *Host) AppRoot() string { return h.appRoot }

// ServiceBusURL is the base URL of the Service Bus REST send endpoint (see
// Options.ServiceBusREST), or "" when the host serves none.
func (h *Host) ServiceBusURL() string {
	if h.rest == nil {
		return ""
	}
	return h.rest.url
}

// HandlerURL is the base URL of the running handler process (http://127.0.0.1:{port}),
// or "" while none is ready.
func (h *Host) HandlerURL() string {
	h.mu.Lock()
	w := h.worker
	h.mu.Unlock()
	select {
	case <-w.ready:
		if w.startErr == nil && !w.exited() {
			return w.base
		}
	default:
	}
	return ""
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func intOr(n, def int) int {
	if n > 0 {
		return n
	}
	return def
}

func writerOr(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}
