// Package outcome is pal-keeper's one outcome policy: from the engine's result
// and error and the invocation's work context, [Decide] says whether an
// invocation is done, to be retried or failed, with its status, its public
// reason ([PublicMessage]: never an SDK error) and, for the one-shot commands,
// its exit code ([Outcome.ExitCode]). [WorkContext] bounds an invocation's
// work by its budget and names the setting when it runs out, so Decide tells
// the invocation's own deadline from a caller that went away.
package outcome
