#!/usr/bin/env bash
# Aggregate generation speed of `hy2bit serve` with 1, 2 and 4 concurrent
# streams: starts the server on a loopback port with --parallel 4, sends
# N simultaneous chat requests (fixed max_tokens, greedy, ignoring end
# tokens is not possible, so a long enough reply is asked for) and divides
# the completion tokens reported in `usage` by the wall time.
#   scripts/bench-serve.sh MODEL [THREADS] [MAX_TOKENS]
set -euo pipefail
model="$1"; threads="${2:-2}"; max_tokens="${3:-64}"
bin="${HY2BIT:-$(dirname "$0")/../build/bin/hy2bit}"
port=$((20000 + RANDOM % 20000))
"$bin" serve -m "$model" -t "$threads" --parallel 4 -c 1024 --port "$port" > /tmp/hy2bit-bench-serve.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/health" > /dev/null && break; sleep 0.2; done

body=$(printf '{"messages":[{"role":"user","content":"/no_think Write a long story about the sea."}],"max_tokens":%d,"temperature":0}' "$max_tokens")
echo "| streams | completion tokens | seconds | aggregate t/s |"
echo "| ---: | ---: | ---: | ---: |"
for streams in 1 2 4; do
  start=$(date +%s.%N)
  for i in $(seq 1 "$streams"); do
    curl -s "http://127.0.0.1:$port/v1/chat/completions" -H 'Content-Type: application/json' -d "$body" > "/tmp/hy2bit-bench-serve.$i.json" &
  done
  wait $(jobs -p | grep -v "^$server$") 2>/dev/null || true
  end=$(date +%s.%N)
  tokens=0
  for i in $(seq 1 "$streams"); do
    tokens=$((tokens + $(jq '.usage.completion_tokens' "/tmp/hy2bit-bench-serve.$i.json")))
  done
  awk -v s="$streams" -v t="$tokens" -v a="$start" -v b="$end" \
    'BEGIN { printf "| %d | %d | %.2f | %.1f |\n", s, t, b - a, t / (b - a) }'
done
