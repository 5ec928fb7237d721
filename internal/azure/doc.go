// Package azure holds pal-keeper's Azure access adapters: the Management Partner
// API (the Partner Admin Link), subscriptions, Azure Lighthouse delegations,
// role definitions and the caller's own identity.
//
// Every adapter speaks to Azure Resource Manager through azcore's ARM pipeline
// (bearer token, retries of 408/429/5xx honouring Retry-After) and returns
// pal-keeper's domain types. Every error it returns is a [*pal.Error] whose
// Message is safe to show: it never holds a token, a header or a response dump.
// The Azure error stays available as the Error's Err, for logs.
//
// Use [CloudConfig] and [NewCredential] to build the inputs of [NewClients].
package azure
