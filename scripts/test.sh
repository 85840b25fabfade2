#!/usr/bin/env bash
# Sets up, builds and runs every test: the release build (warnings as errors),
# the same suite under ASan+UBSan, and the Arm NEON kernels cross-built and
# run under qemu-aarch64. `.ci/run` calls exactly this.
#   scripts/test.sh            everything
#   scripts/test.sh release    only the release build and its tests
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

run_preset release
if [ "$which" = "all" ]; then
  run_preset debug
  run_preset arm64
fi
