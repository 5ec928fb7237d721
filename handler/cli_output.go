package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/pal-keeper/pal-keeper/internal/pal"
	"github.com/pal-keeper/pal-keeper/internal/web"
)

// printResult writes res in format (one of outputFormats): table for a
// person; json (indented) and jsonc (the same, coloured) are the result
// object; tsv (no header, as the Azure CLI's) and csv (a header row) list
// the subscriptions of Results, one a line.
func printResult(w io.Writer, format, title string, res *pal.Result) error {
	switch format {
	case outputTable:
		printReport(w, title, res)
		return nil
	case outputJSON:
		return printJSON(w, res)
	case outputJSONC:
		var buf bytes.Buffer
		if err := printJSON(&buf, res); err != nil {
			return err
		}
		_, err := w.Write(colorJSON(buf.Bytes()))
		return err
	case outputTSV, outputCSV:
		return printRows(w, format, res)
	default:
		return fmt.Errorf("unknown output format %q", format)
	}
}

// resultColumns are the columns of -o tsv and -o csv: a subscription result.
var resultColumns = []string{"tenantId", "subscriptionId", "displayName", "status", "roles", "detail"}

// printRows writes Results as csv (encoding/csv, a header row, every cell
// through the report's formula guard) or tsv (tabs, no header, tabs and
// newlines in a value turned into spaces). Roles are separated by ";".
func printRows(w io.Writer, format string, res *pal.Result) error {
	row := func(r pal.SubscriptionResult) []string {
		return []string{r.TenantID, r.SubscriptionID, r.DisplayName, string(r.Status), strings.Join(r.Roles, ";"), r.Detail}
	}
	if format == outputTSV {
		flat := strings.NewReplacer("\t", " ", "\r\n", " ", "\n", " ", "\r", " ")
		for _, r := range res.Results {
			cells := row(r)
			for i := range cells {
				cells[i] = flat.Replace(cells[i])
			}
			if _, err := fmt.Fprintln(w, strings.Join(cells, "\t")); err != nil {
				return err
			}
		}
		return nil
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(resultColumns); err != nil {
		return err
	}
	for _, r := range res.Results {
		cells := row(r)
		for i := range cells {
			cells[i] = web.SafeCSVCell(cells[i])
		}
		if err := cw.Write(cells); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// printReport writes a result as a readable table.
func printReport(w io.Writer, title string, res *pal.Result) {
	fmt.Fprintf(w, "%s\n", title)
	fmt.Fprintf(w, "  partner ID  %s\n", res.PartnerID)
	if res.Principal.ObjectID != "" {
		fmt.Fprintf(w, "  identity    %s in tenant %s\n", res.Principal.ObjectID, res.Principal.TenantID)
	}
	fmt.Fprintf(w, "  link        %s\n\n", linkText(res.Link))
	for _, l := range res.Links {
		fmt.Fprintf(w, "  tenant %s: %s%s\n", l.TenantID, linkText(l.LinkResult), prefixed("; ", l.Detail))
	}
	if len(res.Links) > 0 {
		fmt.Fprintln(w)
	}
	if len(res.Results) > 0 {
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  TENANT\tSUBSCRIPTION\tNAME\tSTATUS\tROLES\tDETAIL")
		for _, r := range res.Results {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", r.TenantID, r.SubscriptionID, dash(r.DisplayName),
				r.Status, dash(strings.Join(r.Roles, ", ")), dash(r.Detail))
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	var parts []string
	for _, s := range pal.Statuses {
		parts = append(parts, fmt.Sprintf("%s %d", s, res.Summary[s]))
	}
	fmt.Fprintf(w, "  summary     %s\n", strings.Join(parts, " · "))
}

// linkText says what became of a link, for the table.
func linkText(l pal.LinkResult) string {
	switch l.Action {
	case pal.LinkCreated:
		return "created, linked to " + l.PartnerID
	case pal.LinkRelinked:
		return fmt.Sprintf("relinked from %s to %s", l.PreviousPartnerID, l.PartnerID)
	case pal.LinkForeign:
		return fmt.Sprintf("FOREIGN: linked to %s, outside the allowed set (left alone)", l.PartnerID)
	default:
		if l.PartnerID == "" {
			return "no link"
		}
		return "unchanged, linked to " + l.PartnerID
	}
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// ANSI colours of -o jsonc: keys, string values, other values.
const (
	colorKey    = "\x1b[94m"
	colorString = "\x1b[32m"
	colorOther  = "\x1b[33m"
	colorReset  = "\x1b[0m"
)

// colorJSON colours valid JSON for a terminal, as the Azure CLI's jsonc does:
// keys, strings and the other scalars each in their colour.
func colorJSON(js []byte) []byte {
	var out bytes.Buffer
	for i := 0; i < len(js); {
		c := js[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(js) && js[j] != '"' {
				if js[j] == '\\' {
					j++
				}
				j++
			}
			j++ // the closing quote
			k := j
			for k < len(js) && (js[k] == ' ' || js[k] == '\n') {
				k++
			}
			color := colorString
			if k < len(js) && js[k] == ':' {
				color = colorKey
			}
			out.WriteString(color)
			out.Write(js[i:j])
			out.WriteString(colorReset)
			i = j
		case c == '-' || c == 't' || c == 'f' || c == 'n' || (c >= '0' && c <= '9'):
			j := i
			for j < len(js) && !strings.ContainsRune(",]}\n ", rune(js[j])) {
				j++
			}
			out.WriteString(colorOther)
			out.Write(js[i:j])
			out.WriteString(colorReset)
			i = j
		default:
			out.WriteByte(c)
			i++
		}
	}
	return out.Bytes()
}
