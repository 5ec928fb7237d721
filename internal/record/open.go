package record

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// SettingTableURL is the app setting of the record's table service URL,
// https://<account>.table.core.windows.net (its default, the host storage's
// table endpoint, is the handler's settings table's: handler/settings.go).
const SettingTableURL = "PAL_RECORD_TABLE_URL"

// CheckTableURL checks a table service URL: https, a host, no user, query or
// fragment (a SAS token is a secret and the record authenticates with the
// managed identity), and at most one path segment (the account name of an
// emulator such as Azurite: https://127.0.0.1:10002/devstoreaccount1).
func CheckTableURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("record: %s is not a URL", SettingTableURL)
	}
	switch {
	case u.Scheme != "https":
		return fmt.Errorf("record: %s must be an https URL such as https://<account>.table.core.windows.net", SettingTableURL)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("record: %s has no host", SettingTableURL)
	case u.User != nil:
		return fmt.Errorf("record: %s must not hold a user or password", SettingTableURL)
	case u.RawQuery != "" || u.ForceQuery:
		return fmt.Errorf("record: %s must not have a query (no SAS token: the record uses the managed identity)", SettingTableURL)
	case u.Fragment != "":
		return fmt.Errorf("record: %s must not have a fragment", SettingTableURL)
	case strings.Contains(strings.Trim(u.Path, "/"), "/"):
		return fmt.Errorf("record: %s must be the table service URL, not a table's", SettingTableURL)
	}
	return nil
}

// Open returns the record the settings ask for: in Table Storage at
// serviceURL with cred when serviceURL is set (see [TableURL]), else in
// memory. It checks the URL and makes no request; the table is created on
// first use.
func Open(_ context.Context, serviceURL string, cred azcore.TokenCredential, opts *TableOptions) (Store, error) {
	if serviceURL == "" {
		return NewMemory(), nil
	}
	if cred == nil {
		return nil, fmt.Errorf("record: %s is set but there is no credential", SettingTableURL)
	}
	return NewTable(serviceURL, cred, opts)
}

// Retention of the record's history (changes and runs; never the verdicts).
const (
	// SettingRetention is the setting of the retention, in whole days.
	SettingRetention = "PAL_RECORD_RETENTION"
	// DefaultRetention is the retention when the setting is not set: 400 days.
	DefaultRetention = 400 * 24 * time.Hour
	// maxRetentionDays bounds the setting (ten years).
	maxRetentionDays = 3650
	// PruneLimit is the most changes and runs one sweep removes: twice the
	// changes a night of 1 % churn over 100,000 subscriptions adds.
	PruneLimit = 2000
)

// Retention reads the retention from the setting's value: "" is
// DefaultRetention, else a whole number of days from 1 to 3650. The error
// does not name the setting (the caller does).
func Retention(value string) (time.Duration, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return DefaultRetention, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxRetentionDays {
		return 0, fmt.Errorf("%q is not a whole number of days from 1 to %d", short(v), maxRetentionDays)
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

// short cuts a setting's value for an error message.
func short(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
