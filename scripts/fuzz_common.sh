# Shared by scripts/fuzz.sh (long runs) and scripts/test.sh (the CI step):
# the list of fuzz targets, each one's dictionary, and one run of a target.
# Sourced, not run; expects the repository root as the working directory.

fuzz_targets=(fuzz_gguf_model fuzz_tokenizer_gguf fuzz_tokenize fuzz_chat_template fuzz_reasoning fuzz_request
  fuzz_convert_inputs fuzz_kld_base fuzz_grammar fuzz_tool_calls fuzz_ollama_request)

fuzz_dict() {
  case "$1" in
    fuzz_gguf_model|fuzz_tokenizer_gguf) echo fuzz/dict/gguf.dict ;;
    fuzz_request) echo fuzz/dict/json.dict ;;
    fuzz_ollama_request) echo fuzz/dict/ollama.dict ;;
    fuzz_convert_inputs) echo fuzz/dict/convert.dict ;;
    fuzz_kld_base) echo fuzz/dict/kld_base.dict ;;
    fuzz_grammar) echo fuzz/dict/grammar.dict ;;
    fuzz_tool_calls) echo fuzz/dict/tool_calls.dict ;;
    *) echo fuzz/dict/text.dict ;;
  esac
}

fuzz_build() {
  cmake --preset fuzz > /dev/null
  cmake --build --preset fuzz -j "$(nproc)"
}

# fuzz_run TARGET SECONDS LOG [extra libFuzzer flags...]: fuzzes TARGET for
# SECONDS from its committed seeds, growing a working corpus under
# $FUZZ_CORPUS_ROOT/corpus/ (default build-fuzz; the seeds in fuzz/corpus/
# are never written), with crashing inputs saved under .../artifacts/. Exits as libFuzzer does:
# non-zero on any crash, leak, timeout (10 s per input) or out-of-memory.
fuzz_run() {
  local target="$1" seconds="$2" log="$3"
  shift 3
  local root="${FUZZ_CORPUS_ROOT:-build-fuzz}"
  local work="$root/corpus/$target" artifacts="$root/artifacts/$target/"
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  "${FUZZ_BIN:-build-fuzz/bin}/$target" -dict="$(fuzz_dict "$target")" -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts" \
    "$@" "$work" "fuzz/corpus/$target" > "$log" 2>&1
}

# The executions a finished run's log reports.
fuzz_execs() {
  sed -n 's/^stat::number_of_executed_units: *//p' "$1" | tail -1
}
