#!/usr/bin/env bash
# Runs every test of apigw-audit: formatting, lints, unit tests, CLI tests on
# the example snapshots, and end-to-end tests against moto in server mode on
# 127.0.0.1. Creates the project-local virtualenv .venv with the pinned moto
# first when it is missing or stale; the tests start and stop moto themselves.
set -euo pipefail
cd "$(dirname "$0")"

venv=.venv
stamp="$venv/.requirements.sha256"
want=$(sha256sum tests/moto/requirements.txt | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "test.sh: installing moto into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/moto/requirements.txt
  echo "$want" > "$stamp"
fi
export APIGW_AUDIT_PYTHON="$PWD/$venv/bin/python"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
