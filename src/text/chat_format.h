// The Hunyuan (hunyuan-dense) chat format: turns a conversation into the prompt
// text the model was trained on, special-token strings included, and decides
// whether thinking is on. One explicit format, no template detection; the
// prompt is tokenized with parse_special = true and no extra BOS.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hy2bit/result.h"
#include "text/tool_calls.h"

namespace hy2bit::text {

class Tokenizer;

// Special-token strings of the format ('｜' is U+FF5C, '▁' is U+2581).
inline constexpr std::string_view kHyBos = "<｜hy_begin▁of▁sentence｜>";
inline constexpr std::string_view kHyUser = "<｜hy_User｜>";
inline constexpr std::string_view kHyAssistant = "<｜hy_Assistant｜>";
inline constexpr std::string_view kHyEndOfTurn = "<｜hy_place▁holder▁no▁2｜>";     // ends an assistant turn (EOS)
inline constexpr std::string_view kHyEndOfSystem = "<｜hy_place▁holder▁no▁3｜>";   // ends the system prompt
// Starts a reply when thinking is off (what chat templates emit for enable_thinking = false).
inline constexpr std::string_view kEmptyThinkBlock = "<think>\n\n</think>\n";
inline constexpr std::string_view kNoThinkPrefix = "/no_think";
inline constexpr std::string_view kThinkPrefix = "/think";

enum class ChatRole { kSystem, kUser, kAssistant, kTool };

struct ChatMessage {
  ChatRole role = ChatRole::kUser;
  std::string content;
  std::vector<ToolCall> tool_calls = {};  // assistant: the calls it made (text/tool_calls.h)
};

enum class ThinkingMode {
  kDefault,  // follow the latest user message's /no_think or /think prefix; on otherwise
  kOn,       // think, whatever the messages say
  kOff,      // do not think, whatever the messages say
};

struct ChatRenderOptions {
  bool add_generation_prompt = true;           // end with <｜hy_Assistant｜> so the model replies
  ThinkingMode thinking = ThinkingMode::kDefault;
  std::string bos_text = std::string(kHyBos);  // the vocabulary's BOS text (Tokenizer::text(bos()))
  std::string tools_json = "";                 // a JSON array of tools; empty: no tools
};

// kOn or kOff: an explicit option wins; otherwise the latest user message
// decides ("/no_think..." -> off, "/think..." -> on); otherwise on.
ThinkingMode effective_thinking(std::span<const ChatMessage> messages, ThinkingMode option);
inline bool thinking_enabled(std::span<const ChatMessage> messages, ThinkingMode option) {
  return effective_thinking(messages, option) == ThinkingMode::kOn;
}

// A past assistant reply as it is kept in the history: the think block
// ("<think>...</think>" and the newlines after it) removed, the rest (usually
// "<answer>\n...\n</answer>") kept verbatim. An unfinished think block
// (no "</think>") leaves nothing.
std::string strip_thinking(std::string_view assistant_content);

// Renders the prompt:
//   options.bos_text (<｜hy_begin▁of▁sentence｜>) then, per message in order:
//     system:    content <｜hy_place▁holder▁no▁3｜>
//     user:      <｜hy_User｜> content
//     assistant: <｜hy_Assistant｜> content <｜hy_place▁holder▁no▁2｜>
//   then, with add_generation_prompt, <｜hy_Assistant｜>, followed by
//   "<think>\n\n</think>\n" when effective_thinking() is kOff.
// Assistant messages before the latest user message go through
// strip_thinking(); ones after it (a reply being continued) are kept verbatim.
// With tools_json, as Hunyuan's tool template does (text/tool_calls.h): the
// first message becomes the tools preamble (a leading system prompt folded
// into it; a leading user message after it), user content gets "用户：",
// assistant content "助手：" or, with tool_calls, the <tool_calls> block, and
// a tool message is a user-side turn <｜hy_User｜><tool_response>...</tool_response>.
std::string render_chat(std::span<const ChatMessage> messages, const ChatRenderOptions& options = {});

// The same prompt in parts, so it can be tokenized safely: the format's own
// strings (from_template) may become control tokens, message content must
// be tokenized as plain text (a user who types "<｜hy_User｜>" forges no turn).
struct ChatPart {
  std::string text;
  bool from_template = false;
};
std::vector<ChatPart> render_chat_parts(std::span<const ChatMessage> messages, const ChatRenderOptions& options = {});

// Checks that the vocabulary has every special-token string of the format as
// a control token and that BOS is <｜hy_begin▁of▁sentence｜>, so a prompt from
// render_chat() tokenizes as intended. The Error names the missing string.
Status check_chat_vocab(const Tokenizer& tokenizer);

}  // namespace hy2bit::text
