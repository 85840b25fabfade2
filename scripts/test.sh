#!/usr/bin/env bash
# Sets up, builds and runs every test: the release build (warnings as errors),
# the same suite under ASan+UBSan, and the Arm NEON kernels cross-built and
# run under qemu-aarch64. `.ci/run` calls exactly this.
#   scripts/test.sh            everything
#   scripts/test.sh release    only the release build and its tests (and the QAT suite)
#   scripts/test.sh qat        only the QAT toolkit's pytest suite (needs build/bin/hy2bit for the chain)
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

if [ "$which" = "qat" ]; then
  run_qat
  exit 0
fi
run_preset release
run_qat
if [ "$which" = "all" ]; then
  run_preset debug
  run_preset arm64
fi
