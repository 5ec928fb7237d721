package infracheck

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// hostSetSettings are settings the handler reads that the Functions host sets itself.
var hostSetSettings = map[string]bool{"FUNCTIONS_CUSTOMHANDLER_PORT": true}

var placeholder = regexp.MustCompile(`%([A-Za-z0-9_.:-]+)%`)

// LoadNeeds reads what the repository at root requires of infra: the settings
// the handler reads (the env* constants of handler/settings.go) and, from every
// functions/*/function.json, the connections and %placeholders% of the bindings.
func LoadNeeds(root string) (Needs, error) {
	var n Needs
	settings, err := HandlerSettings(filepath.Join(root, "handler", "settings.go"))
	if err != nil {
		return n, err
	}
	for _, s := range settings {
		if !hostSetSettings[s] {
			n.Settings = append(n.Settings, s)
		}
	}
	paths, err := filepath.Glob(filepath.Join(root, "functions", "*", "function.json"))
	if err != nil {
		return n, err
	}
	if len(paths) == 0 {
		return n, fmt.Errorf("%s: no functions/*/function.json", root)
	}
	conns, holders, queues := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			return n, err
		}
		var fn struct {
			Bindings []map[string]any `json:"bindings"`
		}
		if err := json.Unmarshal(raw, &fn); err != nil {
			return n, fmt.Errorf("%s: %w", path, err)
		}
		for _, b := range fn.Bindings {
			if c, ok := b["connection"].(string); ok && c != "" {
				conns[c] = true
			}
			for _, v := range b {
				if s, ok := v.(string); ok {
					for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
						holders[m[1]] = true
					}
				}
			}
			if t, _ := b["type"].(string); t == "serviceBusTrigger" {
				if q, _ := b["queueName"].(string); placeholder.MatchString(q) {
					queues[placeholder.FindStringSubmatch(q)[1]] = true
				}
			}
		}
	}
	n.Connections, n.Placeholders, n.QueueSettings = sortedKeys(conns), sortedKeys(holders), sortedKeys(queues)
	return n, nil
}

// HandlerSettings returns the setting names handler/settings.go reads: the
// string constants whose names start with "env".
func HandlerSettings(path string) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "env") || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, err := strconv.Unquote(lit.Value)
					if err == nil {
						out = append(out, s)
					}
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no env* setting constants", path)
	}
	sort.Strings(out)
	return out, nil
}

// deployCommands are the commands the "Deploy" section must name, in this order.
var deployCommands = []string{
	"terraform init",
	"terraform apply",
	"make package",
	"az functionapp deployment source config-zip",
	"Azure/functions-action",
	"az deployment sub create",
	"handler sweep",
}

// deployTopics must each be covered by the "Deploy" section.
var deployTopics = []string{"permission", "roll back"}

// readDocs returns README.md.
func readDocs(root string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(root, "README.md"))
	return string(raw), err
}

// deploySection returns the "## Deploy" section of a markdown document (up to
// the next level-two heading), or "".
func deploySection(doc string) string {
	lines := strings.Split(doc, "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "## ") {
			if start >= 0 {
				return strings.Join(lines[start:i], "\n")
			}
			if strings.TrimSpace(strings.TrimPrefix(l, "## ")) == "Deploy" {
				start = i
			}
		}
	}
	if start >= 0 {
		return strings.Join(lines[start:], "\n")
	}
	return ""
}

// CheckDocs checks the documentation of the repository at root (README.md):
// every connection, placeholder
// and handler setting infra defines is documented, the documented defaults
// match the root module's variables, and the "Deploy" section names its
// commands in order and covers permissions and rollback.
func CheckDocs(root string, needs Needs, m *Module) []error {
	var p problems
	readme, err := readDocs(root)
	if err != nil {
		return []error{err}
	}
	docs := readme
	for _, name := range append(append(append([]string{}, needs.Connections...), needs.Placeholders...), needs.Settings...) {
		if !strings.Contains(docs, name) {
			p.addf("README.md", "%s (used by function.json or read by the handler, set by infra) is not documented", name)
		}
	}
	if m != nil {
		checkDocumentedDefaults(readme, m, &p)
		for _, q := range needs.QueueSettings {
			if v := m.variable(strings.ToLower(q)); v != nil {
				if d, ok := attrString(v.Body, "default"); ok && !strings.Contains(docs, d) {
					p.addf("README.md", "the queue name %q (default of var.%s) is not documented", d, strings.ToLower(q))
				}
			}
		}
	}

	if s := deploySection(readme); s != "" {
		checkDeploySection("README.md", s, &p)
	} else {
		p.addf("README.md", `no "## Deploy" section`)
	}
	return p
}

// checkDeploySection requires deployCommands in order and deployTopics.
func checkDeploySection(file, s string, p *problems) {
	last, lastCmd := -1, ""
	for _, cmd := range deployCommands {
		i := strings.Index(s, cmd)
		switch {
		case i < 0:
			p.addf(file, "Deploy: %q is never named", cmd)
			continue
		case i < last:
			p.addf(file, "Deploy: %q is first named before %q; the steps must name their commands in order", cmd, lastCmd)
		}
		last, lastCmd = i, cmd
	}
	lower := strings.ToLower(s)
	for _, topic := range deployTopics {
		if !strings.Contains(lower, topic) && !strings.Contains(lower, strings.ReplaceAll(topic, " ", "")) {
			p.addf(file, "Deploy: nothing about %q", topic)
		}
	}
}

var settingRow = regexp.MustCompile("^\\|\\s*`([A-Za-z0-9_]+)`\\s*\\|\\s*`([^`|]*)`\\s*\\|")

// checkDocumentedDefaults compares the README settings table's defaults (rows
// whose default cell is one code literal) with the defaults of the variables
// that set those settings.
func checkDocumentedDefaults(readme string, m *Module, p *problems) {
	for _, line := range strings.Split(readme, "\n") {
		row := settingRow.FindStringSubmatch(line)
		if row == nil || !strings.HasPrefix(row[1], "PAL_") {
			continue
		}
		v := m.variable(strings.ToLower(row[1]))
		if v == nil {
			continue
		}
		d := attr(v.Body, "default")
		if d == nil {
			continue
		}
		val, ok := constant(d.Expr)
		if !ok || val.IsNull() || !(val.Type().Equals(cty.String) || val.Type().Equals(cty.Bool) || val.Type().Equals(cty.Number)) {
			continue
		}
		if got := strings.Trim(show(val), `"`); got != row[2] {
			p.addf(where(d.SrcRange), "var.%s defaults to %s, but README documents %s's default as %q", strings.ToLower(row[1]), show(val), row[1], row[2])
		}
	}
}

// CheckAll runs every check on the repository at root and returns one error
// per broken invariant.
func CheckAll(root string) []error {
	var errs []error
	needs, err := LoadNeeds(root)
	if err != nil {
		return []error{err}
	}
	infra := filepath.Join(root, "infra")
	errs = append(errs, CheckRoot(infra, needs)...)
	lighthouse := filepath.Join(infra, "lighthouse")
	errs = append(errs, CheckLighthouseModule(lighthouse)...)
	errs = append(errs, CheckLighthouseTemplate(filepath.Join(lighthouse, "lighthouse.json"), filepath.Join(lighthouse, "lighthouse.parameters.example.json"))...)
	errs = append(errs, CheckWorkflows(filepath.Join(root, ".github", "workflows"))...)
	m, _ := LoadModule(infra) // a load error is already reported by CheckRoot
	errs = append(errs, CheckDocs(root, needs, m)...)
	errs = append(errs, parseOtherModules(infra, infra, lighthouse, filepath.Join(lighthouse, "example"))...)
	return errs
}

// parseOtherModules parses every directory under dir holding .tf files that
// the checks above do not already read, so that no Terraform escapes the
// syntax check.
func parseOtherModules(dir string, checked ...string) []error {
	skip := map[string]bool{}
	for _, c := range checked {
		skip[filepath.Clean(c)] = true
	}
	var errs []error
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if d.Name() == ".terraform" {
			return filepath.SkipDir
		}
		if skip[filepath.Clean(path)] {
			return nil
		}
		if tf, _ := filepath.Glob(filepath.Join(path, "*.tf")); len(tf) > 0 {
			if _, err := LoadModule(path); err != nil {
				errs = append(errs, err)
			}
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return errs
}
