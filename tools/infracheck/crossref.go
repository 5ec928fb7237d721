package infracheck

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

var placeholder = regexp.MustCompile(`%([A-Za-z0-9_.:-]+)%`)

// settingsContract is the handler's settings table as data, relative to the
// repository root (written and checked by handler/settings_table_test.go).
const settingsContract = "handler/settings.json"

// Who sets a setting, the "terraform" of settingsContract.
const (
	terraformSet          = "yes"
	terraformUnset        = "no"
	terraformEmulatorOnly = "emulator-only"
	terraformPlatform     = "platform"
)

// LoadNeeds reads what the repository at root requires of infra: the settings
// of the handler's settings table (handler/settings.json) and, from every
// functions/*/function.json, the connections and %placeholders% of the bindings.
func LoadNeeds(root string) (Needs, error) {
	var n Needs
	path := filepath.Join(root, filepath.FromSlash(settingsContract))
	raw, err := os.ReadFile(path)
	if err != nil {
		return n, err
	}
	var contract struct {
		Settings []struct {
			Name      string `json:"name"`
			Default   string `json:"default"`
			Terraform string `json:"terraform"`
		} `json:"settings"`
		Record RecordNames `json:"record"`
	}
	if err := json.Unmarshal(raw, &contract); err != nil {
		return n, fmt.Errorf("%s: %w", path, err)
	}
	n.Defaults = map[string]string{}
	for _, s := range contract.Settings {
		if s.Default != "" {
			n.Defaults[s.Name] = s.Default
		}
		switch s.Terraform {
		case terraformSet:
			n.Settings = append(n.Settings, s.Name)
		case terraformEmulatorOnly:
			n.EmulatorOnly = append(n.EmulatorOnly, s.Name)
			n.Unwired = append(n.Unwired, s.Name)
		case terraformUnset, terraformPlatform:
			n.Unwired = append(n.Unwired, s.Name)
		default:
			return n, fmt.Errorf("%s: %s: terraform %q is not yes, no, emulator-only or platform", path, s.Name, s.Terraform)
		}
	}
	n.Record = contract.Record
	if len(n.Settings) == 0 || n.Record.TableURLSetting == "" || n.Record.TableRole == "" || n.Record.DriftMessage == "" {
		return n, fmt.Errorf("%s: no settings, or the record's names are missing", path)
	}
	sort.Strings(n.Settings)
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

// deployCommands are the commands the deploy guide must name, in this order.
var deployCommands = []string{
	"terraform init",
	"terraform apply",
	"make package",
	"az functionapp deployment source config-zip",
	"Azure/functions-action",
	"az deployment sub create",
	"handler sweep",
}

// deployTopics must each be covered by the deploy guide.
var deployTopics = []string{"permission", "roll back"}

// Documentation files the checks read, relative to the repository root.
const (
	// settingsDoc holds the settings table whose defaults must match infra.
	settingsDoc = "docs/operations.md"
	// deployDoc names the deploy commands in order and covers permissions and rollback.
	deployDoc = "docs/deploy.md"
)

// readDocs returns README.md and every docs/*.md, joined.
func readDocs(root string) (string, error) {
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		return "", err
	}
	files = append([]string{filepath.Join(root, "README.md")}, files...)
	var b strings.Builder
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		b.Write(raw)
		b.WriteString("\n")
	}
	return b.String(), nil
}

// CheckDocs checks the documentation of the repository at root (README.md
// and docs/): every handler setting infra defines has a row in the settings
// table of docs/operations.md with the root module's default, every
// connection, placeholder and default queue name is documented, and
// docs/deploy.md names the deploy commands in order and covers permissions
// and rollback.
func CheckDocs(root string, needs Needs, m *Module) []error {
	var p problems
	docs, err := readDocs(root)
	if err != nil {
		return []error{err}
	}
	for _, name := range append(append([]string{}, needs.Connections...), needs.Placeholders...) {
		if !strings.Contains(docs, name) {
			p.addf("docs", "%s (used by function.json, set by infra) is not documented in README.md or docs/", name)
		}
	}
	settings, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(settingsDoc)))
	if err != nil {
		p.addf(settingsDoc, "cannot read the settings table: %v", err)
	} else {
		rows := settingRows(string(settings))
		for _, name := range needs.Settings {
			if _, ok := rows[name]; !ok {
				p.addf(settingsDoc, "%s (read by the handler, set by infra) has no row in the settings table", name)
			}
		}
		if m != nil {
			checkDocumentedDefaults(rows, m, &p)
		}
	}
	if m != nil {
		for _, q := range needs.QueueSettings {
			if v := m.variable(strings.ToLower(q)); v != nil {
				if d, ok := attrString(v.Body, "default"); ok && !strings.Contains(docs, d) {
					p.addf("docs", "the queue name %q (default of var.%s) is not documented in README.md or docs/", d, strings.ToLower(q))
				}
			}
		}
	}

	if deploy, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(deployDoc))); err != nil {
		p.addf(deployDoc, "no deploy guide: %v", err)
	} else {
		checkDeployGuide(deployDoc, string(deploy), &p)
	}
	return p
}

// checkDeployGuide requires deployCommands in order and deployTopics in s.
func checkDeployGuide(file, s string, p *problems) {
	last, lastCmd := -1, ""
	for _, cmd := range deployCommands {
		i := strings.Index(s, cmd)
		switch {
		case i < 0:
			p.addf(file, "%q is never named", cmd)
			continue
		case i < last:
			p.addf(file, "%q is first named before %q; the steps must name their commands in order", cmd, lastCmd)
		}
		last, lastCmd = i, cmd
	}
	lower := strings.ToLower(s)
	for _, topic := range deployTopics {
		if !strings.Contains(lower, topic) && !strings.Contains(lower, strings.ReplaceAll(topic, " ", "")) {
			p.addf(file, "nothing about %q", topic)
		}
	}
}

// settingRow matches a settings table row: | `NAME` | default | meaning |.
var settingRow = regexp.MustCompile("^\\|\\s*`([A-Za-z0-9_]+)`\\s*\\|\\s*([^|]*?)\\s*\\|")

// settingRows maps each setting named in the first cell of a table row of doc
// to its default cell, with the backquotes of a single code literal removed.
func settingRows(doc string) map[string]string {
	rows := map[string]string{}
	for _, line := range strings.Split(doc, "\n") {
		row := settingRow.FindStringSubmatch(line)
		if row == nil {
			continue
		}
		d := row[2]
		if len(d) >= 2 && strings.Count(d, "`") == 2 && strings.HasPrefix(d, "`") && strings.HasSuffix(d, "`") {
			d = d[1 : len(d)-1]
		} else {
			d = "" // prose, not one literal: not compared
		}
		rows[row[1]] = d
	}
	return rows
}

// checkDocumentedDefaults compares the settings table's defaults (rows whose
// default cell is one code literal) with the defaults of the variables that
// set those settings.
func checkDocumentedDefaults(rows map[string]string, m *Module, p *problems) {
	for _, name := range slices.Sorted(maps.Keys(rows)) {
		doc := rows[name]
		if doc == "" || !strings.HasPrefix(name, "PAL_") {
			continue
		}
		v := m.variable(strings.ToLower(name))
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
		if got := strings.Trim(show(val), `"`); got != doc {
			p.addf(where(d.SrcRange), "var.%s defaults to %s, but "+settingsDoc+" documents %s's default as %q", strings.ToLower(name), show(val), name, doc)
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
	// The root module is parsed once, for CheckRoot's checks and CheckDocs.
	m, err := LoadModule(infra)
	if err != nil {
		errs = append(errs, err)
	} else {
		errs = append(errs, checkRoot(m, needs)...)
	}
	lighthouse := filepath.Join(infra, "lighthouse")
	errs = append(errs, CheckLighthouseModule(lighthouse)...)
	errs = append(errs, CheckLighthouseTemplate(filepath.Join(lighthouse, "lighthouse.json"), filepath.Join(lighthouse, "lighthouse.parameters.example.json"))...)
	direct := filepath.Join(infra, "direct")
	errs = append(errs, CheckDirectModule(direct)...)
	errs = append(errs, CheckDirectTemplate(filepath.Join(direct, "direct.json"))...)
	errs = append(errs, CheckWorkflows(filepath.Join(root, ".github", "workflows"))...)
	errs = append(errs, CheckBuild(root)...)
	errs = append(errs, CheckDocs(root, needs, m)...)
	errs = append(errs, parseOtherModules(infra, infra, lighthouse, filepath.Join(lighthouse, "example"), direct)...)
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
