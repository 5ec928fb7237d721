package pal

import (
	"strings"
	"testing"
)

func TestValidPartnerID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"1234567", true},
		{"1", true},
		{strings.Repeat("9", MaxPartnerIDLen), true},
		{strings.Repeat("9", MaxPartnerIDLen+1), false},
		{"", false},
		{"12a4", false},
		{" 123", false},
		{"-123", false},
		{"１２３", false}, // full-width digits are not ASCII digits
	}
	for _, tt := range tests {
		if got := ValidPartnerID(tt.id); got != tt.want {
			t.Errorf("ValidPartnerID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestIsGUID(t *testing.T) {
	const g = "0f3c8d2e-1111-2222-3333-444455556666"
	tests := []struct {
		s    string
		want bool
	}{
		{g, true},
		{strings.ToUpper(g), true},
		{"00000000-0000-0000-0000-000000000000", true},
		{"{" + g + "}", false},
		{strings.ReplaceAll(g, "-", ""), false},
		{" " + g[1:], false},
		{strings.Replace(g, "f", "g", 1), false},
		{g[:8] + "_" + g[9:], false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsGUID(tt.s); got != tt.want {
			t.Errorf("IsGUID(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestPartnerIDProblem(t *testing.T) {
	tests := []struct{ id, want string }{
		{"1234567", ""},
		{"", "empty"},
		{"abc", `"abc" is not a partner ID: digits only`},
		{"12345678901", `"12345678901" is not a partner ID: 11 digits, at most 10`},
		{"12345678901x", "digits only"}, // not digits is the first thing wrong
	}
	for _, tt := range tests {
		got := PartnerIDProblem(tt.id)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("PartnerIDProblem(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
}
