package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/pal-keeper/pal-keeper/internal/record"
	"github.com/pal-keeper/pal-keeper/internal/trigger"
)

// recordRetry is the SDK retry of one record request. A record write is on
// the invocation's path; it retries briefly (about 1.5 s in all, longer when
// Table Storage sends Retry-After), and longer trouble becomes the
// invocation's transient outcome: a scheduled retry, or 503 with Retry-After.
func recordRetry() policy.RetryOptions {
	return policy.RetryOptions{MaxRetries: 3, RetryDelay: 200 * time.Millisecond, MaxRetryDelay: 2 * time.Second}
}

// openRecord opens the compliance record the settings ask for: Table Storage
// at s.RecordTableURL with the handler's credential and cloud, or memory (for
// the life of the process) when no table URL is set. It makes no request: the
// table is created on first use.
func openRecord(ctx context.Context, s settings, az azureAccess) (record.Store, error) {
	opts := &record.TableOptions{Client: &aztables.ClientOptions{ClientOptions: azcore.ClientOptions{Cloud: az.cloud, Retry: recordRetry()}}}
	store, err := record.Open(ctx, s.RecordTableURL, az.cred, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.recordSetting, err)
	}
	return store, nil
}

// buildEngineAndRecord wires the engine (buildEngine) and opens the
// compliance record (openRecord) with the engine's credential; a direct-mode
// sweep covers the tenants the record knows. A bad record setting comes back
// as "invalid setting PAL_RECORD_TABLE_URL: …".
func buildEngineAndRecord(ctx context.Context, s settings) (trigger.Engine, azureAccess, record.Store, error) {
	var store record.Store
	engine, az, err := buildEngine(s, func(ctx context.Context) ([]string, error) { return recordTenants(ctx, store) })
	if err != nil {
		return nil, az, nil, err
	}
	if store, err = openRecord(ctx, s, az); err != nil {
		return nil, az, nil, fmt.Errorf("invalid setting %w", err)
	}
	return engine, az, store, nil
}

// recordKind says where the record lives, for the start line: its table
// service URL (validated: no query, so no SAS token) or "memory".
func recordKind(s settings) string {
	if s.RecordTableURL == "" {
		return "memory"
	}
	return s.RecordTableURL
}

// cliRunID is the run ID of a `handler sweep`: "cli-" and the start time,
// with a random suffix so two sweeps started in the same instant differ.
func cliRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "cli-" + now.UTC().Format("20060102T150405.000000Z") + "-" + hex.EncodeToString(b[:])
}
