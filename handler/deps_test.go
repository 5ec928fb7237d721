package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoTestMachineryInBinary keeps the emulator, the host simulator and
// net/http/httptest out of the production binary: they belong to tests and the
// sandbox command.
func TestNoTestMachineryInBinary(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "/internal/testenv/") || dep == "net/http/httptest" {
			t.Errorf("the handler links %s; test machinery must stay out of the production binary", dep)
		}
	}
}
