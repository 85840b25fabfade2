// Hunyuan chat format. Source: docs/hy-model.md ("Chat format and thinking"),
// which agrees with the tokenizer.chat_template jinja stored in hunyuan-dense
// GGUFs (testdata hy-tiny-*.gguf: bos_token, then system content +
// <｜hy_place▁holder▁no▁3｜>, <｜hy_User｜> + content, <｜hy_Assistant｜> +
// content + <｜hy_place▁holder▁no▁2｜>, generation prompt <｜hy_Assistant｜>).
// Thinking switches and the empty think block follow the same document.
#include "text/chat_format.h"

#include <optional>

#include "text/tokenizer.h"

namespace hy2bit::text {
namespace {

constexpr std::string_view kThinkOpen = "<think>";
constexpr std::string_view kThinkClose = "</think>";

// Index of the latest user message, if any.
std::optional<size_t> last_user_index(std::span<const ChatMessage> messages) {
  for (size_t i = messages.size(); i-- > 0;) {
    if (messages[i].role == ChatRole::kUser) return i;
  }
  return std::nullopt;
}

}  // namespace

ThinkingMode effective_thinking(std::span<const ChatMessage> messages, ThinkingMode option) {
  if (option != ThinkingMode::kDefault) return option;
  if (const std::optional<size_t> last = last_user_index(messages)) {
    const std::string_view content = messages[*last].content;
    if (content.starts_with(kNoThinkPrefix)) return ThinkingMode::kOff;
    if (content.starts_with(kThinkPrefix)) return ThinkingMode::kOn;
  }
  return ThinkingMode::kOn;  // Hunyuan thinks by default
}

std::string strip_thinking(std::string_view content) {
  const size_t close = content.rfind(kThinkClose);
  if (close != std::string_view::npos) {
    std::string_view rest = content.substr(close + kThinkClose.size());
    while (!rest.empty() && (rest.front() == '\n' || rest.front() == '\r')) rest.remove_prefix(1);
    return std::string(rest);
  }
  // An opened but unfinished think block is all reasoning.
  const size_t first = content.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && content.substr(first).starts_with(kThinkOpen)) return {};
  return std::string(content);
}

std::string render_chat(std::span<const ChatMessage> messages, const ChatRenderOptions& options) {
  const std::optional<size_t> last_user = last_user_index(messages);
  const bool tools = !options.tools_json.empty();
  std::string out(options.bos_text);
  size_t first = 0;
  if (tools) {
    // The tools preamble takes the system slot, with a leading system prompt folded in.
    const bool has_system = !messages.empty() && messages[0].role == ChatRole::kSystem;
    out += render_tools_preamble(options.tools_json, has_system ? std::string_view(messages[0].content) : "",
                                 has_system);
    out += kHyEndOfSystem;
    first = has_system ? 1 : 0;
  }
  for (size_t i = first; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    switch (m.role) {
      case ChatRole::kSystem:
        out += m.content;
        out += kHyEndOfSystem;
        break;
      case ChatRole::kUser:
        out += kHyUser;
        if (tools) out += kToolUserPrefix;
        out += m.content;  // a "/no_think" prefix stays: the model was trained with it
        break;
      case ChatRole::kAssistant: {
        out += kHyAssistant;
        const bool in_history = last_user && i < *last_user;
        const std::string content = in_history ? strip_thinking(m.content) : m.content;
        if (!m.tool_calls.empty()) {
          out += content;
          out += render_tool_calls(m.tool_calls);
        } else {
          if (tools) out += kToolAssistantPrefix;
          out += content;
        }
        out += kHyEndOfTurn;
        break;
      }
      case ChatRole::kTool:
        out += kHyUser;
        out += kToolResponseOpen;
        out += m.content;
        out += kToolResponseClose;
        break;
    }
  }
  if (options.add_generation_prompt) {
    out += kHyAssistant;
    if (effective_thinking(messages, options.thinking) == ThinkingMode::kOff) out += kEmptyThinkBlock;
  }
  return out;
}

Status check_chat_vocab(const Tokenizer& tokenizer) {
  for (const std::string_view s : {kHyBos, kHyUser, kHyAssistant, kHyEndOfTurn, kHyEndOfSystem}) {
    const std::optional<int32_t> id = tokenizer.find_token(s);
    if (!id) return make_error("the vocabulary has no token '", s, "', which the Hunyuan chat format needs");
    if (!tokenizer.is_control(*id))
      return make_error("the vocabulary's token '", s, "' (id ", *id, ") is not a control token (type 3)");
  }
  if (tokenizer.text(tokenizer.bos()) != kHyBos)
    return make_error("the BOS token (id ", tokenizer.bos(), ") is '", tokenizer.text(tokenizer.bos()),
                      "', expected '", kHyBos, "'");
  return Ok{};
}

}  // namespace hy2bit::text
