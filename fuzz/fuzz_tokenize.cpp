// Fuzz target: the tokenizer's encode() on arbitrary bytes (prompts and HTTP
// bodies come from strangers), with and without special-token parsing, and
// the decode paths back: whole, and streamed through Utf8StreamBuffer as the
// server does. Vocabulary: the tiny test model's (fuzz/data).
// Invariants: ids are in the vocabulary; ill-formed UTF-8 is refused; valid
// text decodes back to itself (byte-level BPE loses nothing).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "support.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

using namespace hy2bit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const text::Tokenizer& t = fuzz::tiny_vocab();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const bool valid = text::is_valid_utf8(input);
  for (bool special : {false, true}) {
    Result<std::vector<int32_t>> ids = t.encode(input, {.add_bos = special, .parse_special = special});
    fuzz::check(ids.ok() == valid, "encode accepts exactly the well-formed UTF-8");
    if (!ids) continue;
    for (int32_t id : *ids) fuzz::check(id >= 0 && id < t.n_vocab(), "encode returns ids in the vocabulary");
    if (special) fuzz::check(!ids->empty() && (*ids)[0] == t.bos(), "add_bos puts BOS first");
    const std::span<const int32_t> body = std::span<const int32_t>(*ids).subspan(special ? 1 : 0);
    const std::string whole = t.decode(body, /*render_special=*/special);
    fuzz::check(whole == input, "decode(encode(text)) is the text");
    text::Utf8StreamBuffer stream;
    std::string streamed;
    for (int32_t id : body) streamed += stream.push(t.token_bytes(id, special));
    streamed += stream.flush();
    fuzz::check(streamed == input, "streamed decode is the text");
  }
  return 0;
}
