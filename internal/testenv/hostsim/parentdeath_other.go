//go:build !linux

package hostsim

import "os/exec"

// stopWithHost does nothing where the system has no parent-death signal:
// Stop (and the sandbox's deferred stop) is the only way the handler ends.
func stopWithHost(*exec.Cmd) {}
