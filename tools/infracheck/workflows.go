package infracheck

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// workflow is the part of a GitHub Actions workflow the checks read.
type workflow struct {
	path        string
	Name        string            `yaml:"name"`
	On          yaml.Node         `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Jobs        map[string]*job   `yaml:"jobs"`
}

type job struct {
	Permissions map[string]string `yaml:"permissions"`
	Steps       []step            `yaml:"steps"`
}

type step struct {
	Name string            `yaml:"name"`
	If   string            `yaml:"if"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]any    `yaml:"with"`
	Env  map[string]string `yaml:"env"`
}

// events lists the workflow's trigger events.
func (w *workflow) events() map[string]bool {
	out := map[string]bool{}
	switch w.On.Kind {
	case yaml.ScalarNode:
		out[w.On.Value] = true
	case yaml.SequenceNode:
		for _, n := range w.On.Content {
			out[n.Value] = true
		}
	case yaml.MappingNode:
		for i := 0; i < len(w.On.Content); i += 2 {
			out[w.On.Content[i].Value] = true
		}
	}
	return out
}

// with returns a step input as a string.
func (s step) with(name string) string {
	if v, ok := s.With[name]; ok && v != nil {
		return fmt.Sprint(v)
	}
	return ""
}

// action is the action a step uses without its version, lower case.
func (s step) action() string {
	a, _, _ := strings.Cut(s.Uses, "@")
	return strings.ToLower(a)
}

// pinnedActions are the actions (lower case) and the major versions the
// workflows must pin.
var pinnedActions = map[string]string{
	"actions/checkout":       "v4",
	"actions/setup-go":       "v5",
	"azure/login":            "v2",
	"azure/functions-action": "v1",
}

var majorPin = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@v[0-9]+$`)

// azureInput is how azure/login's IDs must be given: from secrets or variables.
var azureInput = regexp.MustCompile(`^\$\{\{\s*(secrets|vars)\.[A-Za-z0-9_]+\s*\}\}$`)

// CheckWorkflows checks the GitHub workflows in dir: one that vets, tests and
// packages on every push and pull request, and one that builds the package and
// deploys it with OIDC in the same job, then optionally links the pipeline's
// identity with `handler link`.
func CheckWorkflows(dir string) []error {
	var p problems
	paths, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
	more, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	paths = append(paths, more...)
	sort.Strings(paths)
	if len(paths) == 0 {
		return []error{fmt.Errorf("%s: no workflows", dir)}
	}
	var ci, deploy []*workflow
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			p.add(err)
			continue
		}
		w := &workflow{path: path}
		if err := yaml.Unmarshal(raw, w); err != nil {
			p.addf(path, "%v", err)
			continue
		}
		if len(w.Jobs) == 0 {
			p.addf(path, "no jobs")
		}
		for _, name := range sortedKeys(w.Jobs) {
			for _, s := range w.Jobs[name].Steps {
				checkPin(s, &p, path, name)
			}
		}
		ev := w.events()
		if ev["push"] && ev["pull_request"] {
			ci = append(ci, w)
		}
		for _, j := range w.Jobs {
			for _, s := range j.Steps {
				if s.action() == "azure/functions-action" {
					deploy = append(deploy, w)
				}
			}
		}
	}
	if len(ci) == 0 {
		p.addf(dir, "no workflow runs on both push and pull_request")
	}
	for _, w := range ci {
		checkCI(w, &p)
	}
	if len(deploy) == 0 {
		p.addf(dir, "no workflow deploys with Azure/functions-action")
	}
	for _, w := range deploy {
		checkDeploy(w, &p)
	}
	return p
}

// checkPin requires actions pinned to a major version, the ones we know to the
// major the design names.
func checkPin(s step, p *problems, path, job string) {
	if s.Uses == "" {
		return
	}
	if !majorPin.MatchString(s.Uses) {
		p.addf(path, "job %s: uses %q: pin actions to a major version (owner/repo@vN)", job, s.Uses)
		return
	}
	_, version, _ := strings.Cut(s.Uses, "@")
	if want, ok := pinnedActions[s.action()]; ok && version != want {
		p.addf(path, "job %s: uses %q, want @%s", job, s.Uses, want)
	}
	if s.action() == "actions/setup-go" && s.with("go-version-file") != "go.mod" {
		p.addf(path, "job %s: actions/setup-go must read the Go version from go.mod (go-version-file: go.mod)", job)
	}
}

// firstRun returns the index of the first step whose run script contains cmd, or -1.
func firstRun(steps []step, cmd string) int {
	for i, s := range steps {
		if strings.Contains(s.Run, cmd) {
			return i
		}
	}
	return -1
}

// firstUse returns the index of the first step using action (lower case, no version), or -1.
func firstUse(steps []step, action string) int {
	for i, s := range steps {
		if s.action() == action {
			return i
		}
	}
	return -1
}

func checkCI(w *workflow, p *problems) {
	ok := false
	for _, j := range w.Jobs {
		vet := max(firstRun(j.Steps, "go vet"), firstRun(j.Steps, ".ci/run"))
		test := max(firstRun(j.Steps, "go test"), firstRun(j.Steps, ".ci/run"))
		pkg := firstRun(j.Steps, "make package")
		if firstUse(j.Steps, "actions/checkout") >= 0 && firstUse(j.Steps, "actions/setup-go") >= 0 && vet >= 0 && test >= 0 && pkg > test {
			ok = true
		}
	}
	if !ok {
		p.addf(w.path, "want a job that checks out, sets up Go, vets and tests (go vet/go test or bash .ci/run), then runs make package")
	}
	if w.Permissions["contents"] != "read" || len(w.Permissions) != 1 {
		p.addf(w.path, "permissions: want only contents: read")
	}
}

func checkDeploy(w *workflow, p *problems) {
	if w.events()["pull_request"] || w.events()["pull_request_target"] {
		p.addf(w.path, "the deploy workflow must not run for pull requests")
	}
	for _, name := range sortedKeys(w.Jobs) {
		j := w.Jobs[name]
		deploy := firstUse(j.Steps, "azure/functions-action")
		if deploy < 0 {
			continue
		}
		at := fmt.Sprintf("%s: job %s", w.path, name)
		perms := j.Permissions
		if perms == nil {
			perms = w.Permissions
		}
		if perms["id-token"] != "write" || perms["contents"] != "read" {
			p.addf(at, "permissions: want id-token: write (OIDC) and contents: read, got %v", perms)
		}
		for k, v := range perms {
			if v == "write" && k != "id-token" {
				p.addf(at, "permissions: %s: write is more than a deploy needs", k)
			}
		}
		pkg := firstRun(j.Steps, "make package")
		if pkg < 0 || pkg > deploy {
			p.addf(at, "make package must run in the same job before the deploy (an artifact round trip loses the handler's execute bit)")
		}
		if firstUse(j.Steps, "actions/download-artifact") >= 0 {
			p.addf(at, "the deploy job must build the package itself, not download it")
		}
		login := firstUse(j.Steps, "azure/login")
		if login < 0 || login > deploy {
			p.addf(at, "azure/login must run before the deploy")
		} else {
			l := j.Steps[login]
			for _, in := range []string{"client-id", "tenant-id", "subscription-id"} {
				if !azureInput.MatchString(l.with(in)) {
					p.addf(at, "azure/login: %s = %q, want ${{ secrets.NAME }} or ${{ vars.NAME }} (OIDC federated credential)", in, l.with(in))
				}
			}
			if l.with("creds") != "" {
				p.addf(at, "azure/login: creds is a client secret; use OIDC (client-id, tenant-id, subscription-id)")
			}
		}
		d := j.Steps[deploy]
		if d.with("package") != "dist/functionapp.zip" {
			p.addf(at, "Azure/functions-action: package = %q, want dist/functionapp.zip", d.with("package"))
		}
		if d.with("sku") != "flexconsumption" {
			p.addf(at, "Azure/functions-action: sku = %q, want flexconsumption", d.with("sku"))
		}
		if d.with("app-name") == "" {
			p.addf(at, "Azure/functions-action: app-name is not set")
		}
		if d.with("publish-profile") != "" {
			p.addf(at, "Azure/functions-action: publish-profile is a secret; deploy with the OIDC login")
		}
		if rb := d.with("remote-build"); rb != "" && rb != "false" {
			p.addf(at, "Azure/functions-action: remote-build must be false (the package is built here)")
		}
		link := firstRun(j.Steps, "handler link")
		if link < 0 {
			p.addf(at, "no step links the pipeline's identity to the partner ID (handler link)")
			continue
		}
		ls := j.Steps[link]
		if link < login {
			p.addf(at, "handler link must run after azure/login (it uses that session)")
		}
		if ls.Env["PAL_CREDENTIAL"] != "azurecli" {
			p.addf(at, "handler link step: env PAL_CREDENTIAL must be azurecli (the azure/login session)")
		}
		if ls.Env["PAL_PARTNER_ID"] == "" {
			p.addf(at, "handler link step: env PAL_PARTNER_ID is not set")
		}
		if ls.If == "" {
			p.addf(at, "handler link step: want an if: so that linking is optional")
		}
	}
}
