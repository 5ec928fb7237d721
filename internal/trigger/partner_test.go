package trigger

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// TestAsyncRefusesAPartnerAsTheEngineDoes: a queued request naming a partner
// ID outside the allowed set is refused before it is queued, with the
// engine's own refusal (pal.PartnerNotAllowed), not a second wording.
func TestAsyncRefusesAPartnerAsTheEngineDoes(t *testing.T) {
	q := &fakeQueue{}
	req := httpRequest("POST", "async=true", "application/json", `{"tenantId":"`+tenant+`","partnerId":"42"}`)
	status, out := response(t, must(Links(&fakeEngine{}, withBounds(&Options{Queue: q})))(context.Background(), invocation(t, httpBinding, req)))
	var got errorBody
	if err := json.Unmarshal([]byte(out.Body), &got); err != nil {
		t.Fatalf("body %s: %v", out.Body, err)
	}
	want := pal.PartnerNotAllowed("42")
	if status != 403 || got.Error != want.Message || !reflect.DeepEqual(got.Fields, want.Fields) || len(q.sent) != 0 {
		t.Errorf("got %d %+v with %d sent, want 403 %q %v and nothing sent", status, got, len(q.sent), want.Message, want.Fields)
	}
}
