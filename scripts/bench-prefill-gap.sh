#!/usr/bin/env bash
# Inter-token gaps of a running stream while a long prompt is admitted
# (issue 15, chunked prefill): two servers on the same model, one with
# --no-chunked-prefill, measured in turns (A B A B ...) so the noise of a
# shared machine falls on both. Each round: one greedy stream of
# STREAM_TOKENS tokens starts; once it has 20 tokens, a PROMPT-token raw
# prompt (token ids, max_tokens 1) is sent; the stream's gaps from its
# 10th token on give median, p99 and max. Prints a Markdown table.
#   scripts/bench-prefill-gap.sh MODEL [THREADS] [PROMPT] [ROUNDS] [STREAM_TOKENS]
set -euo pipefail
model="$1"; threads="${2:-2}"; prompt="${3:-2048}"; rounds="${4:-2}"; stream_tokens="${5:-256}"
bin="${HY2BIT:-$(dirname "$0")/../build/bin/hy2bit}"
ctx=$((prompt + stream_tokens + 64))
servers=()
trap 'for p in "${servers[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done' EXIT
start_server() {  # PORT [FLAGS...]
  local port="$1"; shift
  "$bin" serve -m "$model" -t "$threads" --parallel 2 -c "$ctx" --port "$port" --log-format none "$@" \
    > "/tmp/hy2bit-bench-gap.$port.log" 2>&1 &
  servers+=($!)
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/health" > /dev/null && return; sleep 0.2; done
  echo "server on $port did not start" >&2; exit 1
}
port_chunked=$((20000 + RANDOM % 20000)); port_whole=$((port_chunked + 1))
start_server "$port_chunked"
start_server "$port_whole" --no-chunked-prefill

echo "| prefill | round | stream gaps | median ms | p99 ms | max ms | p99 / median |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for round in $(seq 1 "$rounds"); do
  for mode in whole chunked; do
    port=$port_chunked; [ "$mode" = whole ] && port=$port_whole
    /usr/bin/python3 - "$port" "$prompt" "$stream_tokens" "$mode" "$round" <<'PY'
import http.client, json, random, sys, threading, time
port, n_prompt, n_stream, mode, rnd = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
def post(body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    c.request("POST", "/v1/completions", json.dumps(body), {"Content-Type": "application/json"})
    return c.getresponse()
times, sent = [], threading.Event()
def long_prompt():
    sent.wait()
    rng = random.Random(int(rnd))
    r = post({"prompt": [rng.randrange(1000, 30000) for _ in range(n_prompt)], "max_tokens": 1, "temperature": 0})
    r.read()
t = threading.Thread(target=long_prompt); t.start()
r = post({"prompt": "Once upon a time", "max_tokens": n_stream, "temperature": 0, "stream": True,
          "logit_bias": {}})
for line in r:
    if line.startswith(b"data: ") and not line.startswith(b"data: [DONE]"):
        times.append(time.monotonic())
        if len(times) == 20: sent.set()
sent.set(); t.join()
gaps = sorted((b - a) * 1000 for a, b in zip(times[10:], times[11:]))
if not gaps: sys.exit(f"the stream gave {len(times)} chunks")
med = gaps[len(gaps) // 2]; p99 = gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))]
print(f"| {mode} | {rnd} | {len(gaps)} | {med:.0f} | {p99:.0f} | {gaps[-1]:.0f} | {p99 / med:.1f} |", flush=True)
PY
  done
done
