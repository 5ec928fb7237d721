package doccheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot is the repository root seen from this package's directory.
const repoRoot = "../.."

// TestRepository runs every check on the repository as it is.
func TestRepository(t *testing.T) {
	for name, check := range map[string]func(string) []error{
		"README": checkReadme, "links": checkLinks, "citations": checkCitations,
	} {
		for _, err := range check(repoRoot) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// goodReadme passes checkReadme.
const goodReadme = "# x\n\n```sh\ngo run ./cmd/sandbox        # demo\ngo test -race -count=1 ./...    # tests\n```\n\nText.\n"

func TestCheckReadme(t *testing.T) {
	tests := []struct {
		name   string
		readme string
		want   string // "" means no problem
	}{
		{"good", goodReadme, ""},
		{"exactly the limit", goodReadme + strings.Repeat("line\n", maxReadmeLines-strings.Count(goodReadme, "\n")), ""},
		{"too long", goodReadme + strings.Repeat("line\n", maxReadmeLines), "want at most 200"},
		{"no code block", "# x\n\nText.\n", "no code block"},
		{"no sandbox", "# x\n\n```sh\ngo test -race -count=1 ./...\n```\n", `lacks "go run ./cmd/sandbox"`},
		{"old sandbox", "# x\n\n```sh\ngo run ./handler sandbox\ngo test -race -count=1 ./...\n```\n", `lacks "go run ./cmd/sandbox"`},
		{"test command without -race", "# x\n\n```sh\ngo run ./cmd/sandbox\ngo test ./...\n```\n", `lacks "go test -race -count=1 ./..."`},
		{"wrong order", "# x\n\n```sh\ngo test -race -count=1 ./...\ngo run ./cmd/sandbox\n```\n", "lacks"},
		{"commands far down", "# x\n\n1\n2\n3\n4\n5\n" + goodReadme[4:], "want the commands at the very top"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			write(t, root, "README.md", tt.readme)
			assertProblem(t, checkReadme(root), tt.want)
		})
	}
}

func TestCheckLinks(t *testing.T) {
	tests := []struct {
		name string
		doc  string // docs/a.md
		want string
	}{
		{"good", "# A\n\n## Two words, `code`\n\nSee [b](b.md), [b's part](b.md#part-one), [here](#two-words-code), [top](../README.md), [web](https://example.com/x.md#nope).\n", ""},
		{"missing file", "See [c](c.md).\n", "docs/c.md does not exist"},
		{"missing anchor", "See [b](b.md#part-two).\n", "docs/b.md has no heading with the anchor #part-two"},
		{"missing local anchor", "# A\n\nSee [x](#nowhere).\n", "docs/a.md has no heading with the anchor #nowhere"},
		{"outside the repository", "See [design](../../" + "shared/x.md).\n", "leaves the repository"},
		{"absolute path", "See [x](/docs/b.md).\n", "absolute path"},
		{"repeated heading", "## Part\n\n## Part\n\nSee [second](#part-1).\n", ""},
		{"link in code is not a link", "```\n[x](missing.md)\n```\n\nand `[y](missing.md)`\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			write(t, root, "README.md", goodReadme)
			write(t, root, "docs/b.md", "# B\n\n## Part one\n")
			write(t, root, "docs/a.md", tt.doc)
			assertProblem(t, checkLinks(root), tt.want)
		})
	}
}

func TestCheckCitations(t *testing.T) {
	// Built by concatenation so that this file does not cite them itself.
	design, ref := "DESI"+"GN.md", "reference/"+"pal"+".md"
	tests := []struct {
		name string
		file string
		text string
		want string
	}{
		{"clean Go comment", "internal/x/x.go", "// See docs/contracts.md, \"Result object\".\npackage x\n", ""},
		{"design in a comment", "internal/x/x.go", "package x\n\n// the result object of " + design + "\n", "internal/x/x.go:3: cites a document outside the repository"},
		{"reference file", "handler/x.go", "// (" + ref + " §3)\n", "handler/x.go:1:"},
		{"research note by name", "internal/x/x_test.go", "// functions" + ".md §1c\n", "internal/x/x_test.go:1:"},
		{"shared directory", "infra/main.tf", "# see ../" + "shared/x\n", "infra/main.tf:1:"},
		{"absolute path", "internal/azure/testdata/README.md", "from /work/" + "shared/reference\n", "internal/azure/testdata/README.md:1:"},
		{"in a script", ".ci/run", "# " + design + " says\n", ".ci/run:1:"},
		{"design by name in Terraform", "infra/roles.tf", "# (DESI" + "GN \"Failure semantics\"): send\n", "infra/roles.tf:1:"},
		{"a Microsoft page is fine", "docs/x.md", "<https://learn.microsoft.com/azure/azure-functions/functions-custom-handlers>, functions-bindings-timer.md\n", ""},
		{"build output is skipped", "dist/app/x.md", design + "\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			write(t, root, tt.file, tt.text)
			assertProblem(t, checkCitations(root), tt.want)
		})
	}
}

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Onboarding message", "onboarding-message"},
		{"host.json, and why", "hostjson-and-why"},
		{"1. Create the infrastructure (Terraform)", "1-create-the-infrastructure-terraform"},
		{"The link and sweep commands", "the-link-and-sweep-commands"},
		{"ARM throttling and azcore retries", "arm-throttling-and-azcore-retries"},
		{"`PAL_HTTP_ROLE` and roles", "pal_http_role-and-roles"},
	}
	for _, tt := range tests {
		if got := slug(tt.in); got != tt.want {
			t.Errorf("slug(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// assertProblem checks that errs is empty when want is "", else that one of
// them contains want.
func assertProblem(t *testing.T, errs []error, want string) {
	t.Helper()
	var all []string
	for _, err := range errs {
		all = append(all, err.Error())
	}
	if want == "" {
		if len(errs) > 0 {
			t.Errorf("got problems, want none:\n%s", strings.Join(all, "\n"))
		}
		return
	}
	for _, s := range all {
		if strings.Contains(s, want) {
			return
		}
	}
	t.Errorf("got %d problems, want one containing %q:\n%s", len(errs), want, strings.Join(all, "\n"))
}

func write(t *testing.T, root, rel, text string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
