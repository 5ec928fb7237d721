package message

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

const (
	// maxProblems is how many field problems an error lists; the rest are counted.
	maxProblems = 20
	// maxEcho is how many bytes of bad input a problem text may quote.
	maxEcho = 40
	// maxNamesInMessage is how many field names the error message lists.
	maxNamesInMessage = 5
	// maxNamesBytes bounds the field names listed in a message.
	maxNamesBytes = 4*maxEcho + 40
)

// problems collects what is wrong with an input, field by field, in order.
type problems struct {
	fields map[string]string
	order  []string
	total  int
}

// add records what is wrong with field. A second problem for the same field
// is appended to the first.
func (p *problems) add(field, what string) {
	p.total++
	if prev, ok := p.fields[field]; ok {
		if !strings.Contains(prev, what) {
			p.fields[field] = prev + "; " + what
		}
		return
	}
	if len(p.order) >= maxProblems {
		return
	}
	if p.fields == nil {
		p.fields = make(map[string]string)
	}
	p.fields[field] = what
	p.order = append(p.order, field)
}

// addf is add with a format.
func (p *problems) addf(field, format string, args ...any) {
	p.add(field, fmt.Sprintf(format, args...))
}

// ok reports whether nothing was found wrong.
func (p *problems) ok() bool { return p.total == 0 }

// err returns the collected problems as a *pal.Error about what (for example
// "onboarding message"), or nil when there are none.
func (p *problems) err(what string) error {
	if p.ok() {
		return nil
	}
	var msg string
	if p.total == 1 && len(p.order) == 1 {
		f := p.order[0]
		msg = fmt.Sprintf("invalid %s: %s: %s", what, f, p.fields[f])
	} else {
		// Name at most maxNamesInMessage fields, and no more than
		// maxNamesBytes of them: names quoted from input can be long.
		var names strings.Builder
		shown := 0
		for _, n := range p.order {
			if shown == maxNamesInMessage || (shown > 0 && names.Len()+len(n) > maxNamesBytes) {
				break
			}
			if shown > 0 {
				names.WriteString(", ")
			}
			names.WriteString(n)
			shown++
		}
		if shown < len(p.order) {
			names.WriteString(", …")
		}
		msg = fmt.Sprintf("invalid %s: %d problems (%s)", what, p.total, names.String())
		if p.total > len(p.fields) {
			msg += fmt.Sprintf("; fields lists %d of them", len(p.fields))
		}
	}
	return &pal.Error{Code: pal.CodeInvalidInput, Message: msg, Fields: p.fields}
}

// echo quotes at most maxEcho bytes of s for a problem text, marking a cut
// with an ellipsis.
func echo(s string) string {
	if len(s) <= maxEcho {
		return strconv.Quote(s)
	}
	cut := maxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}

// fieldName makes an input-supplied name (an unknown JSON key or form field)
// safe to use as a Fields key: printable and short.
func fieldName(name string) string {
	printable := len(name) > 0 && len(name) <= maxEcho && utf8.ValidString(name)
	if printable {
		for _, r := range name {
			if !strconv.IsPrint(r) || r == '"' || r == '\\' {
				printable = false
				break
			}
		}
	}
	if printable {
		return name
	}
	return echo(name)
}
