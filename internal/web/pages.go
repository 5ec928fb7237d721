package web

import (
	"strconv"

	"github.com/a-h/templ"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// The pages are written in templ (pages.templ, https://templ.guide) and
// generated into pages_templ.go by `make templ`; this file holds what they
// compute beyond their data. templ escapes by context as html/template does
// (text, attribute, URL: docs/adr/0004 of templ) and renders without
// reflection, so the linker keeps only the methods the handler calls; with
// html/template it kept every exported method (docs/reliability.md,
// "Start-up").

// styleElement is the page's only style block, byte for byte the css that
// the Content-Security-Policy allows by its hash (styleHash).
func styleElement() templ.Component { return templ.Raw("<style>" + css + "</style>") }

// itoa writes a count or a coordinate as the pages show it.
func itoa(n int) string { return strconv.Itoa(n) }

// num writes a chart coordinate: the shortest form that reads back exactly.
func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// totalClass is the class of a total's card: its status, and whether the
// view is filtered by it.
func totalClass(t totalView) string {
	c := "card s-" + string(t.Status)
	if t.Active {
		c += " active"
	}
	return c
}

// statusAt names the status of column i of the tenant table.
func statusAt(statuses []pal.Status, i int) string {
	if i < len(statuses) {
		return string(statuses[i])
	}
	return ""
}

// outcomeClass is the class of the links page's headline.
func outcomeClass(allAttributed bool) string {
	if allAttributed {
		return "alert ok"
	}
	return "alert bad"
}

// sweepEnd ends the sentence on the last sweep: its detail, if any, and the
// full stop.
func sweepEnd(s *sweepView) string {
	if s.Detail != "" {
		return " — " + s.Detail + "."
	}
	return "."
}

// filterSuffix qualifies "No subscription has been judged" on a filtered view.
func filterSuffix(filtered bool) string {
	if filtered {
		return " for this filter"
	}
	return ""
}

// pagerText says where a page is: "page 2 of 10 (rows 51–100)".
func pagerText(p pager) string {
	return "page " + itoa(p.Page) + " of " + itoa(p.Pages) + " (rows " + itoa(p.FirstShown) + "–" + itoa(p.LastShown) + ")"
}
