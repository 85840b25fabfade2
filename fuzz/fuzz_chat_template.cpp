// Fuzz target: the Hunyuan chat format over arbitrary conversations, and the
// prompt it renders tokenized as the server does (parse_special = true).
// Input layout: byte 0 picks the thinking option and the generation prompt;
// the rest is messages separated by 0x1E, each starting with a byte that
// picks its role. Invariants: the prompt starts with BOS text; every user
// message's content appears in it; a valid-UTF-8 prompt tokenizes and decodes
// (specials rendered) back to itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "support.h"
#include "text/chat_format.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

using namespace hy2bit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const text::Tokenizer& t = fuzz::tiny_vocab();
  text::ChatRenderOptions options;
  options.thinking = static_cast<text::ThinkingMode>(data[0] % 3);
  options.add_generation_prompt = (data[0] & 4) == 0;
  options.bos_text = std::string(t.text(t.bos()));

  std::vector<text::ChatMessage> messages;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (!rest.empty()) {
    const size_t end = rest.find('\x1e');
    const std::string_view chunk = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (chunk.empty()) continue;
    messages.push_back({static_cast<text::ChatRole>(static_cast<uint8_t>(chunk[0]) % 3),
                        std::string(chunk.substr(1))});
  }

  const std::string prompt = text::render_chat(messages, options);
  fuzz::check(prompt.starts_with(options.bos_text), "the prompt starts with BOS");
  for (const text::ChatMessage& m : messages) {
    if (m.role == text::ChatRole::kUser)
      fuzz::check(prompt.find(m.content) != std::string::npos, "user content is in the prompt");
    if (m.role == text::ChatRole::kAssistant) {
      const std::string stripped = text::strip_thinking(m.content);
      fuzz::check(stripped.size() <= m.content.size(), "strip_thinking only removes");
    }
  }
  (void)text::effective_thinking(messages, options.thinking);

  if (!text::is_valid_utf8(prompt)) return 0;
  Result<std::vector<int32_t>> ids = t.encode(prompt, {.add_bos = false, .parse_special = true});
  if (!ids) {
    fuzz::trace_refusal("encode", ids.error());  // only the tokenizer's size limit
    return 0;
  }
  fuzz::check(t.decode(*ids, /*render_special=*/true) == prompt, "the prompt's tokens decode to the prompt");
  return 0;
}
