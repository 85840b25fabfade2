#!/usr/bin/env bash
# Sets up, builds and runs every test: the release build (warnings as errors),
# the same suite under ASan+UBSan, the Arm NEON kernels cross-built and
# run under qemu-aarch64, and every fuzz target for a bounded time (clang,
# ASan+UBSan; FUZZING.md). `.ci/run` calls exactly this.
#   scripts/test.sh            everything
#   scripts/test.sh release    only the release build and its tests (and the QAT suite)
#   scripts/test.sh qat        only the QAT toolkit's pytest suite (needs build/bin/hy2bit for the chain)
#   scripts/test.sh fuzz       only the fuzz step (FUZZ_SECONDS per target, default 30)
set -euo pipefail
cd "$(dirname "$0")/.."

which="${1:-all}"
jobs="$(nproc)"
bash scripts/setup.sh

run_preset() {
  local preset="$1"
  echo "=== $preset: configure, build, test ==="
  cmake --preset "$preset" > /dev/null
  cmake --build --preset "$preset" -j "$jobs"
  ctest --preset "$preset" -j "$jobs"
}

# The QAT toolkit (qat/): pytest, including the toy train -> export -> hy2bit
# chain (about 3 minutes). pytest's exit code is the step's: 0 passed, 1 a test
# failed, 2-4 pytest or usage errors, 5 no tests collected (also a failure).
run_qat() {
  echo "=== qat: pytest ==="
  local rc=0
  bash qat/run_tests.sh || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "qat: pytest failed with exit code $rc" >&2
    exit "$rc"
  fi
}

# Builds the fuzz preset and runs each target FUZZ_SECONDS from its seeds,
# two at a time; fails on any crash, leak, timeout or broken invariant, and
# prints every target's executions.
run_fuzz() {
  echo "=== fuzz: configure, build, run each target ${FUZZ_SECONDS:-30} s ==="
  source scripts/fuzz_common.sh
  fuzz_build
  rm -rf build-fuzz/ci
  local failed=0 passed=0 t pids=() names=()
  for t in "${fuzz_targets[@]}"; do
    FUZZ_CORPUS_ROOT=build-fuzz/ci fuzz_run "$t" "${FUZZ_SECONDS:-30}" "build-fuzz/ci/$t.log" &
    pids+=($!) names+=("$t")
    if [ ${#pids[@]} -eq 2 ]; then
      fuzz_report; pids=() names=()
    fi
  done
  fuzz_report
  echo "fuzz: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# Waits for the runs in pids/names and prints one line per target.
fuzz_report() {
  local i rc
  for i in "${!pids[@]}"; do
    rc=0
    wait "${pids[$i]}" || rc=$?
    local log="build-fuzz/ci/${names[$i]}.log"
    if [ "$rc" -eq 0 ]; then
      passed=$((passed + 1))
      echo "fuzz: ${names[$i]}: $(fuzz_execs "$log") executions, no crash, leak or timeout"
    else
      failed=$((failed + 1))
      echo "fuzz: ${names[$i]}: FAILED (exit $rc) after $(fuzz_execs "$log") executions; log $log:"
      grep -A30 -m1 -E '^==[0-9]+==|deadly signal|fuzz: invariant|ERROR: libFuzzer' "$log" || tail -30 "$log"
    fi
  done
}

if [ "$which" = "qat" ]; then
  run_qat
  exit 0
fi
if [ "$which" = "fuzz" ]; then
  run_fuzz
  exit
fi
run_preset release
run_qat
if [ "$which" = "all" ]; then
  run_preset debug
  run_preset arm64
  run_fuzz
fi
