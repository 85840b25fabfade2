#!/usr/bin/env bash
# Runs a hyqat stage (qat/hyqat/) with Debian's python3 and torch and
# OpenBLAS for this process only (see env.sh). `hyqat.sh --help` lists stages.
set -euo pipefail
source "$(dirname "$0")/env.sh"
exec /usr/bin/python3 -m hyqat "$@"
