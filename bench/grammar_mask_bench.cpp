// Grammar-constrained sampling's per-token cost on the real 120k-token HY
// vocabulary (../shared/testdata/tokenizer/hy-vocab.gguf): the allowed-token
// mask of a JSON-schema grammar, cold (every state new: the worst case) and
// along a simulated reply (mask, pick an allowed token, accept it), which is
// what a generation pays per token. Validated first: each picked token must
// be one the grammar accepts.
// Run: build/bin/bench_grammar_mask_bench
#include <benchmark/benchmark.h>

#include <random>

#include "api/model_impl.h"
#include "generate/grammar/grammar.h"
#include "generate/grammar/matcher.h"
#include "hy2bit/structured.h"

namespace hy2bit {
namespace {

constexpr const char* kSchema = R"({"type": "object", "properties": {
  "name": {"type": "string"}, "age": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}},
  "address": {"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": "string"}}}},
  "required": ["name", "age", "tags"]})";

struct Fixture {
  std::shared_ptr<Model> model;
  std::shared_ptr<const grammar::Grammar> grammar;
  const grammar::TokenTrie* trie = nullptr;
};

const Fixture& fixture() {
  static Fixture f = [] {
    Fixture out;
    Result<std::shared_ptr<Model>> m =
        Model::load({.model_path = std::string(HY2BIT_TESTDATA_DIR) + "/tokenizer/hy-vocab.gguf", .vocab_only = true});
    if (!m) return out;
    out.model = *m;
    Result<std::string> gbnf = json_schema_to_grammar(kSchema);
    Result<grammar::Grammar> g = grammar::parse_gbnf(gbnf ? *gbnf : "");
    if (!g) return out;
    out.grammar = std::make_shared<const grammar::Grammar>(std::move(*g));
    out.trie = &out.model->impl().grammar_vocab();
    return out;
  }();
  return f;
}

// The mask inside a string value, with a fresh matcher each time (no cache).
void BM_MaskCold(benchmark::State& state) {
  const Fixture& f = fixture();
  if (!f.trie) return state.SkipWithError("hy-vocab.gguf or the grammar did not load");
  size_t allowed = 0;
  for (auto _ : state) {
    grammar::Matcher m(f.grammar);
    if (!m.accept("{\"name\": \"ab")) return state.SkipWithError("prefix rejected");
    const grammar::TokenMask& mask = m.allowed_tokens(*f.trie);
    allowed = 0;
    for (uint64_t w : mask) allowed += static_cast<size_t>(__builtin_popcountll(w));
    benchmark::DoNotOptimize(allowed);
  }
  state.counters["allowed"] = static_cast<double>(allowed);
  state.counters["vocab"] = f.trie->n_vocab();
}
BENCHMARK(BM_MaskCold)->Unit(benchmark::kMillisecond);

// A simulated reply: per token, the mask, a random allowed token, accept.
void BM_MaskPerTokenOfAReply(benchmark::State& state) {
  const Fixture& f = fixture();
  if (!f.trie) return state.SkipWithError("hy-vocab.gguf or the grammar did not load");
  std::mt19937 rng(7);
  int64_t tokens = 0;
  for (auto _ : state) {
    grammar::Matcher m(f.grammar);
    for (int i = 0; i < 64 && !m.must_end(); ++i) {
      const grammar::TokenMask& mask = m.allowed_tokens(*f.trie, 64 - i);
      std::vector<int32_t> ids;
      for (int32_t id = 0; id < f.trie->n_vocab(); ++id)
        if (grammar::mask_has(mask, id)) ids.push_back(id);
      if (ids.empty()) break;
      const int32_t pick = ids[rng() % ids.size()];
      if (!m.accept(f.model->impl().tokenizer->token_bytes(pick)))
        return state.SkipWithError("an allowed token was rejected");
      ++tokens;
    }
  }
  state.SetItemsProcessed(tokens);  // items_per_second: tokens masked and accepted per second
}
BENCHMARK(BM_MaskPerTokenOfAReply)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace hy2bit

BENCHMARK_MAIN();
