# Everything a developer or CI runs goes through these targets.
GO        ?= go
PKGS      := ./...
TEST_FLAGS ?= -count=1 -timeout 9m

.PHONY: run worker cluster seed-demo build test unit lint swagger swagger-check bench fuzz tidy

## run: the whole system in one process (Postgres and Redis on localhost)
run:
	$(GO) run ./cmd/server

## worker: relay, projectors and sagas without HTTP
worker:
	$(GO) run ./cmd/worker

## cluster: two servers (:8000, :8002) and a worker (:8001) on the local Postgres and Redis; Ctrl-C stops all
cluster: build
	@trap 'kill $$pids 2>/dev/null; wait' INT TERM EXIT; \
	JWT_SECRET=$${JWT_SECRET:-cluster-local-secret}; export JWT_SECRET; \
	HTTP_ADDR=:8000 bin/server & pids=$$!; \
	until HTTP_ADDR=:8000 bin/server -healthcheck 2>/dev/null; do kill -0 $$pids || exit 1; sleep 0.2; done; \
	HTTP_ADDR=:8002 bin/server & pids="$$pids $$!"; \
	WORKER_HTTP_ADDR=:8001 bin/worker & pids="$$pids $$!"; \
	echo "servers on :8000 and :8002, worker health on :8001; Ctrl-C stops them"; \
	wait

## seed-demo: a demo company in the local database (logins printed at the end)
seed-demo:
	$(GO) run ./cmd/etctl seed-demo

## build: static binaries into bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/ ./cmd/...

## test: lint, stale-Swagger check, then every test against the real Postgres and Redis
test: lint swagger-check
	$(GO) test $(TEST_FLAGS) $(PKGS)

## lint: gofmt, go vet and staticcheck (pinned in go.mod as a tool)
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

## swagger: regenerate the OpenAPI document from the handlers' annotations
swagger:
	$(GO) tool swag init --quiet --generalInfo http/swagger.go --dir ./ --output docs/swagger --outputTypes go,json,yaml --parseInternal

## swagger-check: fail when the committed OpenAPI document is stale
swagger-check:
	@tmp=$$(mktemp -d); \
	$(GO) tool swag init --quiet --generalInfo http/swagger.go --dir ./ --output $$tmp --outputTypes json --parseInternal >/dev/null && \
	if ! diff -q $$tmp/swagger.json docs/swagger/swagger.json >/dev/null; then \
		echo "docs/swagger is stale: run 'make swagger' and commit the result"; rm -rf $$tmp; exit 1; fi; \
	rm -rf $$tmp

## bench: every benchmark of the project, printing figures and targets
bench:
	$(GO) run ./cmd/bench all

## fuzz: a short run of each fuzz target (the seed corpus always runs in make test)
fuzz:
	$(GO) test ./domain/calendar -run '^$$' -fuzz FuzzCountWorkdays -fuzztime 20s
	$(GO) test ./eventstore -run '^$$' -fuzz FuzzCodecDecode -fuzztime 20s
	$(GO) test ./eventstore -run '^$$' -fuzz FuzzOpenInPlace -fuzztime 20s
	$(GO) test ./http -run '^$$' -fuzz '^FuzzDecoders$$' -fuzztime 20s
	$(GO) test ./http -run '^$$' -fuzz '^FuzzRequestText$$' -fuzztime 20s
	$(GO) test ./http -run '^$$' -fuzz '^FuzzParseImport$$' -fuzztime 20s
	$(GO) test ./projections/bus -run '^$$' -fuzz FuzzReadEnvelope -fuzztime 20s
	$(GO) test ./projections/bus -run '^$$' -fuzz FuzzUnmarshalEntry -fuzztime 20s
