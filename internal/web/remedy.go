package web

import "github.com/pal-keeper/pal-keeper/internal/pal"

// remedies is the one place of the one-line "what now" of each status: the
// dashboard, the links page (and the CLI's table, through Remedy) show it.
var remedies = map[pal.Status]string{
	pal.StatusAttributed: "Nothing to do: the subscription credits the partner.",
	pal.StatusIneligibleRole: "Ask the customer to update the delegation so the identity holds a permanent " +
		"PEC-eligible role such as Contributor (the template is in infra/lighthouse/).",
	pal.StatusNotDelegated: "The delegation is missing or was removed: ask the customer to deploy it " +
		"(infra/lighthouse/), or stop managing the subscription.",
	pal.StatusUnlinked: "The identity's partner link is missing or names another partner ID: onboard the " +
		"customer again (the form below, POST /api/links) to create it; a foreign link changes only with PAL_RELINK_FOREIGN=true.",
	pal.StatusUnverifiable: "Let the identity read the delegation: add the Managed Services Registration assignment " +
		"Delete Role (it grants Microsoft.ManagedServices/registrationAssignments/read), or give it Contributor.",
	pal.StatusError: "Not decided (see the reason): the next sweep tries again; if it stays, read the function's log.",
}

// Remedy returns the one-line remedy of status ("" for an unknown status).
func Remedy(status pal.Status) string { return remedies[status] }
