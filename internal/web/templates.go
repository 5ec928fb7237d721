package web

import (
	"html/template"
	"sync"
)

// pageTemplates parses the pages on first use (not at start-up: the
// handler's readiness must not wait for a page nobody asked for); they are
// only read afterwards.
var pageTemplates = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("pages").Funcs(template.FuncMap{
		"css": func() template.CSS { return template.CSS(css) },
	}).Parse(layoutHTML + dashboardHTML + errorHTML + linksHTML))
})

// page returns the page template of that name.
func page(name string) *template.Template { return pageTemplates().Lookup(name) }

const layoutHTML = `
{{define "head"}}<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.}} · pal-keeper</title>
<style>{{css}}</style>
</head>
<body>
<main>
{{end}}
{{define "foot"}}
<footer>pal-keeper · Partner Admin Link attribution. These pages need no script.</footer>
</main>
</body>
</html>
{{end}}
{{define "status"}}<span class="st {{.}}">{{.}}</span>{{end}}
{{define "pager"}}{{if or (gt .Pages 1) .NextHref .FirstHref}}<p class="pager">{{if .FirstHref}}<a href="{{.FirstHref}}" rel="first">← first page</a> {{end}}page {{.Page}} of {{.Pages}} (rows {{.FirstShown}}–{{.LastShown}}){{if .NextHref}} <a href="{{.NextHref}}" rel="next">next →</a>{{end}}</p>{{end}}{{end}}
`

const dashboardHTML = `
{{define "dashboard"}}{{template "head" "Partner attribution"}}
<h1>Partner attribution</h1>
<p class="meta">Generated {{.Generated}}.
{{with .Sweep}}Last sweep started {{.Started}}, {{if .Running}}<strong class="warn">still running</strong>{{else}}finished {{.Finished}}: <strong class="{{.Class}}" id="sweep-outcome">{{.Outcome}}</strong>{{end}}{{if .Detail}} — {{.Detail}}{{end}}.{{if .Items}} <span class="meta" id="sweep-items">{{.Items}}</span>{{end}}
{{else}}<strong class="warn" id="sweep-outcome">No sweep has run yet.</strong>{{end}}</p>

<div class="bar">
{{if .Filters}}<span>Filtered by</span>{{range .Filters}}<a class="chip filter" href="{{.Href}}" title="remove this filter">{{.Label}}</a>{{end}}<a href="{{.ClearHref}}" id="clear">show all</a>{{end}}
<a href="{{.CSVHref}}" id="csv" download>Download CSV</a>
<a href="{{.JSONHref}}" id="json">JSON</a>
<a href="#onboard">Onboard a customer</a>
</div>

{{if .TotalsAt}}<p class="meta" id="totals-at">Totals as of {{.TotalsAt}} (the end of the last sweep); the tenants and the list below are current.</p>{{end}}
<section class="totals" id="totals">
<a class="card" href="{{.ClearHref}}" id="total-all"><span class="n">{{.Total}}</span><span class="l">subscriptions</span></a>
{{range .Totals}}<a class="card s-{{.Status}}{{if .Active}} active{{end}}" href="{{.Href}}" id="total-{{.Status}}"><span class="n">{{.Count}}</span><span class="l">{{.Status}}</span></a>
{{end}}</section>

<h2 id="tenants">Tenants ({{.TenantCount}})</h2>
{{if .Tenants}}<table id="tenant-table">
<thead><tr><th>Tenant</th><th class="num">Total</th>{{range .Statuses}}<th class="num">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Tenants}}<tr><td class="id"><a href="{{.Href}}">{{.TenantID}}</a></td><td class="num">{{.Total}}</td>{{range .Counts}}<td class="num">{{if .Href}}<a href="{{.Href}}">{{.Count}}</a>{{else}}0{{end}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
{{template "pager" .TenantPager}}{{else}}<p class="empty">No subscription has been judged{{if .Filters}} for this filter{{end}}.</p>{{end}}

<h2 id="list">{{.ListTitle}} ({{.ListTotal}})</h2>
{{if .List}}<table id="list-table">
<thead><tr><th>Tenant</th><th>Subscription</th><th>Name</th><th>Status</th><th>Reason</th><th>Since</th></tr></thead>
<tbody>
{{range .List}}<tr><td class="id"><a href="{{.TenantHref}}">{{.TenantID}}</a></td><td class="id">{{.SubscriptionID}}</td><td>{{.DisplayName}}</td><td>{{template "status" .Status}}</td><td>{{.Detail}}{{if .Roles}}<br><small class="meta">roles: {{.Roles}}</small>{{end}}</td><td class="when">{{.Since}}</td></tr>
{{end}}</tbody>
</table>
{{template "pager" .ListPager}}{{else}}<p class="empty">None.</p>{{end}}
{{if .AttributedHref}}<p><a href="{{.AttributedHref}}" id="list-attributed">Then the attributed subscriptions →</a></p>{{end}}{{if .NotAttributedHref}}<p><a href="{{.NotAttributedHref}}" id="list-not-attributed">← Back to those not attributed</a></p>{{end}}

<h2 id="changes">Recent changes</h2>
{{if .Changes}}<table id="change-table">
<thead><tr><th>When</th><th>Tenant</th><th>Subscription</th><th>Change</th><th>Detail</th></tr></thead>
<tbody>
{{range .Changes}}<tr><td class="when">{{.At}}</td><td class="id">{{.TenantID}}</td><td class="id">{{.SubscriptionID}}</td><td>{{if .From}}{{template "status" .From}} → {{else}}first judged: {{end}}{{template "status" .To}}</td><td>{{.Detail}}</td></tr>
{{end}}</tbody>
</table>{{else}}<p class="empty">No change recorded.</p>{{end}}

<h2 id="onboard">Onboard a customer</h2>
<form method="post" action="{{.FormAction}}" id="onboard-form">
<label>Customer tenant ID<input name="tenantId" required pattern="[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}" placeholder="00000000-0000-0000-0000-000000000000" autocomplete="off"></label>
<label>Subscription IDs <span>optional; separated by commas, spaces or new lines. Empty: every subscription of the tenant the identity can reach.</span><textarea name="subscriptionIds" autocomplete="off"></textarea></label>
<label>Partner ID <span>optional; empty: the configured partner ID</span><input name="partnerId" inputmode="numeric" pattern="[0-9]{1,10}" autocomplete="off"></label>
<button type="submit">Link and check</button>
</form>
{{template "foot"}}{{end}}
`

const errorHTML = `
{{define "error"}}{{template "head" "Error"}}
<h1>{{.Title}}</h1>
<div class="alert bad" id="error"><strong>{{.Message}}</strong>
{{if .Fields}}<ul>{{range .Fields}}<li><strong>{{.Name}}</strong>: {{.Problem}}</li>{{end}}</ul>{{end}}</div>
{{if .RetryAfter}}<p>Try again in {{.RetryAfter}} seconds.</p>{{end}}
<p><a href="{{.DashboardHref}}" id="back">Back to the dashboard</a></p>
{{template "foot"}}{{end}}
`

const linksHTML = `
{{define "links"}}{{template "head" "Onboarding result"}}
<h1>Onboarding result</h1>
{{if .Queued}}<div class="alert ok" id="queued"><strong>The request was queued.</strong> Its outcome: <a href="{{.StatusHref}}">the read-only status</a>.</div>
{{else}}
<div class="alert {{if .AllAttributed}}ok{{else}}bad{{end}}" id="outcome"><strong>{{.Headline}}</strong></div>
<p>Partner link: <strong id="link-action">{{.LinkAction}}</strong>{{if .PartnerID}}, partner ID <strong id="partner-id">{{.PartnerID}}</strong>{{end}}{{if .PreviousPartnerID}} (was {{.PreviousPartnerID}}){{end}}.</p>
<section class="totals">{{range .Totals}}<div class="card s-{{.Status}}"><span class="n">{{.Count}}</span><span class="l">{{.Status}}</span></div>{{end}}</section>
{{if .Rows}}<table id="result-table">
<thead><tr><th>Tenant</th><th>Subscription</th><th>Name</th><th>Status</th><th>Roles</th><th>Detail</th></tr></thead>
<tbody>
{{range .Rows}}<tr><td class="id">{{.TenantID}}</td><td class="id">{{.SubscriptionID}}</td><td>{{.DisplayName}}</td><td>{{template "status" .Status}}</td><td>{{.Roles}}</td><td>{{.Detail}}</td></tr>
{{end}}</tbody>
</table>{{else}}<p class="empty">The identity reaches no subscription of this tenant.</p>{{end}}
{{end}}
<p><a href="{{.DashboardHref}}" id="back">Back to the dashboard</a></p>
{{template "foot"}}{{end}}
`
