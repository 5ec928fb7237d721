package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The Functions host's own functionTimeout defaults, used when host.json
// leaves it out: 5 minutes on the Consumption plan (WEBSITE_SKU "Dynamic"),
// 30 minutes elsewhere (Flex Consumption, Premium, Dedicated, Container Apps).
const (
	defaultFunctionTimeoutDynamic = 5 * time.Minute
	defaultFunctionTimeout        = 30 * time.Minute
)

// hostJSONName names the host.json setting in errors.
const hostJSONName = "host.json functionTimeout"

// readHostJSON returns the function app's host.json: in the app root the host
// names in FUNCTIONS_APP_ROOT_PATH, else beside the executable (the host runs
// the handler from the app root). A missing file is fs.ErrNotExist.
func readHostJSON(getenv func(string) string) ([]byte, error) {
	dir, err := appRoot(getenv, os.Executable)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(dir, "host.json"))
}

// appRoot is the directory that holds host.json.
func appRoot(getenv func(string) string, executable func() (string, error)) (string, error) {
	if dir := strings.TrimSpace(getenv(platformAppRoot)); dir != "" {
		return dir, nil
	}
	exe, err := executable()
	if err != nil {
		return "", fmt.Errorf("finding the executable to read host.json beside it: %w", err)
	}
	return filepath.Dir(exe), nil
}

// functionTimeoutOf returns the host's functionTimeout as read from host.json
// (raw, as read, or an fs.ErrNotExist error when there is none): zero means
// no bound (no host.json, or functionTimeout -1). When host.json leaves the
// setting out, the host's default for the plan applies (websiteSKU is
// WEBSITE_SKU).
func functionTimeoutOf(raw []byte, readErr error, websiteSKU string) (time.Duration, error) {
	if errors.Is(readErr, fs.ErrNotExist) {
		return 0, nil
	}
	if readErr != nil {
		return 0, fmt.Errorf("%s: %w", hostJSONName, readErr)
	}
	var doc struct {
		// encoding/json matches the key without regard to case, as the host does.
		FunctionTimeout json.RawMessage `json:"functionTimeout"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return 0, fmt.Errorf("%s: host.json is not plain JSON (comments are not supported here): %v", hostJSONName, err)
	}
	v := strings.TrimSpace(string(doc.FunctionTimeout))
	switch {
	case v == "" || v == "null":
		if strings.EqualFold(strings.TrimSpace(websiteSKU), "Dynamic") {
			return defaultFunctionTimeoutDynamic, nil
		}
		return defaultFunctionTimeout, nil
	case strings.HasPrefix(v, `"`):
		if err := json.Unmarshal(doc.FunctionTimeout, &v); err != nil {
			return 0, fmt.Errorf("%s: %v", hostJSONName, err)
		}
	}
	d, err := parseTimeSpan(v)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%s: %w", hostJSONName, err)
	case d < 0: // -1: no bound (plans other than Consumption)
		return 0, nil
	case d == 0:
		return 0, fmt.Errorf("%s: %q is not a positive time span", hostJSONName, v)
	}
	return d, nil
}

// parseTimeSpan parses a .NET TimeSpan as host.json writes it,
// "[-][d.]hh:mm[:ss[.fffffff]]", or a whole number of days such as "-1".
func parseTimeSpan(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not a time span such as 00:10:00 (or -1 for no bound)", s)
	body, neg := strings.CutPrefix(strings.TrimSpace(s), "-")
	var days int64
	if !strings.Contains(body, ":") {
		n, err := strconv.ParseInt(body, 10, 32)
		if err != nil || n < 0 {
			return 0, bad
		}
		days, body = n, "0:0"
	} else if d, rest, ok := strings.Cut(body, "."); ok && !strings.Contains(d, ":") {
		n, err := strconv.ParseInt(d, 10, 32)
		if err != nil || n < 0 {
			return 0, bad
		}
		days, body = n, rest
	}
	parts := strings.Split(body, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, bad
	}
	h, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, bad
	}
	var sec float64
	if len(parts) == 3 {
		v, err := strconv.ParseFloat(parts[2], 64)
		if err != nil || v < 0 || v >= 60 || strings.ContainsAny(parts[2], "eE+-") {
			return 0, bad
		}
		sec = v
	}
	d := time.Duration(days)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(sec*float64(time.Second))
	if neg {
		d = -d
	}
	return d, nil
}
