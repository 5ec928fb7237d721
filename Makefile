# pal-keeper build targets. Needs Go 1.26; nothing else.
GO ?= go

# PACKAGE_GOTOOLCHAIN is the Go release that builds the shipped handler (make app,
# make package): newer than go.mod's go line, which stays 1.26 so that building
# and testing need only Go 1.26. The go command fetches it from the module proxy
# on first use (golang.org/toolchain, ~76 MB). .ci/run scans the same build with
# govulncheck. It carries the standard-library fixes go1.26.8 lacks
# (docs/reference.md, "The shipped binary's Go release").
PACKAGE_GOTOOLCHAIN := go1.27.3
FUNCTIONS := $(notdir $(wildcard functions/*))

.PHONY: test infracheck ci bench sandbox app package templ clean

test:
	$(GO) test -race -count=1 ./...

# The offline infra checks: their own module (tools/infracheck/go.mod).
infracheck:
	cd tools/infracheck && $(GO) test -count=1 ./...

ci:
	bash .ci/run

# bench runs the scale benchmarks (docs/development.md): the in-process sweep of
# 10,000 subscriptions in 1,000 tenants with 40 ms on every ARM request, through
# the real handler binary, 100 whole-tenant onboarding requests in that estate,
# and the distributed sweep of that estate by 1, 2 and 4 handler processes
# (BenchmarkFanout; needs azurite-table); and the compliance record at partner
# scale: 100,000 subscriptions with a year of history in Azurite, the views'
# reads, the CSV's memory and the sweep's Table requests (BenchmarkRecordAtScale).
# The dashboard's render benchmark is BenchmarkDashboard10k in internal/web.
bench:
	$(GO) test -run '^$$' -bench 'BenchmarkSweep10k|BenchmarkOnboardWholeTenant10k|BenchmarkFanout' -benchtime 1x ./handler/
	$(GO) test -run '^$$' -bench 'BenchmarkRecordAtScale' -benchtime 1x -timeout 60m ./internal/record/

sandbox:
	$(GO) run ./cmd/sandbox

# app assembles a function app root in dist/app (host.json, the linux/amd64
# handler executable, one folder per function), ready for `func start` or zipping.
app:
	rm -rf dist/app
	mkdir -p dist/app
	GOTOOLCHAIN=$(PACKAGE_GOTOOLCHAIN) CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags="-s -w" -o dist/app/handler ./handler
	chmod 0755 dist/app/handler
	cp host.json dist/app/
	for f in $(FUNCTIONS); do mkdir -p dist/app/$$f && cp functions/$$f/function.json dist/app/$$f/; done

# package writes dist/functionapp.zip, the Azure Functions deployment package:
# host.json, the handler (linux/amd64, cgo off, mode 0755) and <function>/function.json
# at the zip root, nothing else. Written by a Go tool, so it needs no zip command;
# the handler is built by PACKAGE_GOTOOLCHAIN.
package:
	GOTOOLCHAIN=$(PACKAGE_GOTOOLCHAIN) $(GO) run ./internal/tools/mkzip -go $(GO) -root . -o dist/functionapp.zip

# templ regenerates the dashboard's pages (internal/web/pages_templ.go) from
# internal/web/pages.templ with the templ release go.mod requires (.ci/templ).
templ:
	GO=$(GO) bash .ci/templ

clean:
	rm -rf dist
