// Tool calling in Hunyuan's markup. HY-1.8B's own chat template (the GGUF's
// tokenizer.chat_template) has no tools branch; the Hunyuan family's tool
// format is Hunyuan-A13B-Instruct's tokenizer_config.json chat template, read
// by the sglang and vLLM "hunyuan" tool parsers: the tools go into the first
// turn after a fixed instruction, a call is
//   <tool_calls>[{"name": "f", "arguments": {...}}, ...]</tool_calls>
// and a result is <tool_response>...</tool_response> in a user-side turn.
// chat_format.cpp renders with these pieces; this file also parses replies.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hy2bit/result.h"

namespace hy2bit::text {

inline constexpr std::string_view kToolCallsOpen = "<tool_calls>";
inline constexpr std::string_view kToolCallsClose = "</tool_calls>";
inline constexpr std::string_view kToolResponseOpen = "<tool_response>";
inline constexpr std::string_view kToolResponseClose = "</tool_response>";
// The template's role prefixes inside tool conversations ("用户：", "助手：").
inline constexpr std::string_view kToolUserPrefix = "用户：";
inline constexpr std::string_view kToolAssistantPrefix = "助手：";

struct ToolCall {
  std::string id;         // "call_..." (OpenAI's tool_call_id)
  std::string name;       // the function's name
  std::string arguments;  // JSON text of the arguments object
};

// The first turn's text in a conversation with tools (the template's
// instruction, then `tools_json` (a JSON array), then the closing request;
// the template's "current time" line is left out so prompts stay the same
// from one call to the next and can be cached). `system` is the conversation's
// system prompt, if it starts with one ("" otherwise: the first turn is a user's).
std::string render_tools_preamble(std::string_view tools_json, std::string_view system, bool has_system);
// <tool_calls>[{"name": "f", "arguments": {...}}, ...]</tool_calls> as the
// template writes a past assistant turn's calls (arguments kept verbatim).
std::string render_tool_calls(const std::vector<ToolCall>& calls);

// A reply split into text and calls. A malformed <tool_calls> block (JSON
// that does not parse, not an array, an entry without a string "name",
// "arguments" neither an object nor a string holding a JSON object, an
// unclosed block) leaves the whole reply as content and says why in `error`.
struct ParsedToolCalls {
  std::string content;           // the text outside the block, "助手：" prefix removed
  std::vector<ToolCall> calls;   // ids: id_prefix + index
  std::string error;             // empty if the block (if any) was well-formed
};
ParsedToolCalls parse_tool_calls(std::string_view reply, std::string_view id_prefix = "call_");

// The same, incrementally, for streamed replies: text before the block is
// released as it arrives (a possible start of "<tool_calls>" held back), each
// call as soon as its JSON object closes. After a malformed block, the rest
// of the reply is released as content.
class ToolCallStream {
 public:
  explicit ToolCallStream(std::string id_prefix = "call_") : id_prefix_(std::move(id_prefix)) {}

  struct Update {
    std::string content;          // new text for the content
    std::vector<ToolCall> calls;  // calls completed by this piece (each exactly once)
  };
  Update push(std::string_view piece);
  // The reply ended: releases held text; an unclosed block becomes content.
  Update finish();
  size_t n_calls() const { return n_calls_; }
  const std::string& error() const { return error_; }

 private:
  enum class Phase { kPrefix, kText, kOpen, kList, kAfterList, kDone, kRaw };
  void scan(Update& out);
  Update release_raw(Update out);

  std::string id_prefix_;
  Phase phase_ = Phase::kPrefix;
  std::string held_;       // text not yet released or parsed
  std::string block_raw_;  // the block's text so far (released if it turns out malformed)
  size_t n_calls_ = 0;
  std::string error_;
};

// GBNF that admits only a tool-call block for `tools_json` (an OpenAI tools
// array): one or more calls when `only_name` is empty (tool_choice
// "required"), else exactly one call of that function; arguments follow each
// function's "parameters" schema (hy2bit/structured.h's subset).
Result<std::string> tool_call_grammar(std::string_view tools_json, std::string_view only_name = {});

}  // namespace hy2bit::text
