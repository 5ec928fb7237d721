package ncrontab

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		v    string
		want string // "" accepted, else a part of the error
	}{
		{"0 0 3 * * *", ""},
		{"0 */5 * * * *", ""},
		{"0 30 9 * * MON-FRI", ""},
		{"0 0 0 1 JAN *", ""},
		{"00:30:00", ""},
		{"1.00:00:00", ""},
		{"0:30:00", ""},
		{"00:30", "got 1"},
		{"a.00:30:00", "got 1"},
		{"000:30:00", "got 1"},
		{".00:30:00", "got 1"},
		{"", "is empty"},
		{"   ", "is empty"},
		{"0 0 25 * * *", "above maximum"},
		{"60 0 3 * * *", "above maximum"},
		{"0 0 3 0 * *", "below minimum"},
		{"0 0 3 * 13 *", "above maximum"},
		{"0 0 3 * * 8", "above maximum"},
		{"0 3 * * *", "got 5"},
		{"0 0 0 3 * * *", "got 7"},
		{"0 0 3 * * * x", "got 7"},
		{"@daily", "not NCRONTAB"},
		{"TZ=UTC 0 0 3 * * *", "not NCRONTAB"},
		{"0 0 3 ? * *", "not NCRONTAB"},
		{"0 0 3 * * FOO", "failed to parse"},
		{"0 0 5-3 * * *", "beyond end of range"},
	}
	for _, tt := range tests {
		err := Check(tt.v)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Check(%q) = %v, want nil", tt.v, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("Check(%q) = %v, want an error with %q", tt.v, err, tt.want)
		}
	}
}
