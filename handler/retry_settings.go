package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// Settings of the Azure SDK's retry policy, for ARM requests and token
// requests to the managed-identity endpoint alike. Unset, each keeps the SDK's
// default. They are tuning knobs (the tests set them short), so infra leaves
// them unset: they live here, outside the env* constants of settings.go that
// internal/infracheck requires infra to wire.
const (
	envAzureMaxRetries    = "PAL_AZURE_MAX_RETRIES"
	envAzureRetryDelay    = "PAL_AZURE_RETRY_DELAY"
	envAzureMaxRetryDelay = "PAL_AZURE_MAX_RETRY_DELAY"
)

// retryFromEnv reads the retry settings into azcore's RetryOptions, whose
// zero fields mean the SDK's defaults:
//
//   - PAL_AZURE_MAX_RETRIES: retries of one request, 0 to 10 (0: none).
//     Default 3 (IMDS: 6).
//   - PAL_AZURE_RETRY_DELAY: the first backoff, doubling with each retry, when
//     Azure sends no Retry-After; 1ms to 1m. Default 800ms (IMDS: 2s).
//   - PAL_AZURE_MAX_RETRY_DELAY: the longest wait between tries, 1ms to 10m,
//     not below PAL_AZURE_RETRY_DELAY. A longer Retry-After is not waited for:
//     the invocation ends as transient at once, passing it on. Default 60s
//     (IMDS: 25s).
func retryFromEnv(getenv func(string) string) (policy.RetryOptions, error) {
	var o policy.RetryOptions
	if v := strings.TrimSpace(getenv(envAzureMaxRetries)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 10 {
			return o, fmt.Errorf("%s: %q is not a whole number from 0 to 10", envAzureMaxRetries, v)
		}
		o.MaxRetries = int32(n)
		if n == 0 {
			o.MaxRetries = -1 // azcore: zero means the default, below zero no retries
		}
	}
	var err error
	if o.RetryDelay, err = durationSetting(getenv, envAzureRetryDelay, 0, time.Millisecond, time.Minute); err != nil {
		return o, err
	}
	if o.MaxRetryDelay, err = durationSetting(getenv, envAzureMaxRetryDelay, 0, time.Millisecond, 10*time.Minute); err != nil {
		return o, err
	}
	first, most := o.RetryDelay, o.MaxRetryDelay
	if first == 0 {
		first = 800 * time.Millisecond
	}
	if most == 0 {
		most = 60 * time.Second
	}
	if most < first {
		return o, fmt.Errorf("%s: %v is below %s (%v)", envAzureMaxRetryDelay, most, envAzureRetryDelay, first)
	}
	return o, nil
}
