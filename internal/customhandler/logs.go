package customhandler

// How an invocation's log lines reach the Functions host: through stdout only.
//
// The host has two ways in, and ingests both (azure-functions-host 4.1037.0, commit
// 89dc438d476542786f2fc4070f553423213a6223):
//
//   - stdout/stderr of the handler process: every line, as it is written, whatever the
//     invocation's outcome, logged under the category "Host.Function.Console" (stdout at
//     Information; stderr at Error, or Warning when the line contains "warn").
//     https://github.com/Azure/azure-functions-host/blob/89dc438d476542786f2fc4070f553423213a6223/src/WebJobs.Script/Workers/ProcessManagement/WorkerProcess.cs#L112-L233
//   - the answer's Logs: logged at Information under "Function.<name>.User" after the
//     handler answered, but only when the answer is 2xx and a JSON invocation result.
//     EnsureSuccessStatusCode runs first, so the Logs of a failed invocation (non-2xx),
//     of an answer the host cannot read, and of an invocation the host timed out are
//     all lost.
//     https://github.com/Azure/azure-functions-host/blob/89dc438d476542786f2fc4070f553423213a6223/src/WebJobs.Script/Workers/Http/DefaultHttpWorkerService.cs#L179-L262
//
// Writing a line to both would put every line in Application Insights twice. Failing
// invocations are the ones whose lines matter most, and a failure must stay a non-2xx
// answer (so that Service Bus abandons and eventually dead-letters the message), so the
// one path is stdout: each line is written once, at once, and carries invocation_id and
// function so it can be found per invocation. The answer's Logs is always empty.

// emptyLogs is the Logs of a success answer: it always encodes as [], so no line can
// reach the host through Logs.
type emptyLogs struct{}

// MarshalJSON implements json.Marshaler.
func (emptyLogs) MarshalJSON() ([]byte, error) {
	return []byte("[]"), nil
}
