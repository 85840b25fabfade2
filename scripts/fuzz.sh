#!/usr/bin/env bash
# Long fuzz runs: scripts/fuzz.sh TARGET HOURS [libFuzzer flags...]
# Builds the fuzz preset, fuzzes TARGET (see fuzz/, or `all`, one after the
# other) for HOURS (a decimal: 0.5 is half an hour) at nice 10, and appends
# the result (date, executions, speed, crashes, the command) to FUZZING.md's
# table of long runs.
# Extra flags go to libFuzzer, e.g. -runs=10000000 to stop at 10M executions.
# The log is build-fuzz/logs/TARGET-DATE.log; a crashing input is saved
# under build-fuzz/artifacts/TARGET/ (add it to fuzz/corpus/TARGET/ with a
# regression test once fixed). FUZZ_BIN=DIR runs the binaries copied to DIR
# (so a rebuild does not touch a running fuzzer); FUZZ_NO_BUILD=1 skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/fuzz_common.sh

if [ $# -lt 2 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  echo "usage: scripts/fuzz.sh TARGET|all HOURS [libFuzzer flags...]"
  echo "targets: ${fuzz_targets[*]}"
  exit 2
fi
target="$1" hours="$2"
shift 2
if ! [[ "$hours" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  echo "fuzz.sh: HOURS must be a number, got '$hours'" >&2
  exit 2
fi
seconds="$(awk -v h="$hours" 'BEGIN { printf "%d", h * 3600 }')"
if [ "$seconds" -lt 1 ]; then
  echo "fuzz.sh: HOURS $hours is under one second" >&2
  exit 2
fi
targets=("$target")
if [ "$target" = "all" ]; then
  targets=("${fuzz_targets[@]}")
elif [[ ! " ${fuzz_targets[*]} " == *" $target "* ]]; then
  echo "fuzz.sh: unknown target '$target'; targets: ${fuzz_targets[*]}" >&2
  exit 2
fi

# Adds a row at the end of FUZZING.md's "Long runs" table (at the end of the
# file if it has none); two runs that end together take turns (flock).
add_row() {
  mkdir -p build-fuzz
  (
    flock 9
    ROW="$1" awk '{ lines[NR] = $0 }
      /^## / { in_runs = ($0 ~ /^## Long runs/) }
      in_runs && /^[|] [0-9][0-9][0-9][0-9]-/ { last = NR }
      END { for (i = 1; i <= NR; i++) { print lines[i]; if (i == last) print ENVIRON["ROW"] }
            if (!last) print ENVIRON["ROW"] }' FUZZING.md > FUZZING.md.new
    mv FUZZING.md.new FUZZING.md
  ) 9> build-fuzz/.fuzzing-md.lock
}

[ -n "${FUZZ_NO_BUILD:-}" ] || fuzz_build > /dev/null
status=0
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src fuzz || echo '+changes')"
for t in "${targets[@]}"; do
  log="build-fuzz/logs/$t-$(date -u +%Y%m%dT%H%M%SZ).log"
  started="$(date -u '+%Y-%m-%d %H:%M')"
  t0="$(date +%s)"
  echo "fuzz.sh: $t for $seconds s, log $log"
  rc=0
  # No allocation stacks in long runs (a third faster for allocation-heavy
  # targets such as fuzz_grammar); replaying a saved input shows them.
  ASAN_OPTIONS="${ASAN_OPTIONS:-malloc_context_size=0}" \
    nice -n 10 bash -c "source scripts/fuzz_common.sh && fuzz_run $t $seconds $log $*" || rc=$?
  elapsed=$(( $(date +%s) - t0 ))
  execs="$(fuzz_execs "$log")"
  execs="${execs:-0}"
  result="0 crashes, 0 leaks, 0 timeouts"
  if [ "$rc" -eq 72 ]; then
    result="interrupted (SIGINT), 0 crashes, 0 leaks, 0 timeouts until then"
  elif [ "$rc" -ne 0 ]; then
    result="FAILED (exit $rc): $(grep -m1 -E '^==[0-9]+==ERROR|^SUMMARY|deadly signal|timeout|out-of-memory|invariant' "$log" || echo 'see log')"
    status=1
  fi
  rate=$(( execs / (elapsed > 0 ? elapsed : 1) ))
  row="| $started UTC | $t | $elapsed s | $execs | $rate/s | $result | \`scripts/fuzz.sh $t $hours $*\` at $commit |"
  echo "$row"
  add_row "$row"
done
exit "$status"
