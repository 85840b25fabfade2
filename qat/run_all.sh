#!/usr/bin/env bash
# Retrains everything from scratch with a fixed seed and writes the table:
# corpus -> tokenizer -> FP teacher -> PTQ-2bit -> QAT-2bit -> FP-continued ->
# report (export, hy2bit convert/quantize/perplexity/bench, QAT.md, results.json).
#   qat/run_all.sh              the full run (~2 h on 2 cores, preset "full")
#   qat/run_all.sh toy          the CI smoke (a few hundred tiny steps)
# OUT (default build/qat, or build/qat-toy) holds everything; nothing is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-full}"
h="qat/hyqat.sh"
seed=1234
case "$preset" in
  full)
    out="${OUT:-build/qat}"; config=qat/configs/small.json; vocab_size=8192
    teacher_steps="${TEACHER_STEPS:-3000}"; qat_steps="${QAT_STEPS:-300}"; eval_every=250
    corpus_args=(); tok_args=(); train_args=(--autocast "${AUTOCAST:-none}")
    report_args=(--md QAT.md --json qat/results.json) ;;
  toy)
    out="${OUT:-build/qat-toy}"; config=qat/configs/toy.json; vocab_size=1024
    teacher_steps="${TEACHER_STEPS:-300}"; qat_steps="${QAT_STEPS:-60}"; eval_every=100
    corpus_args=(--max-poems 3000 --max-fortunes 1000 --test-docs 120)
    tok_args=(--max-docs 1500); train_args=(--max-docs 1500 --log-every 100); report_args=(--no-bench) ;;
  *) echo "run_all.sh: unknown preset '$preset' (full or toy)" >&2; exit 2 ;;
esac
mkdir -p "$out"
t0=$(date +%s)
$h corpus --out "$out/corpus" "${corpus_args[@]}"
$h tokenizer --corpus "$out/corpus" --out "$out/vocab.json" --size "$vocab_size" --seed "$seed" "${tok_args[@]}"
$h train teacher --config "$config" --steps "$teacher_steps" --eval-every "$eval_every" --seed "$seed" \
  --out "$out" "${train_args[@]}"
$h ptq2 --out "$out"
$h train qat --steps "$qat_steps" --seed "$seed" --out "$out" "${train_args[@]}"
$h train fpcont --steps "$qat_steps" --seed "$seed" --out "$out" "${train_args[@]}"
$h report --out "$out" "${report_args[@]}"
echo "run_all.sh ($preset): done in $(( $(date +%s) - t0 )) s; table in $out/QAT.md"
