package infracheck

import (
	"go/version"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The Go the shipped handler is built by (issue 15 item 10): PACKAGE_GOTOOLCHAIN
// in the Makefile, newer than go.mod's go line, which stays 1.26 so that the
// README's commands need only Go 1.26.
var (
	packageToolchainLine = regexp.MustCompile(`(?m)^PACKAGE_GOTOOLCHAIN := (go1\.[0-9]+\.[0-9]+)$`)
	goLine               = regexp.MustCompile(`(?m)^go (1\.[0-9]+(\.[0-9]+)?)$`)
	toolchainLine        = regexp.MustCompile(`(?m)^toolchain `)
)

// CheckBuild checks the package build under root: the Makefile's app and
// package targets build the handler with GOTOOLCHAIN=$(PACKAGE_GOTOOLCHAIN), a
// release newer than go.mod's go line; go.mod stays on the 1.26 line with no
// toolchain directive (which would make Go 1.26 fetch a newer Go for every
// build and test); and .ci/run builds govulncheck with that toolchain (it
// type-checks with its own go/types), scans the build for linux/amd64 with it
// and has vulncheck refuse a scan by another release.
func CheckBuild(root string) []error {
	var p problems
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			p.add(err)
			return ""
		}
		return string(b)
	}
	mk, mod, ci := read("Makefile"), read("go.mod"), read(filepath.Join(".ci", "run"))
	if mk == "" || mod == "" || ci == "" {
		return p
	}
	m := packageToolchainLine.FindStringSubmatch(mk)
	if m == nil {
		p.addf("Makefile", "want PACKAGE_GOTOOLCHAIN := go1.N.P, the Go release that builds the shipped handler")
		return p
	}
	tc := m[1]
	for _, target := range []string{"app", "package"} {
		body := makeRecipe(mk, target)
		if !strings.Contains(body, "GOTOOLCHAIN=$(PACKAGE_GOTOOLCHAIN) ") {
			p.addf("Makefile", "target %s must build with GOTOOLCHAIN=$(PACKAGE_GOTOOLCHAIN)", target)
		}
	}
	g := goLine.FindStringSubmatch(mod)
	switch {
	case g == nil:
		p.addf("go.mod", "no go line")
	case !strings.HasPrefix(g[1], "1.26"):
		p.addf("go.mod", "go %s, want the 1.26 line (the README's commands need only Go 1.26; the package is built by %s)", g[1], tc)
	case version.Compare(tc, "go"+g[1]) <= 0:
		p.addf("Makefile", "PACKAGE_GOTOOLCHAIN %s is not newer than go.mod's go %s", tc, g[1])
	}
	if toolchainLine.MatchString(mod) {
		p.addf("go.mod", "no toolchain directive: it would make Go 1.26 fetch another Go for every build and test; the package build sets GOTOOLCHAIN itself")
	}
	for _, want := range []string{
		`package_toolchain="$(sed -n 's/^PACKAGE_GOTOOLCHAIN := *//p' Makefile)"`,
		`GOTOOLCHAIN="$package_toolchain" go install "golang.org/x/vuln/cmd/govulncheck@`,
		`GOTOOLCHAIN="$package_toolchain" CGO_ENABLED=0 GOOS=linux GOARCH=amd64`,
		`go run ./internal/tools/vulncheck -go "$package_toolchain"`,
	} {
		if !strings.Contains(ci, want) {
			p.addf(filepath.Join(".ci", "run"), "govulncheck must scan the package build: want %s", want)
		}
	}
	return p
}

// makeRecipe returns the recipe lines of target in a Makefile.
func makeRecipe(mk, target string) string {
	var b strings.Builder
	in := false
	for _, line := range strings.Split(mk, "\n") {
		switch {
		case strings.HasPrefix(line, target+":"):
			in = true
		case in && strings.HasPrefix(line, "\t"):
			b.WriteString(line + "\n")
		case in:
			return b.String()
		}
	}
	return b.String()
}
