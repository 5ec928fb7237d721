package main

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/rs/zerolog"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
)

func TestRecordTenants(t *testing.T) {
	ctx := context.Background()
	const (
		tA = "a0000000-0000-4000-8000-000000000000"
		tB = "b0000000-0000-4000-8000-000000000000"
	)
	rec := record.NewMemory()
	now := time.Now()
	for i, v := range []record.Verdict{
		{TenantID: tB, SubscriptionID: "b0000000-0000-4000-8000-000000000001"},
		{TenantID: strings.ToUpper(tA), SubscriptionID: "a0000000-0000-4000-8000-000000000001"},
		{TenantID: tA, SubscriptionID: "a0000000-0000-4000-8000-000000000002"},
	} {
		v.Status, v.CheckedAt = pal.StatusAttributed, now.Add(time.Duration(i)*time.Second)
		if _, err := rec.Save(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	got, err := recordTenants(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{tA, tB}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v (distinct, lower case, sorted)", got, want)
	}
	if got, err := recordTenants(ctx, nil); got != nil || err != nil {
		t.Errorf("nil record: got %v %v, want none", got, err)
	}
}

// A direct-mode engine built by buildIdentityEngine sweeps the tenants known
// gives: its error is the sweep's (no network needed to see the wiring).
func TestDirectEngineSweepsRecordTenants(t *testing.T) {
	s, err := settingsFromMap(identityEnv(map[string]string{envIdentity: "direct", envAppClientID: testAppID}))
	if err != nil {
		t.Fatal(err)
	}
	asked := false
	known := func(context.Context) ([]string, error) {
		asked = true
		return nil, errors.New("table unreachable")
	}
	engine, _, err := buildIdentityEngine(s, mustCloud(t, s), nopCredential{}, &pal.EngineOptions{}, known)
	if err != nil {
		t.Fatal(err)
	}
	log := zerolog.Nop()
	_, err = engine.Sweep(context.Background(), &log, nil)
	if !asked || err == nil || !strings.Contains(err.Error(), "compliance record") {
		t.Errorf("got asked=%v err %v, want the sweep to read the record's tenants", asked, err)
	}
}

// nopCredential never gives a token; the engines it is given to must not ask.
type nopCredential struct{}

func (nopCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{}, errors.New("nopCredential: no token")
}
