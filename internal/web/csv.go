package web

import (
	"encoding/csv"
	"io"
	"strings"
	"time"
)

// CSVHeader is the header row of the report's CSV.
var csvHeader = []string{"tenantId", "subscriptionId", "displayName", "status", "roles", "detail", "checkedAt", "since"}

// WriteCSV writes the report's subscriptions as RFC 4180 CSV (CRLF line
// ends), roles separated by ";". A cell that a spreadsheet would read as a
// formula (it begins with =, +, -, @, a tab or a carriage return) is prefixed
// with a single quote, so opening the file never runs a formula a display
// name or detail smuggled in.
func WriteCSV(w io.Writer, rep *Report) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	row := make([]string, len(csvHeader))
	for _, s := range rep.Subscriptions {
		row[0] = s.TenantID
		row[1] = s.SubscriptionID
		row[2] = s.DisplayName
		row[3] = string(s.Status)
		row[4] = strings.Join(s.Roles, ";")
		row[5] = s.Detail
		row[6] = s.CheckedAt.UTC().Format(time.RFC3339)
		row[7] = s.Since.UTC().Format(time.RFC3339)
		for i := range row {
			row[i] = SafeCSVCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// SafeCSVCell prefixes a cell a spreadsheet would evaluate (it begins with
// =, +, -, @, a tab or a carriage return) with a single quote: the one CSV
// guard of the program (the report and handler link/sweep -o csv).
func SafeCSVCell(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + cell
	}
	return cell
}
