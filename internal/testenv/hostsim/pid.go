package hostsim

// PID returns the operating-system process ID of the running handler process, or 0 when
// none is running: before it is ready, while it is being restarted, after it exited and
// after Stop. A restart (Restart, a function timeout, a crash) gives a new PID, so callers
// that watch the process (its memory in /proc/<pid>/status, say) should read it again.
func (h *Host) PID() int {
	h.mu.Lock()
	w := h.worker
	h.mu.Unlock()
	if w == nil {
		return 0
	}
	select {
	case <-w.ready:
		// w.cmd is set before ready is closed and never changes afterwards.
		if w.startErr == nil && !w.exited() && w.cmd != nil && w.cmd.Process != nil {
			return w.cmd.Process.Pid
		}
	default:
	}
	return 0
}
