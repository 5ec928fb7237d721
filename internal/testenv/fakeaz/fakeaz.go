// Package fakeaz writes a stand-in for the Azure CLI (az) that fails the way
// the real one does when a person has to sign in, for tests of the sign-in
// errors of azidentity's AzureCLICredential and of the handler's commands.
//
// Each state's stderr is the Azure CLI's own text: "Please run 'az login' to
// setup account." (azure-cli, azure/cli/core/_profile.py, _AZ_LOGIN_MESSAGE)
// and, for an Entra error, the AADSTS description followed by the
// recommendation of azure/cli/core/auth/util.py (aad_error_handler), each
// printed by knack as "ERROR: …", exit status 1. A missing CLI is a PATH
// without az: the shell azidentity runs exits 127.
package fakeaz

import (
	"fmt"
	"os"
	"path/filepath"
)

// State is how the fake az fails.
type State string

// States.
const (
	// Missing: no az on PATH at all (Install writes nothing).
	Missing State = "missing"
	// LoggedOut: az is installed but nobody ran az login.
	LoggedOut State = "logged-out"
	// Expired: the login's refresh token expired (AADSTS700082).
	Expired State = "expired"
	// Offline: Entra ID cannot be reached (a transient failure).
	Offline State = "offline"
)

// stderr is what az prints for each state.
var stderr = map[State]string{
	LoggedOut: "ERROR: Please run 'az login' to setup account.",
	Expired: "ERROR: AADSTS700082: The refresh token has expired due to inactivity. The token was issued on 2026-06-01T09:00:00.0000000Z " +
		"and was inactive for 90.00:00:00. Trace ID: 3f6c1b2e-0000-4000-8000-000000000001 Correlation ID: 3f6c1b2e-0000-4000-8000-000000000002 " +
		"Timestamp: 2026-12-06 10:00:00Z\nInteractive authentication is needed. Please run:\naz login --scope https://management.core.windows.net//.default",
	Offline: "ERROR: HTTPSConnectionPool(host='login.microsoftonline.com', port=443): Max retries exceeded with url: " +
		"/organizations/oauth2/v2.0/token (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object>: " +
		"Failed to establish a new connection: [Errno -3] Temporary failure in name resolution'))",
}

// Install writes an executable az into dir that fails as state says, and
// returns dir, to be the whole of PATH (/bin/sh, which azidentity runs, is
// found by its absolute path). For Missing it writes nothing.
func Install(dir string, state State) (string, error) {
	if state == Missing {
		return dir, nil
	}
	msg, ok := stderr[state]
	if !ok {
		return "", fmt.Errorf("fakeaz: unknown state %q", state)
	}
	// Shell builtins only: PATH holds nothing but this az.
	script := "#!/bin/sh\nwhile IFS= read -r l; do echo \"$l\" >&2; done <<'AZ_EOF'\n" + msg + "\nAZ_EOF\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, "az"), []byte(script), 0o755); err != nil {
		return "", fmt.Errorf("fakeaz: %w", err)
	}
	return dir, nil
}
