package pal

import "fmt"

// MaxPartnerIDLen is the most digits a partner ID may have. Real
// location-based partner IDs have 6 or 7.
const MaxPartnerIDLen = 10

// ValidPartnerID reports whether id is a partner ID: 1 to [MaxPartnerIDLen]
// ASCII digits. It is the one partner-ID check of the program: settings,
// messages and the Azure adapters all call it (or [PartnerIDProblem]).
func ValidPartnerID(id string) bool { return PartnerIDProblem(id) == "" }

// PartnerIDProblem says what keeps id from being a partner ID, for an error
// message that names the setting or flag first, or "" when it is one.
func PartnerIDProblem(id string) string {
	if id == "" {
		return "empty: want the location-based partner ID, digits such as 1234567"
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return fmt.Sprintf("%q is not a partner ID: digits only, such as 1234567", id)
		}
	}
	if len(id) > MaxPartnerIDLen {
		return fmt.Sprintf("%q is not a partner ID: %d digits, at most %d (location-based partner IDs have 6 or 7)", id, len(id), MaxPartnerIDLen)
	}
	return ""
}

// IsGUID reports whether s has the plain 8-4-4-4-12 hexadecimal form of a
// GUID, in any case, without braces or spaces. It is the one GUID check of the
// program; callers that need a canonical form lower-case s themselves.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
