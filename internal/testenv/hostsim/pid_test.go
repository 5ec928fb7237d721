package hostsim

import (
	"testing"
)

func TestPIDIsTheRunningHandlerProcess(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: pingApp(t)})
	ctx := testContext(t)

	res, err := h.Invoke(ctx, "ping", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	first := h.PID()
	if first == 0 || first != echoOf(t, res).Pid {
		t.Fatalf("PID = %d, want the handler's own PID %d", first, echoOf(t, res).Pid)
	}

	if err := h.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	res, err = h.Invoke(ctx, "ping", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	second := h.PID()
	if second == 0 || second == first || second != echoOf(t, res).Pid {
		t.Errorf("PID after Restart = %d, want the new process %d (the old one was %d)", second, echoOf(t, res).Pid, first)
	}

	if _, err := h.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if pid := h.PID(); pid != 0 {
		t.Errorf("PID after Stop = %d, want 0", pid)
	}
}
