#!/usr/bin/env bash
# Runs every test of apigw-audit: formatting, lints, unit tests, CLI tests on
# the example snapshots, and end-to-end tests against moto in server mode on
# 127.0.0.1, and each fuzz target for a minute. Creates the project-local virtualenv .venv with the pinned moto
# first when it is missing or stale; the tests start and stop moto themselves.
set -euo pipefail
cd "$(dirname "$0")"

. tests/moto/venv.sh

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
# Each fuzz target for a bounded time (tests/fuzz.sh says why when it cannot).
tests/fuzz.sh
