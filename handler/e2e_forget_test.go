package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/pal-keeper/pal-keeper/internal/testenv/azurite"
)

// TestE2EForgetCommand: `handler record forget` removes an offboarded
// customer's rows from the record in Table Storage (one subscription, then
// the tenant), logs what it removed, leaves the other tenants, and refuses
// bad flags and a record in memory. The handler serving through the host
// reads the same table before and after.
func TestE2EForgetCommand(t *testing.T) {
	t.Parallel()
	srv := azurite.Start(t)
	certDir := azuriteCertDir(t, srv)
	recordEnv := map[string]string{"PAL_RECORD_TABLE_URL": srv.URL, "SSL_CERT_DIR": certDir}
	a := startApp(t, appOptions{maxDeliveryCount: 1, settings: recordEnv})
	judgeEstate(t, a)
	count := func() map[string]int {
		n := map[string]int{}
		for _, s := range a.report("").Subscriptions {
			n[s.TenantID]++
		}
		return n
	}
	before := count()
	if before[tenantA] < 2 || before[tenantB] == 0 {
		t.Fatalf("record before = %v, want tenants A (several) and B", before)
	}

	forget := func(env map[string]string, args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(handlerBinary, append([]string{"record", "forget"}, args...)...)
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
			"PAL_PARTNER_ID=" + partnerID, "AZURE_CLIENT_ID=" + clientID}, a.emu.Environ()...)
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), code
	}

	out, errOut, code := forget(recordEnv, "--tenant", strings.ToUpper(tenantA), "--subscription", subA1)
	if code != 0 || !strings.Contains(out, "1 verdict(s)") || !strings.Contains(errOut, "record forget") || !strings.Contains(errOut, subA1) {
		t.Fatalf("forget subscription: exit %d, stdout %q, stderr %q; want 0, 1 verdict, a log line naming it", code, out, errOut)
	}
	if got := count(); got[tenantA] != before[tenantA]-1 || got[tenantB] != before[tenantB] {
		t.Errorf("after forgetting %s: %v, want A one fewer than %v, B as before", subA1, got, before)
	}
	out, errOut, code = forget(recordEnv, "--tenant", tenantA)
	if code != 0 || !strings.Contains(out, "tenant "+tenantA) {
		t.Fatalf("forget tenant: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	got := count()
	if got[tenantA] != 0 || got[tenantB] != before[tenantB] || got[tenantC] != before[tenantC] {
		t.Errorf("after forgetting tenant A: %v, want no A and the others as %v", got, before)
	}
	for _, c := range a.report("").Changes {
		if c.TenantID == tenantA {
			t.Errorf("a change of the forgotten tenant is still reported: %+v", c)
		}
	}

	for _, tt := range []struct {
		args []string
		env  map[string]string
		code int
		msg  string
	}{
		{[]string{}, recordEnv, 2, "--tenant"},
		{[]string{"--tenant", "nope"}, recordEnv, 2, "--tenant must be a tenant GUID"},
		{[]string{"--tenant", tenantA, "--subscription", "x/y"}, recordEnv, 2, "--subscription must be"},
		{[]string{"--tenant", tenantA}, nil, 1, "PAL_RECORD_TABLE_URL"},
	} {
		if _, errOut, code := forget(tt.env, tt.args...); code != tt.code || !strings.Contains(errOut, tt.msg) {
			t.Errorf("forget %v: exit %d, stderr %q; want %d naming %q", tt.args, code, errOut, tt.code, tt.msg)
		}
	}
}
