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
{{define "remedies"}}{{if .}}<section id="remedies"><h2>What to do</h2><ul class="remedies">{{range .}}<li id="remedy-{{.Status}}">{{template "status" .Status}} <strong>{{.Count}}</strong> {{.Text}}{{if .Href}} <a href="{{.Href}}">list them</a>{{end}}</li>{{end}}</ul></section>{{end}}{{end}}
{{define "pager"}}{{if or (gt .Pages 1) .NextHref .FirstHref}}<p class="pager">{{if .FirstHref}}<a href="{{.FirstHref}}" rel="first">← first page</a> {{end}}page {{.Page}} of {{.Pages}} (rows {{.FirstShown}}–{{.LastShown}}){{if .NextHref}} <a href="{{.NextHref}}" rel="next">next →</a>{{end}}</p>{{end}}{{end}}
`

const dashboardHTML = `
{{define "tenant"}}<span class="tenant">{{if .Name}}<strong>{{.Name}}</strong>{{if .Domain}} <small class="meta">{{.Domain}}</small>{{end}}<br>{{end}}<small class="id">{{.ID}}</small></span>{{end}}
{{define "dashboard"}}{{template "head" "Partner attribution"}}
<h1>Partner attribution</h1>
{{with .Who}}<dl class="who" id="who">
<div><dt>Partner ID</dt><dd id="partner-id">{{.PartnerID}}</dd></div>
<div><dt>Partner link</dt><dd id="link-state"{{if .LinkClass}} class="{{.LinkClass}}"{{end}}>{{.Link}}</dd></div>
<div><dt>Identity</dt><dd id="identity"><span id="identity-kind">{{.Kind}}</span>{{if .Identity}} <small class="id">{{.Identity}}</small>{{end}}</dd></div>
</dl>
{{if .LinkRemedy}}<p class="alert bad" id="link-remedy">{{.LinkRemedy}}</p>{{end}}{{end}}
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
{{template "remedies" .Remedies}}

<h2 id="chart">Attribution over time</h2>
{{with .Chart}}<figure class="chart">
<svg viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-labelledby="chart-summary" id="chart-svg">
{{range .YTicks}}<line class="grid" x1="{{$.Chart.PlotLeft}}" x2="{{$.Chart.PlotRight}}" y1="{{.Y}}" y2="{{.Y}}"/><text class="ylabel" x="{{$.Chart.PlotLeft}}" y="{{.Y}}" dx="-6" dy="4">{{.Label}}</text>
{{end}}{{range .Bars}}<g class="run"><title>{{.Title}}</title><rect class="bar-a" x="{{.X}}" y="{{.AttrY}}" width="{{.W}}" height="{{.AttrH}}"/><rect class="bar-n" x="{{.X}}" y="{{.RestY}}" width="{{.W}}" height="{{.RestH}}"/>{{if .Label}}<text class="xlabel" x="{{.LabelX}}" y="{{.LabelY}}">{{.Label}}</text>{{end}}</g>
{{end}}<line class="axis" x1="{{.PlotLeft}}" x2="{{.PlotRight}}" y1="{{.BaseY}}" y2="{{.BaseY}}"/>
</svg>
<figcaption><span class="key key-a"></span>attributed <span class="key key-n"></span>not attributed · <span id="chart-summary">{{.Summary}}</span></figcaption>
</figure>{{else}}<p class="empty" id="chart-empty">No sweep has finished yet: each finished sweep adds a bar.</p>{{end}}

<h2 id="tenants">Tenants ({{.TenantCount}})</h2>
{{if .Tenants}}<table id="tenant-table" class="stack">
<thead><tr><th>Tenant</th><th class="num">Total</th>{{range .Statuses}}<th class="num">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Tenants}}<tr><td class="name"><a href="{{.Href}}">{{template "tenant" .Tenant}}</a></td><td class="num" data-label="total">{{.Total}}</td>{{range $i, $c := .Counts}}<td class="num" data-label="{{index $.Statuses $i}}">{{if .Href}}<a href="{{.Href}}">{{.Count}}</a>{{else}}0{{end}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
{{template "pager" .TenantPager}}{{else}}<p class="empty">No subscription has been judged{{if .Filters}} for this filter{{end}}.</p>{{end}}

<h2 id="list">{{.ListTitle}} ({{.ListTotal}})</h2>
{{if .List}}<table id="list-table" class="stack">
<thead><tr><th>Tenant</th><th>Subscription</th><th>Status</th><th>Reason</th><th>Since</th></tr></thead>
<tbody>
{{range .List}}<tr><td data-label="tenant"><a href="{{.TenantHref}}">{{template "tenant" .Tenant}}</a></td><td data-label="subscription">{{if .DisplayName}}{{.DisplayName}}<br>{{end}}<small class="id">{{.SubscriptionID}}</small></td><td data-label="status">{{template "status" .Status}}</td><td class="text" data-label="reason">{{.Detail}}{{if .Roles}}<br><small class="meta">roles: {{.Roles}}</small>{{end}}</td><td class="when" data-label="since">{{.Since}}</td></tr>
{{end}}</tbody>
</table>
{{template "pager" .ListPager}}{{else}}<p class="empty">None.</p>{{end}}
{{if .AttributedHref}}<p><a href="{{.AttributedHref}}" id="list-attributed">Then the attributed subscriptions →</a></p>{{end}}{{if .NotAttributedHref}}<p><a href="{{.NotAttributedHref}}" id="list-not-attributed">← Back to those not attributed</a></p>{{end}}

<h2 id="changes">Recent changes</h2>
{{if .Changes}}<table id="change-table" class="stack">
<thead><tr><th>When</th><th>Tenant</th><th>Subscription</th><th>Change</th><th>Detail</th></tr></thead>
<tbody>
{{range .Changes}}<tr><td class="when" data-label="when">{{.At}}</td><td data-label="tenant">{{template "tenant" .Tenant}}</td><td data-label="subscription">{{if .DisplayName}}{{.DisplayName}}<br>{{end}}<small class="id">{{.SubscriptionID}}</small></td><td data-label="change">{{if .From}}{{template "status" .From}} → {{else}}first judged: {{end}}{{template "status" .To}}</td><td class="text" data-label="detail">{{.Detail}}</td></tr>
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
{{define "links"}}{{template "head" .Title}}
<h1>{{.Title}}</h1>
{{if .Queued}}<div class="alert ok" id="queued"><strong>The request was queued.</strong> Its outcome: <a href="{{.StatusHref}}">the read-only status</a>.</div>
{{else}}
<div class="alert {{if .AllAttributed}}ok{{else}}bad{{end}}" id="outcome"><strong>{{.Headline}}</strong></div>
<p>Partner link: <strong id="link-outcome">{{.Link}}</strong>.</p>
<section class="totals">{{range .Totals}}<div class="card s-{{.Status}}"><span class="n">{{.Count}}</span><span class="l">{{.Status}}</span></div>{{end}}</section>
{{template "remedies" .Remedies}}
{{if .Rows}}<table id="result-table" class="stack">
<thead><tr><th>Subscription</th><th>Status</th><th>Roles</th><th>Detail</th></tr></thead>
<tbody>
{{range .Rows}}<tr><td data-label="subscription">{{if .DisplayName}}{{.DisplayName}}<br>{{end}}<small class="id">{{.SubscriptionID}}</small><br><small class="meta">tenant <span class="id">{{.TenantID}}</span></small></td><td data-label="status">{{template "status" .Status}}</td><td data-label="roles">{{.Roles}}</td><td class="text" data-label="detail">{{.Detail}}</td></tr>
{{end}}</tbody>
</table>{{else}}<p class="empty">The identity reaches no subscription of this tenant.</p>{{end}}
{{end}}
<p><a href="{{.DashboardHref}}" id="back">Back to the dashboard</a></p>
{{template "foot"}}{{end}}
`
