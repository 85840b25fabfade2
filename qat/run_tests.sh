#!/usr/bin/env bash
# The toolkit's pytest suite (qat/tests) with the trainer's environment.
# Extra arguments go to pytest. Exit code: pytest's (0 passed, 1 failed, ...).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$(dirname "$0")"
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider tests "$@"
