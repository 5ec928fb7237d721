package hostsim

import (
	"context"
	"regexp"
	"strings"
	"sync"
)

// What the Functions host ingests from a custom handler, i.e. what reaches its loggers
// (and so Application Insights). Two paths, read in azure-functions-host 4.1037.0
// (commit 89dc438d476542786f2fc4070f553423213a6223):
//
//   - Process output. WorkerProcess reads stdout and stderr line by line
//     (OutputDataReceived, ErrorDataReceived): a stdout line is logged at Information; a
//     stderr line at Warning when it contains "warn", otherwise at Error
//     (HttpWorkerDescription.UseStdErrorStreamForErrorsOnly is true). A line starting with
//     "LanguageWorkerConsoleLog" goes, prefix removed, to the worker's own logger
//     "Worker.HttpWorkerProcess.<workerId>"; one starting with "azfuncjsonlog:" to
//     "Host.Function.ToolingConsoleLog"; every other line to "Host.Function.Console"
//     (WorkerConsoleLogService). These lines are not tied to an invocation.
//     https://github.com/Azure/azure-functions-host/blob/89dc438d476542786f2fc4070f553423213a6223/src/WebJobs.Script/Workers/ProcessManagement/WorkerProcess.cs#L112-L233
//     https://github.com/Azure/azure-functions-host/blob/89dc438d476542786f2fc4070f553423213a6223/src/WebJobs.Script/Workers/WorkerConsoleLogService.cs
//     https://github.com/Azure/azure-functions-host/blob/89dc438d476542786f2fc4070f553423213a6223/src/WebJobs.Script/Workers/Http/HttpWorkerDescription.cs#L20
//
//   - The answer's Logs. DefaultHttpWorkerService.ProcessDefaultInvocationRequest calls
//     EnsureSuccessStatusCode, then reads the body as HttpScriptInvocationResult, and only
//     then ProcessLogsFromHttpResponse logs each entry at Information with the
//     invocation's logger (category "Function.<name>.User", correlated with the
//     invocation). A non-2xx answer, or one whose body is not a JSON invocation result,
//     throws first: its Logs are never ingested. A forwarded HTTP request
//     (enableForwardingHttpRequest) has no Logs at all.
//     https://github.com/Azure/azure-functions-host/blob/89dc438d476542786f2fc4070f553423213a6223/src/WebJobs.Script/Workers/Http/DefaultHttpWorkerService.cs#L179-L262

// Sources of an IngestedLine.
const (
	SourceStdout     = "stdout"
	SourceStderr     = "stderr"
	SourceAnswerLogs = "Logs"
)

// Categories the host logs handler output under.
const (
	CategoryConsole        = "Host.Function.Console"
	CategoryToolingConsole = "Host.Function.ToolingConsoleLog"
	workerCategoryPrefix   = "Worker.HttpWorkerProcess."
)

// Levels, as Microsoft.Extensions.Logging names them.
const (
	LevelInformation = "Information"
	LevelWarning     = "Warning"
	LevelError       = "Error"
)

const (
	consoleLogPrefix = "LanguageWorkerConsoleLog"
	toolingLogPrefix = "azfuncjsonlog:"
	// maxIngested bounds Host.Ingested; older lines are dropped first.
	maxIngested = 200_000
)

var consoleLogPrefixRE = regexp.MustCompile(`(?i)` + consoleLogPrefix)

// IngestedLine is one log line as the Functions host ingested it: what would reach
// Application Insights (traces) with default logging settings.
type IngestedLine struct {
	// Source is SourceStdout, SourceStderr or SourceAnswerLogs.
	Source string
	// Category is the logger category: CategoryConsole for handler output,
	// "Function.<name>.User" for Logs.
	Category string
	// Level is LevelInformation, LevelWarning or LevelError.
	Level string
	// Function and InvocationID are set for Logs only: the host does not tie process
	// output to an invocation.
	Function, InvocationID string
	// Message is the line as logged.
	Message string
}

// ingestLog is what the host has ingested so far.
type ingestLog struct {
	mu      sync.Mutex
	lines   []IngestedLine
	changed chan struct{} // closed and replaced on every add
}

func newIngestLog() *ingestLog {
	return &ingestLog{changed: make(chan struct{})}
}

func (l *ingestLog) add(lines ...IngestedLine) {
	if len(lines) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, lines...)
	if over := len(l.lines) - maxIngested; over > 0 {
		l.lines = append(l.lines[:0:0], l.lines[over:]...)
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *ingestLog) snapshot() ([]IngestedLine, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]IngestedLine(nil), l.lines...), l.changed
}

// Ingested returns every log line the host has ingested so far, oldest first (at most
// the last 200 000): the handler's stdout and stderr lines, and the Logs of answers the
// host accepted. Process output is read asynchronously, so a line the handler wrote
// just before answering may appear a moment after the invocation returns; see
// WaitIngested.
func (h *Host) Ingested() []IngestedLine {
	lines, _ := h.ingested.snapshot()
	return lines
}

// WaitIngested waits until cond holds for the lines ingested so far and returns them;
// it returns the last lines seen and ctx's error when ctx ends first.
func (h *Host) WaitIngested(ctx context.Context, cond func([]IngestedLine) bool) ([]IngestedLine, error) {
	for {
		lines, changed := h.ingested.snapshot()
		if cond(lines) {
			return lines, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return lines, ctx.Err()
		}
	}
}

// ingestAnswerLogs records the Logs of an accepted answer.
func (h *Host) ingestAnswerLogs(res *InvocationResult) {
	lines := make([]IngestedLine, 0, len(res.Logs))
	for _, m := range res.Logs {
		lines = append(lines, IngestedLine{
			Source: SourceAnswerLogs, Category: "Function." + res.Function + ".User", Level: LevelInformation,
			Function: res.Function, InvocationID: res.InvocationID, Message: m,
		})
	}
	h.ingested.add(lines...)
}

// outputLines splits one stream of a handler process into lines like .NET's
// StreamReader.ReadLine (\n, \r or \r\n ends a line; a last unterminated line counts)
// and ingests them.
type outputLines struct {
	mu       sync.Mutex
	log      *ingestLog
	stderr   bool
	workerID string
	partial  []byte
	sawCR    bool
}

func newOutputLines(log *ingestLog, stderr bool, workerID string) *outputLines {
	return &outputLines{log: log, stderr: stderr, workerID: workerID}
}

// Write implements io.Writer.
func (o *outputLines) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var lines []IngestedLine
	for _, c := range p {
		switch {
		case c == '\n' && o.sawCR:
			o.sawCR = false // second half of \r\n
		case c == '\n' || c == '\r':
			lines = append(lines, o.classify(string(o.partial)))
			o.partial = o.partial[:0]
			o.sawCR = c == '\r'
		default:
			o.sawCR = false
			o.partial = append(o.partial, c)
		}
	}
	o.log.add(lines...)
	return len(p), nil
}

// flush ingests the last unterminated line, once the process's output has ended.
func (o *outputLines) flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.partial) > 0 {
		o.log.add(o.classify(string(o.partial)))
		o.partial = nil
	}
}

// classify is WorkerProcess.ParseErrorMessageAndLog (stderr) and BuildAndLogConsoleLog.
func (o *outputLines) classify(msg string) IngestedLine {
	line := IngestedLine{Source: SourceStdout, Category: CategoryConsole, Level: LevelInformation, Message: msg}
	if o.stderr {
		line.Source, line.Level = SourceStderr, LevelError
		if strings.Contains(strings.ToLower(msg), "warn") {
			line.Level = LevelWarning
		}
	}
	switch {
	case hasPrefixFold(msg, consoleLogPrefix):
		line.Category = workerCategoryPrefix + o.workerID
		line.Message = consoleLogPrefixRE.ReplaceAllString(msg, "")
	case hasPrefixFold(msg, toolingLogPrefix):
		line.Category = CategoryToolingConsole
	}
	return line
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
