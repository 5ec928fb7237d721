package doccheck

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
)

// maxReadmeLines is the most lines README.md may have; the rest belongs in docs/.
const maxReadmeLines = 200

// firstCommands are the commands README.md's first code block must hold, in
// this order: the sandbox, then the test command CI runs.
var firstCommands = []string{"go run ./cmd/sandbox", "go test -race -count=1 ./..."}

// outsideCitations match a citation of a document outside the repository: the
// design and research notes the project started from. They are built so that
// this file does not match itself.
var outsideCitations = []*regexp.Regexp{
	regexp.MustCompile(`\bDESIGN` + `\b`),
	regexp.MustCompile(`\.\./` + `shared\b`),
	regexp.MustCompile(`/work/` + `(shared|issues)\b`),
	regexp.MustCompile(`\breference/` + `(pal|functions|infra|style)\.md`),
	regexp.MustCompile(`(^|[^A-Za-z0-9_./-])(pal|functions|infra|style)\.md` + `\b`),
}

// citationHints are substrings of every match of outsideCitations: a line
// holding none of them cites nothing, and is not run through the regular
// expressions (slow under -race, for the whole repository's text).
var citationHints = []string{"DES" + "IGN", "../" + "shared", "/work/", ".md"}

// mayCite reports whether line holds a citationHint.
func mayCite(line string) bool {
	for _, h := range citationHints {
		if strings.Contains(line, h) {
			return true
		}
	}
	return false
}

// skipDirs are not part of the repository's text: VCS data, build output,
// Terraform's provider cache.
var skipDirs = map[string]bool{".git": true, "dist": true, "bin": true, ".terraform": true, "node_modules": true}

// checkReadme checks that README.md has at most maxReadmeLines lines and that
// its first code block holds firstCommands, in order, each at the start of a line.
func checkReadme(root string) []error {
	raw, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		return []error{err}
	}
	var errs []error
	text := strings.TrimRight(string(raw), "\n")
	if n := strings.Count(text, "\n") + 1; n > maxReadmeLines {
		errs = append(errs, fmt.Errorf("README.md: %d lines, want at most %d: move the detail to docs/", n, maxReadmeLines))
	}
	block, ok := firstCodeBlock(text)
	if !ok {
		return append(errs, fmt.Errorf("README.md: no code block; want one with %q first", firstCommands))
	}
	lines := strings.Split(block, "\n")
	next := 0
	for _, l := range lines {
		if next < len(firstCommands) && (l == firstCommands[next] || strings.HasPrefix(l, firstCommands[next]+" ")) {
			next++
		}
	}
	if next < len(firstCommands) {
		errs = append(errs, fmt.Errorf("README.md: the first code block lacks %q (want the lines %q, in order)", firstCommands[next], firstCommands))
	}
	if before := strings.Index(text, "```"); strings.Count(text[:before], "\n") > 5 {
		errs = append(errs, fmt.Errorf("README.md: the first code block starts on line %d; want the commands at the very top", strings.Count(text[:before], "\n")+1))
	}
	return errs
}

// firstCodeBlock returns the content of the first fenced code block of doc.
func firstCodeBlock(doc string) (string, bool) {
	start := strings.Index(doc, "```")
	if start < 0 {
		return "", false
	}
	rest := doc[start+3:]
	nl := strings.IndexByte(rest, '\n')
	if nl < 0 {
		return "", false
	}
	rest = rest[nl+1:]
	end := strings.Index(rest, "```")
	if end < 0 {
		return "", false
	}
	return strings.TrimRight(rest[:end], "\n"), true
}

// mdLink matches an inline markdown link or image: [text](target) with an
// optional title.
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)

// checkLinks checks every relative link in README.md and docs/*.md: the
// file it names exists, and a #fragment names a heading of the markdown file
// it points into. Links with a scheme (https:, mailto:) are not followed.
func checkLinks(root string) []error {
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		return []error{err}
	}
	files := append([]string{filepath.Join(root, "README.md")}, docs...)
	anchors := map[string]map[string]bool{}
	var errs []error
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rel, _ := filepath.Rel(root, f)
		rel = filepath.ToSlash(rel)
		for i, line := range outsideCode(string(raw)) {
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				if err := checkLink(root, rel, m[1], anchors); err != nil {
					errs = append(errs, fmt.Errorf("%s:%d: %w", rel, i+1, err))
				}
			}
		}
	}
	return errs
}

// outsideCode returns the lines of a markdown document with fenced code
// blocks and inline code spans blanked out, keeping line numbers.
func outsideCode(doc string) []string {
	lines := strings.Split(doc, "\n")
	fenced := false
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			fenced = !fenced
			lines[i] = ""
			continue
		}
		if fenced {
			lines[i] = ""
			continue
		}
		lines[i] = codeSpan.ReplaceAllString(l, "``")
	}
	return lines
}

var codeSpan = regexp.MustCompile("`[^`]*`")

// checkLink checks one link target found in the file from (slash-separated,
// relative to root).
func checkLink(root, from, target string, anchors map[string]map[string]bool) error {
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("link %q: %w", target, err)
	}
	if u.Scheme != "" || u.Host != "" {
		return nil
	}
	file := from
	if u.Path != "" {
		if strings.HasPrefix(u.Path, "/") {
			return fmt.Errorf("link %q: absolute path; use a path relative to %s", target, from)
		}
		file = path.Clean(path.Join(path.Dir(from), u.Path))
		if file == ".." || strings.HasPrefix(file, "../") {
			return fmt.Errorf("link %q leaves the repository", target)
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(file))); err != nil {
			return fmt.Errorf("link %q: %s does not exist", target, file)
		}
	}
	if u.Fragment == "" || !strings.HasSuffix(file, ".md") {
		return nil
	}
	set, ok := anchors[file]
	if !ok {
		raw, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
		if err != nil {
			return fmt.Errorf("link %q: %w", target, err)
		}
		set = headingAnchors(string(raw))
		anchors[file] = set
	}
	if !set[u.Fragment] {
		return fmt.Errorf("link %q: %s has no heading with the anchor #%s", target, file, u.Fragment)
	}
	return nil
}

// headingAnchors returns the anchors GitHub gives the headings of a markdown
// document: lower case, punctuation removed, spaces as hyphens, and -1, -2, …
// appended to repeats.
func headingAnchors(doc string) map[string]bool {
	set := map[string]bool{}
	seen := map[string]int{}
	fenced := false
	for _, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			fenced = !fenced
			continue
		}
		if fenced || !strings.HasPrefix(l, "#") {
			continue
		}
		title := strings.TrimSpace(strings.TrimLeft(l, "#"))
		a := slug(title)
		if n := seen[a]; n > 0 {
			set[fmt.Sprintf("%s-%d", a, n)] = true
		} else {
			set[a] = true
		}
		seen[a]++
	}
	return set
}

// slug is GitHub's heading anchor: letters, digits, '-' and '_' kept (lower
// case), spaces turned into '-', everything else dropped.
func slug(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(title) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

// checkCitations reports every line of every text file under root that cites
// a document outside the repository (the project's original design notes and
// research files): comments and docs must point at docs/ instead.
func checkCitations(root string) []error {
	var errs []error
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Name() == ".git" && p != root {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil // a worktree's .git file
		}
		if d.IsDir() {
			if p != root && skipDirs[d.Name()] {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.IndexByte(raw, 0) >= 0 {
			return nil // binary
		}
		rel, _ := filepath.Rel(root, p)
		for i, line := range strings.Split(string(raw), "\n") {
			if !mayCite(line) {
				continue
			}
			for _, re := range outsideCitations {
				if loc := re.FindStringIndex(line); loc != nil {
					errs = append(errs, fmt.Errorf("%s:%d: cites a document outside the repository (%q); point to docs/ instead",
						filepath.ToSlash(rel), i+1, strings.TrimSpace(line[loc[0]:loc[1]])))
					break
				}
			}
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return errs
}
