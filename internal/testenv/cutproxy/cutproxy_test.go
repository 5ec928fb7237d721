package cutproxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCutAndRestore(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer srv.Close()
	p := Start(t, strings.TrimPrefix(srv.URL, "http://"))
	client := &http.Client{Transport: &http.Transport{}}
	get := func() error {
		resp, err := client.Get("http://" + p.Addr() + "/")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
		return err
	}
	if err := get(); err != nil {
		t.Fatalf("before the cut: %v", err)
	}
	p.Cut()
	if err := get(); err == nil {
		t.Fatal("while cut: the request went through")
	}
	if p.Refused() < 1 {
		t.Errorf("Refused = %d, want the open and the new connection", p.Refused())
	}
	p.Restore()
	if err := get(); err != nil {
		t.Fatalf("after Restore: %v", err)
	}
}
