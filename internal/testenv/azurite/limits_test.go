package azurite

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// passed answers 204 to every request it receives.
type passed struct{ n int }

func (p *passed) RoundTrip(r *http.Request) (*http.Response, error) {
	p.n++
	return &http.Response{StatusCode: 204, Body: http.NoBody, Request: r}, nil
}

// TestStrictTransport: what Table Storage refuses is refused in front of
// Azurite (which accepts it), and what it accepts passes.
func TestStrictTransport(t *testing.T) {
	filter := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf("PartitionKey eq 't_%d or x eq y'", i) // a literal's operators do not count
		}
		return strings.Join(parts, " or ")
	}
	entity := func(props string) string { return `{"PartitionKey":"p","RowKey":"r",` + props + `}` }
	bin := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	batch := func(ops int, each string) string {
		var b strings.Builder
		for range ops {
			b.WriteString("--changeset\r\nContent-Type: application/http\r\n\r\nPOST https://x/t HTTP/1.1\r\nContent-Type: application/json\r\n\r\n" + each + "\r\n")
		}
		return b.String()
	}
	for _, c := range []struct {
		name, path, filter, body string
		status                   int
		code                     string
	}{
		{"15 comparisons", "/acct/t()", filter(15), "", 204, ""},
		{"16 comparisons", "/acct/t()", filter(16), "", 400, "InvalidInput"},
		{"a string of 32K UTF-16 units", "/acct/t", "", entity(`"s":"` + strings.Repeat("a", 32<<10) + `"`), 204, ""},
		{"a string of 32K+1 UTF-16 units", "/acct/t", "", entity(`"s":"` + strings.Repeat("a", 32<<10+1) + `"`), 400, "PropertyValueTooLarge"},
		{"a 64 KiB binary", "/acct/t", "", entity(`"b":"` + bin(64<<10) + `","b@odata.type":"Edm.Binary"`), 204, ""},
		{"the same as a string", "/acct/t", "", entity(`"b":"` + bin(64<<10) + `"`), 400, "PropertyValueTooLarge"},
		{"a binary over 64 KiB", "/acct/t", "", entity(`"b":"` + bin(64<<10+1) + `","b@odata.type":"Edm.Binary"`), 400, "PropertyValueTooLarge"},
		{"a batch of 100", "/acct/$batch", "", batch(100, entity(`"s":"x"`)), 204, ""},
		{"a batch of 101", "/acct/$batch", "", batch(101, entity(`"s":"x"`)), 400, "InvalidInput"},
		{"a batch over 4 MiB", "/acct/$batch", "", batch(80, entity(`"s":"`+strings.Repeat("a", 30000)+`","t":"`+strings.Repeat("a", 30000)+`"`)), 413, "RequestBodyTooLarge"},
		{"a batch with a string too long", "/acct/$batch", "", batch(2, entity(`"s":"`+strings.Repeat("a", 40000)+`"`)), 400, "PropertyValueTooLarge"},
	} {
		t.Run(c.name, func(t *testing.T) {
			next := &passed{}
			u := &url.URL{Scheme: "https", Host: "127.0.0.1", Path: c.path}
			if c.filter != "" {
				u.RawQuery = url.Values{"$filter": {c.filter}}.Encode()
			}
			req, _ := http.NewRequest(http.MethodPost, u.String(), strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := strictTransport(next).RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status || resp.Header.Get("X-Ms-Error-Code") != c.code {
				t.Errorf("got %d %q (%s), want %d %q", resp.StatusCode, resp.Header.Get("X-Ms-Error-Code"), body, c.status, c.code)
			}
			if passedOn := next.n == 1; passedOn != (c.status == 204) {
				t.Errorf("reached Azurite: %v, want %v", passedOn, c.status == 204)
			}
		})
	}
}
