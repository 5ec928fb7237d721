package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// printReport writes a result as a readable table.
func printReport(w io.Writer, title string, res *pal.Result) {
	fmt.Fprintf(w, "%s\n", title)
	fmt.Fprintf(w, "  partner ID  %s\n", res.PartnerID)
	fmt.Fprintf(w, "  identity    %s in tenant %s\n", res.Principal.ObjectID, res.Principal.TenantID)
	var link string
	switch res.Link.Action {
	case pal.LinkCreated:
		link = "created, linked to " + res.Link.PartnerID
	case pal.LinkRelinked:
		link = fmt.Sprintf("relinked from %s to %s", res.Link.PreviousPartnerID, res.Link.PartnerID)
	case pal.LinkForeign:
		link = fmt.Sprintf("FOREIGN: linked to %s, outside the allowed set (left alone)", res.Link.PartnerID)
	default:
		if res.Link.PartnerID == "" {
			link = "no link"
		} else {
			link = "unchanged, linked to " + res.Link.PartnerID
		}
	}
	fmt.Fprintf(w, "  link        %s\n\n", link)
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
