// The public tool-calling functions (hy2bit/tools.h) over text/tool_calls.h.
#include "hy2bit/tools.h"

#include "text/tool_calls.h"

namespace hy2bit {
namespace {

ToolCall to_public(text::ToolCall c) { return {std::move(c.id), std::move(c.name), std::move(c.arguments)}; }

ToolCallParser::Update to_public(text::ToolCallStream::Update u) {
  ToolCallParser::Update out;
  out.content = std::move(u.content);
  for (text::ToolCall& c : u.calls) out.calls.push_back(to_public(std::move(c)));
  return out;
}

}  // namespace

ParsedReply parse_tool_calls(std::string_view reply, std::string_view id_prefix) {
  text::ParsedToolCalls p = text::parse_tool_calls(reply, id_prefix);
  ParsedReply out;
  out.content = std::move(p.content);
  out.error = std::move(p.error);
  for (text::ToolCall& c : p.calls) out.calls.push_back(to_public(std::move(c)));
  return out;
}

struct ToolCallParser::State {
  text::ToolCallStream stream;
};

ToolCallParser::ToolCallParser(std::string id_prefix)
    : state_(std::make_unique<State>(State{text::ToolCallStream(std::move(id_prefix))})) {}
ToolCallParser::~ToolCallParser() = default;
ToolCallParser::Update ToolCallParser::push(std::string_view piece) { return to_public(state_->stream.push(piece)); }
ToolCallParser::Update ToolCallParser::finish() { return to_public(state_->stream.finish()); }
size_t ToolCallParser::n_calls() const { return state_->stream.n_calls(); }
const std::string& ToolCallParser::error() const { return state_->stream.error(); }

Result<std::string> tool_call_grammar(std::string_view tools_json, std::string_view only_name) {
  return text::tool_call_grammar(tools_json, only_name);
}

}  // namespace hy2bit
