package azurite

// Table Storage's limits, enforced in front of Azurite, which is laxer: it
// accepts a $filter of any number of comparisons, string properties of any
// length and transactions of any size. The figures and their sources are in
// docs/reference.md ("Table Storage limits").

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf16"
)

// Table Storage's limits.
const (
	maxFilterComparisons = 15
	maxStringUnits       = 32 << 10 // UTF-16 code units of a string property (64 KiB)
	maxBinaryBytes       = 64 << 10
	maxEntityBytes       = 1 << 20
	maxBatchBytes        = 4 << 20
	maxBatchOperations   = 100
)

var (
	comparisonRE = regexp.MustCompile(`\s(eq|ne|gt|ge|lt|le)\s`)
	literalRE    = regexp.MustCompile(`'(?:[^']|'')*'`)
)

// comparisons counts the comparisons of an OData $filter.
func comparisons(filter string) int {
	return len(comparisonRE.FindAllStringIndex(literalRE.ReplaceAllString(filter, "''"), -1))
}

// strictTransport wraps next so that a request Table Storage would refuse is
// answered as Table Storage answers it (400 or 413 with its error code),
// without reaching next.
func strictTransport(next http.RoundTripper) http.RoundTripper { return strict{next} }

type strict struct{ next http.RoundTripper }

func (s strict) RoundTrip(r *http.Request) (*http.Response, error) {
	if f := r.URL.Query().Get("$filter"); f != "" {
		if n := comparisons(f); n > maxFilterComparisons {
			return refuse(r, 400, "InvalidInput", fmt.Sprintf("the filter holds %d comparisons; at most %d", n, maxFilterComparisons))
		}
	}
	if r.Body == nil || r.Body == http.NoBody {
		return s.next.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	if strings.HasSuffix(r.URL.Path, "/$batch") {
		if len(body) > maxBatchBytes {
			return refuse(r, 413, "RequestBodyTooLarge", "the batch is larger than 4 MiB")
		}
		if n := bytes.Count(body, []byte("Content-Type: application/http")); n > maxBatchOperations {
			return refuse(r, 400, "InvalidInput", fmt.Sprintf("the batch holds %d operations; at most %d", n, maxBatchOperations))
		}
		for _, line := range bytes.Split(body, []byte("\n")) {
			if line = bytes.TrimSpace(line); len(line) > 0 && line[0] == '{' {
				if code, msg := checkEntity(line); code != "" {
					return refuse(r, 400, code, msg)
				}
			}
		}
	} else if strings.Contains(r.Header.Get("Content-Type"), "json") {
		if code, msg := checkEntity(body); code != "" {
			return refuse(r, 400, code, msg)
		}
	}
	return s.next.RoundTrip(r)
}

// checkEntity checks one entity's JSON: its size and each property's.
func checkEntity(raw []byte) (code, msg string) {
	if len(raw) > maxEntityBytes {
		return "EntityTooLarge", "the entity is larger than 1 MiB"
	}
	var props map[string]any
	if json.Unmarshal(raw, &props) != nil {
		return "", "" // not an entity (a table creation, say): Azurite judges
	}
	for k, v := range props {
		s, ok := v.(string)
		if !ok || strings.HasSuffix(k, "@odata.type") {
			continue
		}
		if props[k+"@odata.type"] == "Edm.Binary" {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil || len(b) > maxBinaryBytes {
				return "PropertyValueTooLarge", fmt.Sprintf("property %s: binary larger than 64 KiB", k)
			}
			continue
		}
		if n := len(utf16.Encode([]rune(s))); n > maxStringUnits {
			return "PropertyValueTooLarge", fmt.Sprintf("property %s: %d UTF-16 characters; at most %d", k, n, maxStringUnits)
		}
	}
	return "", ""
}

// refuse answers r as Table Storage answers a refused request.
func refuse(r *http.Request, status int, code, msg string) (*http.Response, error) {
	body := fmt.Sprintf(`{"odata.error":{"code":%q,"message":{"lang":"en-US","value":%q}}}`, code, msg)
	return &http.Response{
		StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{"Content-Type": {"application/json;odata=minimalmetadata"}, "X-Ms-Error-Code": {code}},
		Body:    io.NopCloser(strings.NewReader(body)),
		Request: r, ContentLength: int64(len(body)),
	}, nil
}
