#!/usr/bin/env bash
# The benchmark (`docs/performance.md`): builds the tool, starts moto on
# 127.0.0.1 behind a latency and rate-limit shaping layer, builds a synthetic
# account and prints wall times against their floors.
#
#   ./bench.sh                 # the full account: 50 APIs x 3 stages x 10 routes
#   ./bench.sh small           # a smoke-sized account
#   BENCH_PROFILE=release ./bench.sh
set -euo pipefail
cd "$(dirname "$0")"
size=${1:-full}
profile=${BENCH_PROFILE:-dev}
. tests/moto/venv.sh
cargo build --locked --profile "$profile" --bin apigw-audit
dir=debug
[ "$profile" = dev ] || dir=$profile
exec "$APIGW_AUDIT_PYTHON" tests/bench/bench.py \
  --binary "${CARGO_TARGET_DIR:-target}/$dir/apigw-audit" --size "$size" --json "bench-$size.json"
