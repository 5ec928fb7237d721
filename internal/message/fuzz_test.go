package message

import (
	"net/url"
	"testing"
)

// The seed corpora are in testdata/fuzz/FuzzDecode and testdata/fuzz/FuzzDecodeForm:
// one file per body form and per kind of bad input.

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"tenantId":"` + tenant + `"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := Decode(body)
		if err != nil {
			checkInvalidInput(t, err)
			return
		}
		checkValid(t, req)
	})
}

func FuzzDecodeForm(f *testing.F) {
	f.Add("tenantId=" + tenant + "&subscriptionIds=" + sub1 + "%2C" + sub2)
	f.Fuzz(func(t *testing.T, form string) {
		// ParseQuery returns what it could parse along with its first error;
		// the decoders must cope with either.
		values, _ := url.ParseQuery(form)
		if req, err := DecodeForm(values); err != nil {
			checkInvalidInput(t, err)
		} else {
			checkValid(t, req)
		}
		if req, err := DecodeQuery(values); err != nil {
			checkInvalidInput(t, err)
		} else {
			checkValid(t, req)
		}
	})
}
