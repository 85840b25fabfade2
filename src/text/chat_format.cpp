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

std::vector<ChatPart> render_chat_parts(std::span<const ChatMessage> messages, const ChatRenderOptions& options) {
  const std::optional<size_t> last_user = last_user_index(messages);
  const bool tools = !options.tools_json.empty();
  std::vector<ChatPart> out;
  // Adjacent plain-text parts ("用户：" + content, content + <tool_calls>...)
  // are joined so they tokenize as one text, as the whole prompt would.
  auto add = [&out](std::string_view text, bool from_template) {
    if (text.empty()) return;
    if (!from_template && !out.empty() && !out.back().from_template) {
      out.back().text += text;
    } else {
      out.push_back({std::string(text), from_template});
    }
  };
  add(options.bos_text, true);
  size_t first = 0;
  if (tools) {
    // The tools preamble takes the system slot, with a leading system prompt
    // folded in. It carries the tools' JSON and the system content, so it is
    // plain text; only the end-of-system string is the format's own.
    const bool has_system = !messages.empty() && messages[0].role == ChatRole::kSystem;
    add(render_tools_preamble(options.tools_json, has_system ? std::string_view(messages[0].content) : "", has_system),
        false);
    add(kHyEndOfSystem, true);
    first = has_system ? 1 : 0;
  }
  for (size_t i = first; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    switch (m.role) {
      case ChatRole::kSystem:
        add(m.content, false);
        add(kHyEndOfSystem, true);
        break;
      case ChatRole::kUser:
        add(kHyUser, true);
        if (tools) add(kToolUserPrefix, false);
        add(m.content, false);  // a "/no_think" prefix stays: the model was trained with it
        break;
      case ChatRole::kAssistant: {
        add(kHyAssistant, true);
        const bool in_history = last_user && i < *last_user;
        const std::string content = in_history ? strip_thinking(m.content) : m.content;
        if (!m.tool_calls.empty()) {
          add(content, false);
          add(render_tool_calls(m.tool_calls), false);  // <tool_calls> markup is text, not control tokens
        } else {
          if (tools) add(kToolAssistantPrefix, false);
          add(content, false);
        }
        add(kHyEndOfTurn, true);
        break;
      }
      case ChatRole::kTool:
        add(kHyUser, true);
        add(kToolResponseOpen, false);  // <tool_response> markup is text, not control tokens
        add(m.content, false);
        add(kToolResponseClose, false);
        break;
    }
  }
  if (options.add_generation_prompt) {
    add(kHyAssistant, true);
    if (effective_thinking(messages, options.thinking) == ThinkingMode::kOff) add(kEmptyThinkBlock, true);
  }
  return out;
}

std::string render_chat(std::span<const ChatMessage> messages, const ChatRenderOptions& options) {
  std::string out;
  for (const ChatPart& part : render_chat_parts(messages, options)) out += part.text;
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
