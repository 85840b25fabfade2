// The public API for text: tokenizing and detokenizing with a model's
// vocabulary, and the Hunyuan chat format with thinking and tools; what a
// prompt is made of before hy2bit/generate.h runs it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hy2bit/model.h"
#include "hy2bit/result.h"
#include "hy2bit/tools.h"

namespace hy2bit {

// ---- tokens --------------------------------------------------------------

struct TokenizeOptions {
  bool add_bos = true;        // prepend BOS if the model's add_bos_token says so
  bool parse_special = true;  // "<｜hy_User｜>" in the text becomes the control token
};
// Text must be valid UTF-8 (an Error names the first bad byte otherwise).
// tokenize, token_to_piece and render_chat only read the model: they are
// safe to call from several threads at once (the server's HTTP threads do).
Result<std::vector<int32_t>> tokenize(const Model& model, std::string_view text,
                                      const TokenizeOptions& options = {});
// The bytes a token stands for (control tokens render as their text).
std::string token_to_piece(const Model& model, int32_t id);
// The text a generated token adds to a reply: as token_to_piece, except that
// control tokens add nothing, but for the reasoning tags <think> </think>
// <answer> </answer>, which ReasoningSplitter consumes. So a reply never
// carries control-token text a client could send back as a forged turn.
std::string token_to_reply_piece(const Model& model, int32_t id);
// True for tokens that end a reply (EOS, end of turn).
bool is_end_of_generation(const Model& model, int32_t id);

// ---- chat format ---------------------------------------------------------

enum class Role { kSystem, kUser, kAssistant, kTool };
struct ChatMessage {
  Role role;
  std::string content;
  std::vector<ToolCall> tool_calls = {};  // assistant turns that called tools (hy2bit/tools.h)
};
enum class Thinking {
  kDefault,  // on, unless the last user message starts with /no_think
  kOn,       // forced on
  kOff,      // forced off (as enable_thinking=false)
};
// The prompt for `messages` in the Hunyuan chat format (see hy-model.md),
// ending with the assistant prefix and, when thinking is off, the empty
// think block "<think>\n\n</think>\n".
// With `tools_json` (an OpenAI tools array, JSON text) the tools are
// rendered as Hunyuan's tool template does (src/text/chat_format.h).
std::string render_chat(const Model& model, const std::vector<ChatMessage>& messages,
                        Thinking thinking = Thinking::kDefault, std::string_view tools_json = {});
// The render_chat prompt as token ids (BOS included), with only the
// format's own strings parsed as control tokens: message content, the tools
// preamble and the <tool_calls> / <tool_response> markup are tokenized as
// plain text, so "<｜hy_User｜>" typed by a user stays text.
Result<std::vector<int32_t>> tokenize_chat(const Model& model, const std::vector<ChatMessage>& messages,
                                           Thinking thinking = Thinking::kDefault, std::string_view tools_json = {});
// Whether thinking is on for these messages.
bool thinking_enabled(const std::vector<ChatMessage>& messages, Thinking thinking);

}  // namespace hy2bit
