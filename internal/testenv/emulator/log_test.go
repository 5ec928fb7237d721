package emulator

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestLogsNeverHoldTokens(t *testing.T) {
	var buf bytes.Buffer
	logger := zerolog.New(zerolog.SyncWriter(&buf)).Level(zerolog.DebugLevel)
	w := newWorld()
	e := start(t, w.estate(), &Options{Logger: &logger})

	req, _ := http.NewRequest("GET", e.IdentityEndpoint()+"?api-version=2019-08-01&resource=https://management.azure.com/", nil)
	req.Header.Set("X-IDENTITY-HEADER", e.IdentityHeader())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tok := armToken(t, e, w.me.ClientID)
	call(t, e, "PUT", partnersPath+"/1234567?api-version=2018-02-01", tok)
	call(t, e, "GET", "/nowhere?api-version=1", tok)
	call(t, e, "GET", "/subscriptions?api-version=1", tok+"x") // rejected token
	e.Close()

	logs := buf.String()
	if strings.Contains(logs, e.TokenMarker()) || strings.Contains(logs, e.IdentityHeader()) {
		t.Fatalf("a secret reached the log:\n%s", logs)
	}
	if n := strings.Count(logs, `"message":"emulator request"`); n != 4 {
		t.Errorf("logged %d requests, want 4:\n%s", n, logs)
	}
	if !strings.Contains(logs, `"unhandled":true`) {
		t.Errorf("the unhandled request is not logged as such:\n%s", logs)
	}
}
