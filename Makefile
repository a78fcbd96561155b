# Quarry — common tasks. Everything runs through the Go toolchain; sqlc is a Go tool
# pinned in tools/go.mod, so nothing is downloaded outside the Go module proxy.

GO    ?= go
SQLC  := $(GO) tool -modfile=tools/go.mod sqlc
API   := $(GO) run ./cmd/api
# Name of the migration `make generate` writes when schema/ changed.
NAME  ?= schema_change

.PHONY: all run build generate check test fmt vet sqlc-check store-check atlas-check migrations-check openapi-check gen-check docs-check bench bench-targets faults

all: check test

## run: start PostgreSQL if needed (project-local cluster under .data/), create and migrate the database, serve the API
run:
	$(API) dev

build:
	$(GO) build -o bin/api ./cmd/api

## generate: regenerate sqlc code from queries/, write a migration if schema/ changed, and rewrite api/openapi.yaml
generate:
	$(SQLC) generate
	$(GO) generate ./internal/db
	$(API) migrate diff $(NAME)
	$(API) openapi -o api/openapi.yaml

## check: formatting, vet, generated code, migrations (in sync and linted) and the API document up to date
## (LINT_BASE=ref lints the migrations not on ref; default: those not on the merge base with main)
check: fmt vet sqlc-check store-check atlas-check migrations-check gen-check openapi-check

# fmt: every Go file, tracked or not yet (git's ignored files excepted).
fmt:
	@files=$$(git ls-files --cached --others --exclude-standard '*.go' 2>/dev/null || find . -name '*.go' -not -path './.data/*'); \
	out=$$(for f in $$files; do [ -f "$$f" ] && echo "$$f"; done | xargs -r gofmt -l); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

sqlc-check:
	$(SQLC) vet
	@$(SQLC) diff || { echo "internal/db/sqlc is stale: run 'make generate' and commit the result"; exit 1; }

# store-check: internal/db/*_gen.go are current (query wrapper, constraint names).
store-check:
	cd internal/db && $(GO) run ./dbgen -check

# atlas-check: atlas.hcl lists every file of schema/ (the Atlas CLI reads only those).
atlas-check:
	@missing=$$(for f in schema/*.sql; do grep -q "\"file://$$f\"" atlas.hcl || echo "$$f"; done); \
	if [ -n "$$missing" ]; then echo "atlas.hcl does not list:"; echo "$$missing"; echo "add them to locals.schema, in dependency order"; exit 1; fi

migrations-check:
	$(API) migrate validate
	$(API) migrate diff --check ci_check
	$(API) migrate lint $(if $(LINT_BASE),--base $(LINT_BASE))

# gen-check: every generated module (internal/modules/*/module_gen.go) is what
# `api gen module` writes for schema/ today.
gen-check:
	$(API) gen module --check

openapi-check:
	@$(API) openapi -o - | diff -u api/openapi.yaml - || { echo "api/openapi.yaml is stale: run 'make generate' and commit the result"; exit 1; }

## docs-check: open /docs in headless Chromium and check every module is rendered (needs PostgreSQL)
docs-check:
	bash scripts/docs-check.sh

## bench: three-way load comparison (full stack, bare gin+pgx, pgbench)
bench:
	bench/run.sh

## bench-targets: every performance target (reads, signed-in reads, lists, audited writes, memory, login flood) against its bare baseline, one table of ratios (about 8 minutes; PROFILE=1 adds CPU profiles per scenario)
bench-targets:
	bench/targets.sh

## faults: the fault suite (own PostgreSQL and Redis on free ports; about a minute): database restart and outage, Redis hang and kill, slow bodies, pool exhaustion, SIGTERM, two instances
faults:
	$(GO) run ./bench/faults

## test: the whole suite against a real PostgreSQL (started on the fly if none answers)
test:
	$(GO) test -count=1 ./...
