package record_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/pal-keeper/pal-keeper/internal/record/recordtest"
	"github.com/pal-keeper/pal-keeper/internal/testenv/azurite"
	"github.com/pal-keeper/pal-keeper/internal/testenv/emulator"
)

// newGUID returns a fresh GUID (fresh identities per test: MSAL caches
// managed identity tokens process-wide).
func newGUID(t *testing.T) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// TestTable runs the record against Azurite, authenticated exactly as in
// Azure: the real aztables client gets its bearer token from the emulated
// managed identity endpoint (IDENTITY_ENDPOINT, IDENTITY_HEADER) through
// azidentity's ManagedIdentityCredential.
func TestTable(t *testing.T) {
	srv := azurite.Start(t)
	me := emulator.Identity{ClientID: newGUID(t), TenantID: newGUID(t), ObjectID: newGUID(t), DisplayName: "pal-keeper"}
	emu, err := emulator.New(emulator.Estate{Identities: []emulator.Identity{me}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	t.Setenv("IDENTITY_ENDPOINT", emu.IdentityEndpoint())
	t.Setenv("IDENTITY_HEADER", emu.IdentityHeader())
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(me.ClientID)})
	if err != nil {
		t.Fatal(err)
	}
	clientOpts := func(retries int32) *aztables.ClientOptions {
		return &aztables.ClientOptions{ClientOptions: azcore.ClientOptions{
			Transport: srv.HTTPClient(),
			Retry:     policy.RetryOptions{MaxRetries: retries, RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 100 * time.Millisecond},
		}}
	}
	var tables atomic.Int64
	var opened []string
	open := func(t *testing.T) record.Store {
		name := fmt.Sprintf("palrecord%d", tables.Add(1))
		opened = append(opened, name)
		s, err := record.Open(context.Background(), srv.URL, cred, &record.TableOptions{Table: name, Client: clientOpts(3)})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.(*record.Table); !ok {
			t.Fatalf("Open(%q): got %T, want *record.Table", srv.URL, s)
		}
		return s
	}
	ctx := context.Background()

	recordtest.Run(t, open, 8)

	t.Run("the token came from the managed identity endpoint", func(t *testing.T) {
		var n int
		for _, r := range emu.Requests() {
			if r.Target == emulator.TargetIdentity && r.Status == 200 && r.Query.Get("resource") == "https://storage.azure.com" {
				n++
			}
		}
		if n == 0 {
			t.Errorf("no token for https://storage.azure.com from the identity endpoint; requests: %+v", emu.Requests())
		}
	})

	verdict := record.Verdict{TenantID: me.TenantID, SubscriptionID: newGUID(t), Status: pal.StatusAttributed,
		Detail: "Contributor", CheckedAt: time.Now(), CheckedBy: "sweep"}

	t.Run("a closed port is transient and stores nothing", func(t *testing.T) {
		s, err := record.NewTable("https://127.0.0.1:1/"+azurite.Account, cred, &record.TableOptions{Client: clientOpts(-1)})
		if err != nil {
			t.Fatal(err)
		}
		ch, err := s.Save(ctx, verdict)
		if ch != nil || !pal.IsTransient(err) {
			t.Errorf("Save: got %+v, %v, want nil and a Transient error", ch, err)
		}
	})

	t.Run("a refused token is forbidden and names the role", func(t *testing.T) {
		good := open(t)
		bad, err := record.NewTable(srv.URL, armAudience{cred}, &record.TableOptions{Table: "palrecord" + fmt.Sprint(tables.Load()), Client: clientOpts(-1)})
		if err != nil {
			t.Fatal(err)
		}
		ch, err := bad.Save(ctx, verdict)
		if ch != nil || pal.ErrorCodeOf(err) != pal.CodeForbidden || !strings.Contains(err.Error(), "Storage Table Data Contributor") {
			t.Errorf("Save: got %+v, %v, want nil and Forbidden naming Storage Table Data Contributor", ch, err)
		}
		if vs, err := good.Verdicts(ctx, record.Filter{}); err != nil || len(vs) != 0 {
			t.Errorf("Verdicts: got %d, %v, want none stored", len(vs), err)
		}
		if _, err := bad.UpdateRun(ctx, "r", func(*record.Run) {}); pal.ErrorCodeOf(err) != pal.CodeForbidden {
			t.Errorf("UpdateRun: got %v, want Forbidden", err)
		}
	})

	t.Run("no token or secret is stored", func(t *testing.T) {
		tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://storage.azure.com/.default"}})
		if err != nil {
			t.Fatal(err)
		}
		secrets := []string{tok.Token, emu.TokenMarker(), emu.IdentityHeader(), "eyJ", "Bearer"}
		svc, err := aztables.NewServiceClient(srv.URL, cred, clientOpts(3))
		if err != nil {
			t.Fatal(err)
		}
		rows := 0
		for _, name := range opened {
			for p := svc.NewClient(name).NewListEntitiesPager(nil); p.More(); {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatalf("list %s: %v", name, err)
				}
				for _, e := range page.Entities {
					rows++
					for _, s := range secrets {
						if strings.Contains(string(e), s) {
							t.Errorf("table %s holds %q: %s", name, s[:min(len(s), 8)], e)
						}
					}
				}
			}
		}
		if rows == 0 {
			t.Fatalf("no rows scanned")
		}
		t.Logf("scanned %d rows in %d tables", rows, len(opened))
	})

	t.Run("rows are shaped as documented", func(t *testing.T) {
		s := open(t)
		name := opened[len(opened)-1]
		v := verdict
		v.Roles = []string{"Contributor", "Reader"}
		if _, err := s.Save(ctx, v); err != nil {
			t.Fatal(err)
		}
		svc, _ := aztables.NewServiceClient(srv.URL, cred, clientOpts(3))
		resp, err := svc.NewClient(name).GetEntity(ctx, "t_"+v.TenantID, "v_"+v.SubscriptionID, nil)
		if err != nil {
			t.Fatalf("GetEntity of the verdict row: %v", err)
		}
		var row map[string]any
		if err := json.Unmarshal(resp.Value, &row); err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]any{"Kind": "verdict", "Status": "attributed", "RoleNames": `["Contributor","Reader"]`, "CheckedBy": "sweep"} {
			if row[k] != want {
				t.Errorf("verdict row %s: got %v, want %v", k, row[k], want)
			}
		}
		// A row written before RoleNames (roles ;-joined in Roles) still reads.
		delete(row, "RoleNames")
		row["Roles"] = "Owner;Reader"
		legacy, _ := json.Marshal(row)
		if _, err := svc.NewClient(name).UpsertEntity(ctx, legacy, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeReplace}); err != nil {
			t.Fatalf("UpsertEntity of a legacy row: %v", err)
		}
		got, err := s.Verdicts(ctx, record.Filter{})
		if err != nil || len(got) != 1 || !slices.Equal(got[0].Roles, []string{"Owner", "Reader"}) {
			t.Errorf("legacy row: got %+v, %v, want roles [Owner Reader]", got, err)
		}
	})

	t.Run("a stopped service is transient and stores nothing", func(t *testing.T) {
		s := open(t)
		if _, err := s.Verdicts(ctx, record.Filter{}); err != nil { // creates the table
			t.Fatal(err)
		}
		srv.Stop()
		ch, err := s.Save(ctx, verdict)
		if ch != nil || !pal.IsTransient(err) {
			t.Errorf("Save: got %+v, %v, want nil and a Transient error", ch, err)
		}
		if err := s.StartRun(ctx, record.Run{ID: "r", StartedAt: time.Now()}); !pal.IsTransient(err) {
			t.Errorf("StartRun: got %v, want Transient", err)
		}
	})
}

// armAudience asks for ARM tokens whatever the client wants: Azurite refuses
// them with 403, as Azure refuses a caller without a data role.
type armAudience struct{ cred azcore.TokenCredential }

func (a armAudience) GetToken(ctx context.Context, _ policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return a.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
}

// TestTableDeletedTable deletes the record's table behind the store's back:
// the write fails as transient trouble, and the next one creates the table
// again instead of failing forever.
func TestTableDeletedTable(t *testing.T) {
	srv := azurite.Start(t)
	me := emulator.Identity{ClientID: newGUID(t), TenantID: newGUID(t), ObjectID: newGUID(t)}
	emu, err := emulator.New(emulator.Estate{Identities: []emulator.Identity{me}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emu.Close)
	opts := &aztables.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: srv.HTTPClient(), Retry: policy.RetryOptions{MaxRetries: -1}}}
	cred := emu.Credential(me.ClientID)
	s, err := record.NewTable(srv.URL, cred, &record.TableOptions{Client: opts})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v := record.Verdict{TenantID: me.TenantID, SubscriptionID: newGUID(t), Status: pal.StatusAttributed, CheckedAt: time.Now()}
	if _, err := s.Save(ctx, v); err != nil {
		t.Fatal(err)
	}
	svc, err := aztables.NewServiceClient(srv.URL, cred, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DeleteTable(ctx, record.DefaultTable, nil); err != nil {
		t.Fatal(err)
	}
	v.SubscriptionID = newGUID(t)
	if _, err := s.Save(ctx, v); !pal.IsTransient(err) {
		t.Fatalf("Save into a deleted table: got %v, want Transient", err)
	}
	ch, err := s.Save(ctx, v)
	if err != nil || ch == nil {
		t.Fatalf("Save after the failure: got %+v, %v, want the first change", ch, err)
	}
}
