// Package doccheck checks pal-keeper's documentation offline, as part of
// `go test ./...`: README.md stays short and opens with the two commands a new
// user runs, every relative link in README.md and docs/*.md reaches an existing
// file (and heading), and no file in the repository cites a document that lives
// outside it. The checks live in this package's tests only: nothing here is
// linked into a binary.
package doccheck
