#!/usr/bin/env bash
# Runs each cargo-fuzz target of checks/fuzz for FUZZ_SECONDS (default 60),
# seeded with the example snapshots and error texts. cargo-fuzz is installed
# into the cache beside the target directory when missing. libFuzzer's
# instrumentation flags are nightly-only, so on a stable toolchain the build
# runs with RUSTC_BOOTSTRAP=1 and without a sanitizer (a panic, overflow or
# abort is still a finding). Where none of that works, says why and stops
# with success: fuzzing is then the manual step docs/reliability.md documents.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
target_dir=$(realpath -m "${CARGO_TARGET_DIR:-target}")
tools="$target_dir/tools"
export PATH="$tools/bin:$PATH"
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz into $tools"
  if ! cargo install --locked --quiet --root "$tools" cargo-fuzz; then
    echo "fuzz: SKIPPED: cargo-fuzz could not be installed (see docs/reliability.md, Fuzzing)"
    exit 0
  fi
fi
work="$target_dir/fuzz-work"
mkdir -p "$work/corpus/snapshot_loader" "$work/corpus/signature_matcher" "$work/seeds/signature_matcher"
printf 'Execution failed due to configuration error: There was an internal error while executing your request\nIntegrationFailure\n(abc) Execution failed due to configuration error: Unable to find VpcLink\nhttps://abc123.execute-api.us-east-1.amazonaws.com/prod/orders/1' \
  > "$work/seeds/signature_matcher/log"
printf 'PKIX path building failed\nForbidden\nMissing Authentication Token\nhttps://api.example.com/v1/x?y=1' \
  > "$work/seeds/signature_matcher/pkix"
cd checks
for t in snapshot_loader signature_matcher; do
  seeds=../examples/snapshots
  [ "$t" = signature_matcher ] && seeds="$work/seeds/signature_matcher"
  echo "fuzz: $t for ${seconds}s"
  if ! RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$target_dir/fuzz" \
      cargo fuzz run --sanitizer none -O "$t" "$work/corpus/$t" "$seeds" -- \
      -max_total_time="$seconds" -max_len=131072 -print_final_stats=1 2>"$work/$t.log"; then
    if grep -q "error\[E\|could not compile\|failed to build" "$work/$t.log"; then
      tail -5 "$work/$t.log"
      echo "fuzz: SKIPPED: $t does not build with this toolchain (see docs/reliability.md, Fuzzing)"
      continue
    fi
    tail -40 "$work/$t.log"
    echo "fuzz: $t found a crash; the input is under checks/fuzz/artifacts/$t"
    exit 1
  fi
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)" "$work/$t.log" | sed "s/^/fuzz: $t: /"
done
