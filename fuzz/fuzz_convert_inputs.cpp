// Fuzz target: the files `hy2bit convert` reads from a Hugging Face folder
// (src/convert/): a safetensors file's header, model.safetensors.index.json,
// config.json, generation_config.json, tokenizer.json, tokenizer_config.json
// and a tiktoken ranks file. Input layout: byte 0 picks the parser (mod 7),
// the rest is the file. Invariants: what a parser accepts is consistent
// (safetensors tensors lie inside the data section, sizes match shapes; the
// index names only plain file names; config sizes are positive; ids >= 0).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "support.h"
#include "convert/hf_config.h"
#include "convert/hf_vocab.h"
#include "convert/safetensors.h"

using namespace hy2bit;
using namespace hy2bit::convert;

namespace {

void safetensors_header(std::span<const uint8_t> file) {
  Result<StHeader> h = parse_safetensors_header(file);
  if (!h) return fuzz::trace_refusal("safetensors header", h.error());
  fuzz::check(h->data_start == 8 + h->json_size && h->data_start <= file.size(), "data section inside the file");
  const uint64_t data_size = file.size() - h->data_start;
  for (const StTensor& t : h->tensors) {
    fuzz::check(t.begin <= t.end && t.end <= data_size, "tensor bytes inside the data section");
    fuzz::check(t.n_elements * dtype_size(t.dtype) == t.end - t.begin, "tensor bytes match its shape");
    uint64_t product = 1;
    for (uint64_t d : t.shape) product *= d;
    fuzz::check(product == t.n_elements, "n_elements is the product of the shape");
  }
}

void safetensors_index(std::string_view text) {
  Result<StIndex> index = parse_safetensors_index(text);
  if (!index) return fuzz::trace_refusal("safetensors index", index.error());
  for (const auto& [tensor, file] : index->weight_map) {
    fuzz::check(!file.empty() && file != "." && file != ".." && file.find('/') == std::string::npos &&
                    file.find('\0') == std::string::npos,
                "weight_map names only plain file names in the folder");
    fuzz::check(std::binary_search(index->files.begin(), index->files.end(), file),
                "every weight_map file is in the file list");
  }
}

void hf_config(std::string_view text) {
  Result<HfConfig> c = parse_hf_config(text);
  if (!c) return fuzz::trace_refusal("config.json", c.error());
  fuzz::check(c->vocab_size > 0 && c->hidden_size > 0 && c->n_layer > 0 && c->n_head > 0 && c->n_ff > 0,
              "accepted sizes are positive");
  (void)c->effective_head_dim();  // hidden_size / n_head: n_head > 0, so no division by zero
  (void)c->effective_n_head_kv();
}

void generation_config(std::string_view text) {
  Result<HfGenerationConfig> g = parse_hf_generation_config(text);
  if (!g) return fuzz::trace_refusal("generation_config.json", g.error());
}

void tokenizer_json(std::string_view text) {
  Result<TokenizerJson> t = parse_tokenizer_json(text);
  if (!t) return fuzz::trace_refusal("tokenizer.json", t.error());
  for (const auto& [token, id] : t->vocab) fuzz::check(id >= 0, "vocab ids are non-negative");
  for (const AddedToken& a : t->added_tokens) fuzz::check(a.id >= 0, "added token ids are non-negative");
}

void tokenizer_config(std::string_view text) {
  Result<TokenizerConfig> t = parse_tokenizer_config(text);
  if (!t) return fuzz::trace_refusal("tokenizer_config.json", t.error());
  for (size_t i = 1; i < t->added_tokens_decoder.size(); ++i)
    fuzz::check(t->added_tokens_decoder[i - 1].id < t->added_tokens_decoder[i].id, "added_tokens_decoder sorted by id");
}

void tiktoken_ranks(std::string_view text) {
  Result<TiktokenRanks> r = parse_tiktoken_ranks(text);
  if (!r) return fuzz::trace_refusal("tiktoken ranks", r.error());
  for (const auto& [bytes, rank] : r->ranks) {
    fuzz::check(rank >= 0, "ranks are non-negative");
    (void)byte_level_text(bytes);
  }
  // The merge reconstruction BPEs every token: bounded here to keep runs fast.
  if (r->ranks.size() <= 512) (void)merges_from_ranks(*r);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::span<const uint8_t> file(data + 1, size - 1);
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 7) {
    case 0: safetensors_header(file); break;
    case 1: safetensors_index(text); break;
    case 2: hf_config(text); break;
    case 3: generation_config(text); break;
    case 4: tokenizer_json(text); break;
    case 5: tokenizer_config(text); break;
    case 6: tiktoken_ranks(text); break;
  }
  return 0;
}
