package web

// css is the only style of every page, inline; the Content-Security-Policy
// allows exactly this block by its hash (styleHash, checked by a test).
const css = `
:root{color-scheme:light;--ink:#1b1f24;--muted:#5b6470;--line:#d8dde3;--bg:#f6f7f9;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--info:#0969da}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg)}
main{max-width:1200px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:18px;margin:32px 0 8px}
a{color:var(--info)}
.meta{color:var(--muted);margin:0}
.ok{color:var(--ok)}.warn{color:var(--warn)}.bad{color:var(--bad)}
.bar{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;margin:16px 0}
.chip{display:inline-block;padding:2px 10px;border:1px solid var(--line);border-radius:12px;background:#fff;text-decoration:none;color:var(--ink)}
.chip:after{content:" \00d7";color:var(--muted)}
.totals{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin:16px 0}
.card{display:block;padding:12px 14px;background:#fff;border:1px solid var(--line);border-left:5px solid var(--muted);border-radius:6px;text-decoration:none;color:var(--ink)}
.card.active{outline:2px solid var(--info)}
.card .n{display:block;font-size:26px;font-weight:600}
.card .l{color:var(--muted)}
.card.s-attributed{border-left-color:var(--ok)}
.card.s-ineligible-role,.card.s-unlinked{border-left-color:var(--warn)}
.card.s-not-delegated,.card.s-error{border-left-color:var(--bad)}
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid var(--line)}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600;font-size:13px}
td.when{white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td{overflow-wrap:break-word}
td.text{overflow-wrap:anywhere}
.id{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;overflow-wrap:break-word}
td .id{color:var(--muted)}
a .id{color:inherit}
.who{display:flex;flex-wrap:wrap;gap:8px 32px;margin:12px 0;padding:10px 14px;background:#fff;border:1px solid var(--line);border-radius:6px}
.who div{min-width:0}
.who dt{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.who dd{margin:0;font-weight:600;overflow-wrap:anywhere}
.who dd small{display:block;font-weight:400}
.remedies{list-style:none;padding:0;margin:8px 0;display:grid;gap:6px}
.remedies li{background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px 12px}
#remedies h2{margin-top:16px}
.chart{margin:8px 0;padding:8px 12px;background:#fff;border:1px solid var(--line);border-radius:6px}
.chart svg{display:block;width:100%;max-width:760px;height:auto}
.chart .bar-a{fill:var(--ok)}
.chart .bar-n{fill:var(--bad)}
.chart .grid{stroke:var(--line)}
.chart .axis{stroke:var(--muted)}
.chart text{font-size:11px;fill:var(--muted)}
.chart .ylabel{text-anchor:end}
.chart .xlabel{text-anchor:middle}
.chart figcaption{color:var(--muted);font-size:13px}
.key{display:inline-block;width:10px;height:10px;margin:0 4px 0 8px;border-radius:2px}
.key-a{background:var(--ok)}
.key-n{background:var(--bad)}
@media (max-width:720px){
main{padding:16px 12px 40px}
table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:100%}
table.stack thead{display:none}
table.stack tr{border-bottom:1px solid var(--line);padding:6px 0}
table.stack td{border:0;padding:2px 10px;text-align:left}
table.stack td.num{display:inline-block;width:auto;padding-right:6px}
table.stack td[data-label]::before{content:attr(data-label) ": ";color:var(--muted);font-size:13px}
table.stack td:empty{display:none}
td.when{white-space:normal}
.chart text{font-size:20px}
}
.st{display:inline-block;padding:0 8px;border-radius:10px;font-size:13px;white-space:nowrap;background:#eef1f4}
.st.attributed{background:#dafbe1;color:var(--ok)}
.st.ineligible-role,.st.unlinked{background:#fff8c5;color:var(--warn)}
.st.not-delegated,.st.error{background:#ffebe9;color:var(--bad)}
.pager{margin:8px 0;color:var(--muted)}
.pager a{margin-right:12px}
.empty{color:var(--muted);font-style:italic}
form{background:#fff;border:1px solid var(--line);border-radius:6px;padding:16px;display:grid;gap:12px;max-width:720px}
label{display:grid;gap:4px;font-weight:600}
label span{font-weight:400;color:var(--muted);font-size:13px}
input,textarea{font:inherit;font-weight:400;padding:6px 8px;border:1px solid var(--line);border-radius:4px;width:100%}
textarea{min-height:80px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
button{justify-self:start;font:inherit;font-weight:600;padding:8px 16px;border:0;border-radius:6px;background:var(--info);color:#fff;cursor:pointer}
.alert{padding:12px 16px;border-radius:6px;border:1px solid var(--line);background:#fff;margin:16px 0}
.alert.bad{border-color:var(--bad);background:#ffebe9;color:var(--ink)}
.alert.ok{border-color:var(--ok);background:#dafbe1;color:var(--ink)}
.alert ul{margin:8px 0 0;padding-left:20px}
footer{margin-top:40px;color:var(--muted);font-size:13px}
`

// styleHash is the CSP source of css: 'sha256-' and the base64 of its SHA-256.
const styleHash = "sha256-UhnCDKidqotWo4oKSnIx9F4XNVRxTcc4qr0ox8MrPyY="
