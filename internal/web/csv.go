package web

import (
	"encoding/csv"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// csvHeader is the header row of the report's CSV.
var csvHeader = []string{"tenantId", "subscriptionId", "displayName", "status", "roles", "detail", "checkedAt", "since"}

// csvWriter writes the report's rows as RFC 4180 CSV (encoding/csv, CRLF
// line ends), roles separated by ";", every cell through SafeCSVCell.
type csvWriter struct {
	cw  *csv.Writer
	row []string
}

// newCSVWriter writes the header row to w.
func newCSVWriter(w io.Writer) (*csvWriter, error) {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	c := &csvWriter{cw: cw, row: make([]string, len(csvHeader))}
	return c, cw.Write(csvHeader)
}

// write writes one subscription.
func (c *csvWriter) write(s Subscription) error {
	c.row[0] = s.TenantID
	c.row[1] = s.SubscriptionID
	c.row[2] = s.DisplayName
	c.row[3] = string(s.Status)
	c.row[4] = strings.Join(s.Roles, ";")
	c.row[5] = s.Detail
	c.row[6] = s.CheckedAt.UTC().Format(time.RFC3339)
	c.row[7] = s.Since.UTC().Format(time.RFC3339)
	for i := range c.row {
		c.row[i] = SafeCSVCell(c.row[i])
	}
	return c.cw.Write(c.row)
}

// flush writes what is buffered and returns the first error.
func (c *csvWriter) flush() error {
	c.cw.Flush()
	return c.cw.Error()
}

// WriteCSV writes subs as the report's CSV (header row first).
func WriteCSV(w io.Writer, subs []Subscription) error {
	c, err := newCSVWriter(w)
	if err != nil {
		return err
	}
	for _, s := range subs {
		if err := c.write(s); err != nil {
			return err
		}
	}
	return c.flush()
}

// formulaStart reports whether a spreadsheet starts a formula (or a DDE
// command) with r: = + - @ and |, and their full-width forms, which some
// spreadsheets fold to ASCII.
func formulaStart(r rune) bool {
	switch r {
	case '=', '+', '-', '@', '|', '＝', '＋', '－', '＠', '｜':
		return true
	}
	return false
}

// blank reports whether a spreadsheet may skip r before a formula: white
// space (a space, a tab, a line break — encoding/csv writes "\n" as "\r\n"
// in a quoted field, and the reader gives it back as "\n") and invisible
// format characters such as a zero-width space or a byte-order mark.
func blank(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// SafeCSVCell returns cell as it is safe to write: the one CSV guard of the
// program (the report and handler link/sweep -o csv). Line breaks are first made
// "\n" (encoding/csv writes "\n" as "\r\n" and would drop a lone "\r"),
// so the guard sees the lines as they are written. Then a cell a
// spreadsheet would evaluate — starting with a formula character, perhaps
// after blanks, or with a tab or a line break at all — gets a leading
// single quote; and every line of the cell and every part after a ";" (a
// spreadsheet of a locale whose list separator is ";" splits cells there,
// and ends an unquoted field's row at a line break) that starts, after
// blanks, with a formula character gets a single quote before it. The text
// otherwise stays.
func SafeCSVCell(cell string) string {
	if cell == "" {
		return cell
	}
	cell = strings.ReplaceAll(strings.ReplaceAll(cell, "\r\n", "\n"), "\r", "\n")
	var b strings.Builder
	if r, _ := utf8.DecodeRuneInString(cell); r == '\t' || r == '\n' || startsFormula(cell) {
		b.WriteByte('\'')
	}
	start := 0
	for i := 0; i < len(cell); i++ {
		if c := cell[i]; c == ';' || c == '\n' {
			b.WriteString(cell[start : i+1])
			start = i + 1
			if startsFormula(cell[start:]) {
				b.WriteByte('\'')
			}
		}
	}
	b.WriteString(cell[start:])
	return b.String()
}

// startsFormula reports whether s, after blanks, starts with a formula character.
func startsFormula(s string) bool {
	for _, r := range s {
		if blank(r) {
			continue
		}
		return formulaStart(r)
	}
	return false
}
