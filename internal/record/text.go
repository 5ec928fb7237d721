package record

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Customer-chosen text — display names, role names (custom roles), details
// that quote them — is stored, never refused: no such string may fail an
// invocation. Keys hold only IDs (checkKey); text goes into properties, made
// storable by storedText, and the role list is one JSON array (roleNames),
// so a role name may contain any character, ';' included.
const (
	// maxTextBytes bounds one text property (a display name, a detail) and
	// each role name: Table Storage allows 64 KiB per string property and
	// 1 MiB per entity, and a transaction of 50 verdicts must stay within
	// its 4 MiB. Longer text is cut at a character boundary, "…" appended.
	maxTextBytes = 4 << 10
	// maxRoles bounds the roles stored with a verdict; the rest are
	// summarised as one last "… (N more)".
	maxRoles = 32
	// ellipsis marks cut text.
	ellipsis = "…"
)

// storedText returns s as the record stores it: valid UTF-8 (invalid bytes
// become U+FFFD), without the characters XML 1.0 forbids (the C0 controls
// other than tab, line feed and carriage return; U+FFFE and U+FFFF), which Table Storage's OData layer may refuse, and at most
// maxTextBytes bytes. Everything else — ';', '=', '<', '/', '#', '?', quotes,
// line breaks — is kept as given; the views escape it for their format.
func storedText(s string) string {
	clean := true
	for _, r := range s {
		if forbiddenRune(r) {
			clean = false
			break
		}
	}
	if !clean || !utf8.ValidString(s) {
		s = strings.Map(func(r rune) rune {
			if forbiddenRune(r) {
				return utf8.RuneError
			}
			return r
		}, strings.ToValidUTF8(s, string(utf8.RuneError)))
	}
	return cut(s, maxTextBytes)
}

// forbiddenRune reports whether XML 1.0 forbids r in text.
func forbiddenRune(r rune) bool {
	return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF
}

// cut returns s cut to at most n bytes at a character boundary, with the
// ellipsis (counted in n) when it was cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	end := n - len(ellipsis)
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + ellipsis
}

// storedRoles returns roles as the record stores them: each storedText, at
// most maxRoles.
func storedRoles(roles []string) []string {
	if len(roles) == 0 {
		return nil
	}
	n := min(len(roles), maxRoles)
	out := make([]string, 0, n)
	for _, r := range roles[:n] {
		out = append(out, storedText(r))
	}
	if len(roles) > maxRoles {
		out[maxRoles-1] = ellipsis + " (" + strconv.Itoa(len(roles)-maxRoles+1) + " more)"
	}
	return out
}

// encodeRoles is the RoleNames property: a JSON array ("" for none).
func encodeRoles(roles []string) string {
	if len(roles) == 0 {
		return ""
	}
	b, _ := json.Marshal(roles) // []string always encodes
	return string(b)
}

// decodeRoles reads the RoleNames property, or the ;-joined Roles property of
// rows written before role names could contain ';'.
func decodeRoles(roleNames, legacy string) ([]string, error) {
	if roleNames != "" {
		var roles []string
		if err := json.Unmarshal([]byte(roleNames), &roles); err != nil {
			return nil, err
		}
		return roles, nil
	}
	if legacy != "" {
		return strings.Split(legacy, ";"), nil
	}
	return nil, nil
}
