// Fuzz target: the vocabulary of a GGUF file from a stranger. Parses the
// file, builds the Tokenizer (tokens, types, merges, special ids), then
// encodes a fixed text that exercises the special-token partition, the
// pre-tokenizer and BPE merges with this vocabulary, and decodes every id.
// Seeds: the tiny model's metadata, whole and trimmed (fuzz/make_seeds.py).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "support.h"
#include "gguf/gguf.h"
#include "text/chat_format.h"
#include "text/tokenizer.h"

using namespace hy2bit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Result<gguf::File> file = gguf::File::parse(std::span<const uint8_t>(data, size));
  if (!file) return 0;
  Result<text::Tokenizer> tokenizer = text::Tokenizer::from_gguf(*file);
  if (!tokenizer) {
    fuzz::trace_refusal("tokenizer", tokenizer.error());
    return 0;
  }
  const text::Tokenizer& t = *tokenizer;
  fuzz::check(t.bos() >= 0 && t.bos() < t.n_vocab() && t.eos() >= 0 && t.eos() < t.n_vocab(),
              "BOS and EOS are token ids");
  (void)text::check_chat_vocab(t);

  constexpr std::string_view kText =
      "<｜hy_begin▁of▁sentence｜><｜hy_User｜>Hello,  world!\n\n写一副春联 it's 12345 "
      "tokens\t\xF0\x9F\x98\x80 <think>\n</think>\n<answer>ok</answer><｜hy_place▁holder▁no▁2｜>";
  for (bool special : {true, false}) {
    Result<std::vector<int32_t>> ids = t.encode(kText, {.add_bos = special, .parse_special = special});
    if (!ids) {
      fuzz::trace_refusal("encode", ids.error());
      continue;
    }
    for (int32_t id : *ids) fuzz::check(id >= 0 && id < t.n_vocab(), "encode returns ids in the vocabulary");
    (void)t.decode(*ids, special);
  }
  volatile size_t sink = 0;
  for (int32_t id = -1; id <= t.n_vocab(); ++id) {
    sink = sink + t.token_bytes(id, true).size() + t.token_piece(id).size();
    const std::string_view text = t.text(id);
    if (id >= 0 && id < t.n_vocab()) {
      const std::optional<int32_t> found = t.find_token(text);
      fuzz::check(found.has_value() && t.text(*found) == text, "every token's text finds a token");
    }
  }
  return 0;
}
