package web

import (
	"mime"
	"strconv"
	"strings"
)

// PrefersHTML reports whether an Accept header ranks text/html above
// application/json, as a browser's default Accept does
// ("text/html,application/xhtml+xml,...,*/*;q=0.8"). HTML must be asked for
// by name (text/html or text/*): no Accept, "*/*" and "application/json"
// keep the JSON answer, and so does a tie.
func PrefersHTML(accept string) bool {
	htmlQ, htmlSpec := 0.0, -1
	jsonQ, jsonSpec := 0.0, -1
	for _, part := range strings.Split(accept, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		mt, params, err := mime.ParseMediaType(part)
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		if spec := specificity(mt, "text", "html"); spec > htmlSpec {
			htmlQ, htmlSpec = q, spec
		}
		if spec := specificity(mt, "application", "json"); spec > jsonSpec {
			jsonQ, jsonSpec = q, spec
		}
	}
	return htmlSpec >= 1 && htmlQ > 0 && htmlQ > jsonQ
}

// specificity is how precisely the media range mt matches typ/sub: 2 exact,
// 1 typ/*, 0 */*, -1 not at all.
func specificity(mt, typ, sub string) int {
	switch mt {
	case typ + "/" + sub:
		return 2
	case typ + "/*":
		return 1
	case "*/*":
		return 0
	}
	return -1
}
