# kms: the two commands of the README's Quick start are `make run` and `make test`.
SWIFT ?= swift
KMS = .build/debug/kms

.PHONY: run test build deps test-deps test-swift test-e2e bench demo clean

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh --test

build: deps
	$(SWIFT) build --product kms

## Run the server on the embedded store (data in ./.kms-data), building whatever is missing.
run: build
	$(KMS) serve

## The whole suite: Swift unit and route tests on SQLite and Postgres, then the end-to-end
## suite against the real binary. Starts (and stops) its own PostgreSQL.
test: test-deps
	$(SWIFT) build --build-tests
	@scripts/run-tests.sh

test-swift:
	@scripts/run-tests.sh swift

test-e2e:
	@scripts/run-tests.sh e2e

## A guided tour on a local AWS emulator, with the kms CLI only.
demo:
	@scripts/demo.sh

## Benchmarks (release build); results go to docs/benchmarks.md.
bench: test-deps
	$(SWIFT) build -c release --product kms
	@scripts/run-tests.sh bench

clean:
	rm -rf .build .kms-data
