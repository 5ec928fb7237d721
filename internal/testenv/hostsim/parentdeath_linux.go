package hostsim

import (
	"os/exec"
	"syscall"
)

// stopWithHost asks Linux to send the handler SIGTERM when the process that
// started it dies, however it dies (SIGKILL included), so that no handler
// outlives its host simulator (or the sandbox).
func stopWithHost(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
