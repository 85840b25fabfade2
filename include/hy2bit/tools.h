// The public API for tool calling in the OpenAI shape, in Hunyuan's markup
// (src/text/tool_calls.h cites the template): calls parsed out of a reply,
// whole or streamed, and the grammar that forces a call (tool_choice
// "required" or a named function). The parsers take arbitrary bytes and never
// crash: a malformed block stays text (they are fuzz targets).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hy2bit/result.h"

namespace hy2bit {

struct ToolCall {
  std::string id;         // "call_..." (the tool message's tool_call_id refers to it)
  std::string name;       // function name
  std::string arguments;  // the arguments object as JSON text
};

struct ParsedReply {
  std::string content;           // text outside the <tool_calls> block
  std::vector<ToolCall> calls;   // ids are id_prefix + 0, 1, ...
  std::string error;             // why a block was malformed (then content is the whole reply)
};
// Splits a finished reply (the answer text, after the reasoning split).
ParsedReply parse_tool_calls(std::string_view reply, std::string_view id_prefix = "call_");

// The same for a streamed reply: feed pieces, get new content and each call
// as soon as its JSON object closes.
class ToolCallParser {
 public:
  explicit ToolCallParser(std::string id_prefix = "call_");
  ~ToolCallParser();
  struct Update {
    std::string content;
    std::vector<ToolCall> calls;
  };
  Update push(std::string_view piece);
  Update finish();                 // the reply ended: releases what is held
  size_t n_calls() const;          // calls found so far
  const std::string& error() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// GBNF admitting only a Hunyuan tool-call block for `tools_json` (the OpenAI
// "tools" array): one or more calls, or exactly one call of `only_name`.
// Arguments follow each function's "parameters" schema. Errors name the tool.
Result<std::string> tool_call_grammar(std::string_view tools_json, std::string_view only_name = {});

}  // namespace hy2bit
