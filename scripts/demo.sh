#!/usr/bin/env bash
# Sets up, builds and runs the main job: `hy2bit run -p "写一副春联"`.
# With no -m it runs the built-in 17M-parameter 2-bit poet linked into the
# binary (models/README.md), and says so; pass your own flags to run the real
# model, e.g.
#   scripts/demo.sh -m HY-1.8B-2Bit-q2_0c.gguf -p "写一副春联" -t 1 --seed 4568 -n 32
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake --preset release > /dev/null
cmake --build --preset release -j "$(nproc)" --target hy2bit_cli
if [ $# -eq 0 ]; then
  set -- -p "写一副春联" -n 64
fi
exec build/bin/hy2bit run "$@"
