#!/usr/bin/env bash
# Makes BENCHMARKS.md's perplexity / KLD table: the 1.8B-shaped test model's
# fp16 QDQ file as the KLD base, then q2_0c, q4_0 and q8_0 against it, each
# with the f16 and the q8_0 KV cache. Models live in DIR (default
# build/ppl-models; made here if missing: 3.6 GB + 3.5 GB of quants).
# Usage: scripts/perplexity_table.sh [DIR] [CHUNKS]   (CHUNKS default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build/ppl-models}
chunks=${2:-5}
bin=${HY2BIT:-build/bin/hy2bit}  # HY2BIT=path: another binary (e.g. a copy while rebuilding)
text=data/text/licenses.txt
mkdir -p "$dir"
[ -f "$dir/hy-1.8b-f16.gguf" ] || $bin make-test-model --preset hy-1.8b --out "$dir/hy-1.8b-f16.gguf"
for t in q2_0c q4_0 q8_0; do
  [ -f "$dir/hy-1.8b-$t.gguf" ] || $bin quantize "$dir/hy-1.8b-f16.gguf" "$dir/hy-1.8b-$t.gguf" $t
done
base="$dir/hy-1.8b-f16.c512x$chunks.kld"
[ -f "$base" ] || $bin perplexity -m "$dir/hy-1.8b-f16.gguf" -f $text --chunks "$chunks" --kl-divergence-base "$base" \
  -o json > "$dir/f16.base.json"
for t in q2_0c q4_0 q8_0; do
  for kv in f16 q8_0; do
    $bin perplexity -m "$dir/hy-1.8b-$t.gguf" -f $text --kl-divergence-base "$base" --kl-divergence \
      --cache-type $kv -o json > "$dir/$t.kv-$kv.json"
  done
done
echo "| weights | KV cache | PPL | mean KLD | Same top p |"
echo "|---|---|---|---|---|"
for t in q2_0c q4_0 q8_0; do
  for kv in f16 q8_0; do
    /usr/bin/python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); k=j["kld"]
print("| %s | %s | %.2f ± %.2f | %.6f ± %.6f | %.3f ± %.3f %% |" % (sys.argv[2], sys.argv[3], k["ppl"], k["ppl_error"],
      k["kld_mean"], k["kld_error"], 100*k["same_top"], 100*k["same_top_error"]))' "$dir/$t.kv-$kv.json" $t $kv
  done
done
