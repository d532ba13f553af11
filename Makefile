# The two commands the README starts with: `make run` and `make test`.
.PHONY: run test bench fmt lint

DATABASE_URL ?= sqlite://keel.db

## Build the web app and Keel (which embeds it), run on SQLite with demo data; prints the URL and the login.
run:
	bash scripts/build-web.sh
	DATABASE_URL=$(DATABASE_URL) cargo run -p keel -- serve --demo

## Every check and test, on SQLite and PostgreSQL, browser tests included (starts or installs PostgreSQL and Chromium if needed).
test:
	bash scripts/test.sh

## Seed large databases and measure list/search latency and the web app's bundle and first screens (see docs/BENCHMARKS.md).
bench:
	bash scripts/bench.sh
	bash scripts/bench-web.sh

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings
