# Flowgate: the two commands of the README, and their parts.
#   make run   installs what is missing, builds (release), serves on http://127.0.0.1:3000
#   make test  installs what is missing, runs cargo tests, then the Playwright suite
# Each install step is skipped when the pinned tool is already there.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

CARGO_LEPTOS_VERSION := 0.3.10
# Must equal the wasm-bindgen version in Cargo.lock (pinned with `=` in Cargo.toml).
WASM_BINDGEN_VERSION := 0.2.130
# Debian's binaryen 108 writes wasm that breaks hydration: use npm's build instead.
BINARYEN_VERSION := 132.0.0

TOOLS := $(CURDIR)/.tools
export PATH := $(HOME)/.cargo/bin:$(TOOLS)/node_modules/.bin:$(PATH)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The publish gate against the measuring stick (issue 10): a release build, then the harness's
# compare.sh with Flowgate as a third target; prints the table. BENCH_HARNESS names the harness
# folder (default ../shared/bench); extra options go to compare.sh through BENCH_ARGS.
BENCH_HARNESS ?= $(CURDIR)/../shared/bench

.PHONY: bench soak drain bench-ui run test tools wasm-opt e2e-deps pymisp-deps misp-modules-deps build-debug build-release unit e2e pymisp fmt lint clean

# Settings from .env (see .env.example) are read by the shell, so `$`, `#` and quotes in values
# mean what they mean in a shell file, not what make would make of them.
run: tools wasm-opt build-release
	if [ -f .env ]; then set -a; . ./.env; set +a; fi; \
	LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=flowgate \
	  exec ./target/release/server

test: tools e2e-deps pymisp-deps misp-modules-deps unit build-debug e2e pymisp

## Tools, pinned; each installed only when missing or at another version.
tools:
	@command -v cargo >/dev/null || { echo "cargo is missing: install Rust with rustup first"; exit 1; }
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@if [ "$$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $(CARGO_LEPTOS_VERSION)" ]; then \
	  echo "installing cargo-leptos $(CARGO_LEPTOS_VERSION) (about 13 minutes on 2 cores)"; \
	  cargo install cargo-leptos --locked --version $(CARGO_LEPTOS_VERSION) --features no_downloads; \
	fi
	@if [ "$$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $(WASM_BINDGEN_VERSION)" ]; then \
	  echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (about 4 minutes)"; \
	  CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION); \
	fi

wasm-opt:
	@command -v npm >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y nodejs npm; }
	@if [ ! -x "$(TOOLS)/node_modules/.bin/wasm-opt" ]; then \
	  npm install --prefix "$(TOOLS)" --no-audit --no-fund --no-save binaryen@$(BINARYEN_VERSION); \
	fi

e2e-deps:
	@[ -x /usr/bin/chromium ] || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }
	@command -v npm >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y nodejs npm; }
	@cd end2end && { [ -d node_modules/@playwright/test ] || PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund; }
	@mkdir -p end2end/screenshots

# PyMISP (the real MISP client) and pytest in a virtualenv, reinstalled when the pins change.
PYMISP_VENV := $(TOOLS)/pymisp-venv
pymisp-deps:
	@command -v python3 >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y python3 python3-venv; }
	@if ! cmp -s end2end/pymisp/requirements.txt $(PYMISP_VENV)/requirements.txt; then \
	  rm -rf $(PYMISP_VENV) && python3 -m venv $(PYMISP_VENV) && \
	  $(PYMISP_VENV)/bin/pip install --quiet --disable-pip-version-check -r end2end/pymisp/requirements.txt && \
	  cp end2end/pymisp/requirements.txt $(PYMISP_VENV)/requirements.txt; \
	fi

# A real misp-modules server for the action-module tests (its `testaction` module), in a
# virtualenv, reinstalled when the pin changes. The tests start it on a free loopback port.
MISP_MODULES_VENV := $(TOOLS)/misp-modules-venv
MISP_MODULES_VERSION := 3.1.1
misp-modules-deps:
	@command -v python3 >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y python3 python3-venv; }
	@if [ "$$(cat $(MISP_MODULES_VENV)/version 2>/dev/null)" != "$(MISP_MODULES_VERSION)" ]; then \
	  rm -rf $(MISP_MODULES_VENV) && python3 -m venv $(MISP_MODULES_VENV) && \
	  $(MISP_MODULES_VENV)/bin/pip install --quiet --disable-pip-version-check misp-modules==$(MISP_MODULES_VERSION) && \
	  echo $(MISP_MODULES_VERSION) > $(MISP_MODULES_VENV)/version; \
	fi

## Builds.
build-debug:
	cargo leptos build

build-release:
	cargo leptos build --release

## Tests.
unit:
	FLOWGATE_MISP_MODULES_BIN=$(MISP_MODULES_VENV)/bin/misp-modules cargo test --workspace

e2e:
	cd end2end && FLOWGATE_SERVER_BIN=$(CURDIR)/target/debug/server npx playwright test

# PyMISP against a fresh server (SQLite, and PostgreSQL when FLOWGATE_TEST_POSTGRES_URL is set).
pymisp:
	FLOWGATE_SERVER_BIN=$(CURDIR)/target/debug/server $(PYMISP_VENV)/bin/pytest -q end2end/pymisp

bench:
	@command -v wrk >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y wrk; }
	cargo build --release -p server
	BENCH_HARNESS=$(BENCH_HARNESS) server/benches/gate/run.sh $(BENCH_ARGS)

# Ten minutes of mixed MISP actions against a release server with workflows listening
# (loopback only): fails on any error, a job left unfinished or dead, or growing memory.
SOAK_ARGS ?= --minutes 10 --clients 2
soak:
	cargo build --release -p server
	python3 server/benches/soak/soak.py $(SOAK_ARGS)

# Draining 10,000 queued jobs with one, then two release server processes (loopback webhook
# sink answering in DRAIN_SINK_MS); prints jobs/s. PostgreSQL too when
# FLOWGATE_TEST_POSTGRES_URL is set.
DRAIN_SINK_MS ?= 50
DRAIN_WORKERS ?= 8
drain:
	cargo build --release -p server
	FLOWGATE_TEST_SERVER_BIN=$(CURDIR)/target/release/server FLOWGATE_TEST_SINK_MS=$(DRAIN_SINK_MS) \
	  FLOWGATE_TEST_DRAIN_WORKERS=$(DRAIN_WORKERS) \
	  cargo test -p server --test processes two_processes -- --nocapture

# The editor's opening time on a 200-node workflow (release build, Debian Chromium); prints figures.
bench-ui: tools wasm-opt e2e-deps
	cargo leptos build --release
	cd end2end && FLOWGATE_SERVER_BIN=$(CURDIR)/target/release/server npx playwright test --config playwright.bench.config.ts

fmt:
	cargo fmt --all

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

clean:
	cargo clean
	rm -rf end2end/node_modules end2end/test-results end2end/screenshots $(TOOLS)
