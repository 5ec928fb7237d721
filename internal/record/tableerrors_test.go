package record_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
)

// canned answers every request with one response, without a network.
type canned struct {
	status int
	header http.Header
	body   string
}

func (c canned) Do(r *http.Request) (*http.Response, error) {
	h := c.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "application/json")
	return &http.Response{StatusCode: c.status, Header: h, Body: io.NopCloser(strings.NewReader(c.body)), Request: r}, nil
}

type staticCred struct{ err error }

func (s staticCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if s.err != nil {
		return azcore.AccessToken{}, s.err
	}
	return azcore.AccessToken{Token: "not-a-real-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func TestTableErrors(t *testing.T) {
	errBody := func(code string) string {
		return `{"odata.error":{"code":"` + code + `","message":{"lang":"en-US","value":"no"}}}`
	}
	for _, c := range []struct {
		name      string
		resp      canned
		cred      azcore.TokenCredential
		code      pal.ErrorCode
		retry     time.Duration
		inMessage string
	}{
		{"403 names the role", canned{status: 403, header: http.Header{"X-Ms-Error-Code": {"AuthorizationPermissionMismatch"}}, body: errBody("AuthorizationPermissionMismatch")},
			nil, pal.CodeForbidden, 0, "Storage Table Data Contributor"},
		{"503 with Retry-After seconds", canned{status: 503, header: http.Header{"Retry-After": {"7"}}, body: errBody("ServerBusy")},
			nil, pal.CodeTransient, 7 * time.Second, "503"},
		{"429 with x-ms-retry-after-ms", canned{status: 429, header: http.Header{"X-Ms-Retry-After-Ms": {"1500"}}},
			nil, pal.CodeTransient, 1500 * time.Millisecond, "429"},
		{"500 without Retry-After", canned{status: 500}, nil, pal.CodeTransient, 0, "500"},
		// Table Storage refusing our own data: retrying cannot mend it.
		{"400 InvalidInput is internal", canned{status: 400, body: errBody("InvalidInput")}, nil, pal.CodeInternal, 0, "400 InvalidInput"},
		{"400 PropertyValueTooLarge is internal", canned{status: 400, header: http.Header{"X-Ms-Error-Code": {"PropertyValueTooLarge"}}, body: errBody("PropertyValueTooLarge")},
			nil, pal.CodeInternal, 0, "PropertyValueTooLarge"},
		{"413 EntityTooLarge is internal", canned{status: 413, body: errBody("EntityTooLarge")}, nil, pal.CodeInternal, 0, "413"},
		{"414 is internal", canned{status: 414}, nil, pal.CodeInternal, 0, "414"},
		{"431 is internal", canned{status: 431}, nil, pal.CodeInternal, 0, "431"},
		{"a failed batch with 400 inside is internal", canned{status: 202, body: "--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=changesetresponse_2\r\n\r\n--changesetresponse_2\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 400 Bad Request\r\n\r\n--changesetresponse_2--\r\n--batchresponse_1--\r\n"},
			nil, pal.CodeInternal, 0, "400"},
		{"token failure", canned{status: 204}, staticCred{errors.New("identity endpoint down")}, pal.CodeTransient, 0, "could not get a storage token"},
		{"a failed batch with 403 inside", canned{status: 202, body: "--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=changesetresponse_2\r\n\r\n--changesetresponse_2\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 403 Forbidden\r\n\r\n--changesetresponse_2--\r\n--batchresponse_1--\r\n"},
			nil, pal.CodeForbidden, 0, "Storage Table Data Contributor"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cred := c.cred
			if cred == nil {
				cred = staticCred{}
			}
			s, err := record.NewTable("https://acct.table.core.windows.net", cred, &record.TableOptions{Client: &aztables.ClientOptions{
				ClientOptions: azcore.ClientOptions{Transport: c.resp, Retry: policy.RetryOptions{MaxRetries: -1}},
			}})
			if err != nil {
				t.Fatal(err)
			}
			ch, err := s.Save(context.Background(), record.Verdict{TenantID: "t", SubscriptionID: "s", Status: pal.StatusAttributed, CheckedAt: time.Now()})
			if ch != nil {
				t.Errorf("Save: got change %+v, want none", ch)
			}
			if got := pal.ErrorCodeOf(err); got != c.code {
				t.Fatalf("Save: got %v (%s), want %s", err, got, c.code)
			}
			if got := pal.RetryAfterOf(err); got != c.retry {
				t.Errorf("RetryAfter: got %v, want %v", got, c.retry)
			}
			var pe *pal.Error
			if !errors.As(err, &pe) || !strings.Contains(pe.Message, c.inMessage) {
				t.Errorf("message: got %q, want it to contain %q", pe.Message, c.inMessage)
			}
			if strings.Contains(err.Error(), "not-a-real-token") {
				t.Errorf("error holds the token: %v", err)
			}
		})
	}
}

func TestCheckTableURL(t *testing.T) {
	for _, c := range []struct {
		url string
		ok  bool
	}{
		{"https://acct.table.core.windows.net", true},
		{"https://acct.table.core.windows.net/", true},
		{"https://127.0.0.1:10002/devstoreaccount1", true},
		{"http://acct.table.core.windows.net", false},
		{"acct.table.core.windows.net", false},
		{"https://acct.table.core.windows.net/?sv=2020&sig=secret", false},
		{"https://user:pw@acct.table.core.windows.net", false},
		{"https://acct.table.core.windows.net/palrecord/x", false},
		{"https://", false},
		{"https://acct.table.core.windows.net#frag", false},
	} {
		err := record.CheckTableURL(c.url)
		if (err == nil) != c.ok {
			t.Errorf("CheckTableURL(%q): got %v, want ok=%v", c.url, err, c.ok)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("CheckTableURL(%q): the error repeats the URL's secret: %v", c.url, err)
		}
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	s, err := record.Open(ctx, "", nil, nil)
	if _, ok := s.(*record.Memory); err != nil || !ok {
		t.Errorf("Open(\"\"): got %T, %v, want *record.Memory", s, err)
	}
	s, err = record.Open(ctx, "https://a.table.core.windows.net", staticCred{}, nil)
	if _, ok := s.(*record.Table); err != nil || !ok {
		t.Errorf("Open(url): got %T, %v, want *record.Table", s, err)
	}
	if _, err := record.Open(ctx, "https://a.table.core.windows.net", nil, nil); err == nil {
		t.Errorf("Open(url, nil credential): got nil error")
	}
	if _, err := record.Open(ctx, "http://a.table.core.windows.net", staticCred{}, nil); err == nil {
		t.Errorf("Open(http url): got nil error")
	}
	// Sovereign clouds: azure.CloudConfig copies the SDK's cloud, which
	// aztables fills with its audience.
	for _, cl := range []cloud.Configuration{cloud.AzureChina, cloud.AzureGovernment} {
		opts := &record.TableOptions{Client: &aztables.ClientOptions{ClientOptions: azcore.ClientOptions{Cloud: cl}}}
		if _, err := record.Open(ctx, "https://a.table.core.chinacloudapi.cn", staticCred{}, opts); err != nil {
			t.Errorf("Open in %s: %v", cl.ActiveDirectoryAuthorityHost, err)
		}
	}
	if _, err := record.NewTable("https://a.table.core.windows.net", staticCred{}, &record.TableOptions{Table: "bad-name"}); err == nil {
		t.Errorf("NewTable with table bad-name: got nil error")
	}
}
