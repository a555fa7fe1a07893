# obslab: build, serve and test.
#
#   make serve   install what is missing, then serve the lab at http://127.0.0.1:8080
#   make test    install what is missing, then run every test layer
#   make size    build the release bundle and print the raw and gzip sizes
#
# Installing is idempotent: a tool already present at the right version is
# left alone, so a second run installs nothing. A fresh machine needs only
# rustup/cargo, node/npm, python3 and apt; everything else comes from
# crates.io, npm and Debian packages (nothing downloads binaries).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules --no-print-directory

# wasm-opt comes from npm (binaryen); cargo-installed tools live in ~/.cargo/bin.
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

TRUNK_VERSION := 0.21.14
# The wasm-bindgen CLI must be exactly the library version in Cargo.lock.
WASM_BINDGEN_VERSION = $(shell awk '$$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
# Debian packages: the browser and its driver for the browser and end-to-end
# tests, prometheus for promtool (scripts/check-exports.sh).
APT_PACKAGES := chromium chromium-driver prometheus
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DIST := dist
SIZE_BUDGET := 350000
# Runs whose telemetry digest must be the same natively and in the browser.
DIGEST_RUNS := intermittent-p99:7:10m bookstore:7:10m slo-rollout:7:2d

.PHONY: help serve build test size size-report tools tools-build tools-test \
        apt-packages wasm-target trunk wasm-bindgen-cli node-deps \
        test-native test-exports test-promql test-wasm bench-wasm test-e2e native-digests clean-dist

help:
	@echo "make serve   serve the lab at http://127.0.0.1:8080 (release build)"
	@echo "make test    every test layer: native, exports, PromQL scripts, browser (wasm-bindgen), end-to-end (Playwright)"
	@echo "make size    raw and gzip sizes of the built wasm, js and css"
	@echo "make tools   install everything the above need (idempotent)"

# --- tools --------------------------------------------------------------------

tools: tools-test

tools-build: wasm-target trunk wasm-bindgen-cli node-deps

tools-test: tools-build apt-packages

apt-packages:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	command -v promtool >/dev/null || missing="$$missing prometheus"; \
	if [ -n "$$missing" ]; then \
	  echo "installing (apt):$$missing"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

wasm-target:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

trunk:
	@trunk --version 2>/dev/null | grep -qx "trunk $(TRUNK_VERSION)" || cargo install --locked trunk@$(TRUNK_VERSION)

# Installs wasm-bindgen and wasm-bindgen-test-runner. Without --locked: the
# CLI's own lock file can pin crates this toolchain cannot build.
wasm-bindgen-cli:
	@v="$(WASM_BINDGEN_VERSION)"; \
	[ -n "$$v" ] || { echo "no wasm-bindgen in Cargo.lock"; exit 1; }; \
	grep -q "^wasm_bindgen = \"$$v\"" Trunk.toml || { echo "Trunk.toml must pin wasm_bindgen = \"$$v\" (the version in Cargo.lock)"; exit 1; }; \
	if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $$v" \
	   || ! wasm-bindgen-test-runner --version 2>/dev/null | grep -qx "wasm-bindgen-test-runner $$v"; then \
	  cargo install --force wasm-bindgen-cli --version "$$v"; \
	fi

node-deps: node_modules/.obslab-installed

node_modules/.obslab-installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# --- build and serve -----------------------------------------------------------

build: tools-build
	trunk build --release

serve: tools-build
	trunk serve --release

# --- sizes -----------------------------------------------------------------------

size: build size-report

size-report:
	@total=0; total_gz=0; \
	printf '%-40s %10s %10s\n' file bytes gzip; \
	for f in $(DIST)/*.wasm $(DIST)/*.js $(DIST)/*.css; do \
	  raw=$$(wc -c <"$$f"); gz=$$(gzip -9 -c "$$f" | wc -c); \
	  total=$$((total + raw)); total_gz=$$((total_gz + gz)); \
	  printf '%-40s %10d %10d\n' "$${f#$(DIST)/}" "$$raw" "$$gz"; \
	done; \
	printf '%-40s %10d %10d\n' total "$$total" "$$total_gz"; \
	if [ "$$total_gz" -le $(SIZE_BUDGET) ]; then \
	  echo "gzip total $$total_gz bytes: within the budget of $(SIZE_BUDGET) bytes (QUALITY.md)"; \
	else \
	  echo "gzip total $$total_gz bytes: OVER the budget of $(SIZE_BUDGET) bytes (QUALITY.md) by $$((total_gz - $(SIZE_BUDGET)))"; \
	  if [ -n "$${SIZE_STRICT:-}" ]; then exit 1; fi; \
	fi

# --- tests -------------------------------------------------------------------------

# Each layer in order, with its time; stops at the first failing layer.
test:
	@start=$$(date +%s); \
	for layer in tools-test test-native test-exports test-promql test-wasm test-e2e; do \
	  t=$$(date +%s); \
	  echo "== $$layer"; \
	  $(MAKE) $$layer; \
	  echo "== $$layer: $$(( $$(date +%s) - t )) s"; \
	done; \
	echo "make test: every layer passed in $$(( $$(date +%s) - start )) s"

test-native:
	cargo test --workspace

test-exports:
	@if [ -f scripts/check-exports.sh ]; then bash scripts/check-exports.sh; \
	else echo "scripts/check-exports.sh is not there: skipped"; fi

# Prometheus's own PromQL test scripts through `obslab promqltest`; any
# failure fails the layer (unsupported features are listed by name).
test-promql:
	cargo build --release --quiet --bin obslab
	"$${CARGO_TARGET_DIR:-target}/release/obslab" promqltest ../shared/testdata/promql/*.test | tail -n 30

# The digests `obslab run --json` computes natively, as
# scenario:seed:duration=digest entries separated by commas.
native-digests:
	@cargo build --quiet --bin obslab
	@out=""; \
	for r in $(DIGEST_RUNS); do \
	  IFS=: read -r id seed dur <<<"$$r"; \
	  d=$$("$${CARGO_TARGET_DIR:-target}/debug/obslab" run "$$id" --seed "$$seed" --duration "$$dur" --json \
	      | python3 -c 'import json, sys; print(json.load(sys.stdin)["digest"])'); \
	  out="$$out$${out:+,}$$r=$$d"; \
	done; \
	echo "$$out"

# wasm-bindgen tests in headless Chromium (chromedriver; browser arguments in
# webdriver.json). The native digests are compiled into the test.
test-wasm: wasm-target wasm-bindgen-cli apt-packages
	@digests="$$($(MAKE) -s native-digests)"; \
	echo "native digests: $$digests"; \
	OBSLAB_NATIVE_DIGESTS="$$digests" \
	CHROMEDRIVER="$$(command -v chromedriver)" \
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	cargo test --target wasm32-unknown-unknown --test web

# The log-search budget in headless Chromium: a substring filter over one
# million lines, median of 5 runs per needle printed (tests/web_bench.rs).
# A measurement, not a test layer: `make test` does not run it.
bench-wasm: wasm-target wasm-bindgen-cli apt-packages
	CHROMEDRIVER="$$(command -v chromedriver)" \
	WASM_BINDGEN_TEST_TIMEOUT=600 \
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	cargo test --release --target wasm32-unknown-unknown --test web_bench -- --nocapture

# Playwright against the release build on a local static server; screenshots
# and timings in target/e2e/. The questions journeys read their answer keys
# from the native CLI.
test-e2e: build apt-packages
	$(MAKE) size-report
	cargo build --release --quiet --bin obslab
	OBSLAB="$${CARGO_TARGET_DIR:-target}/release/obslab" node tests/e2e/run.mjs

clean-dist:
	rm -rf $(DIST)
