// Fuzz target: the tool-call markup (src/text/tool_calls.h) over arbitrary
// bytes. Input layout: byte 0 picks the mode and seeds the piece lengths.
// Even: the rest is a model reply, through parse_tool_calls and through
// ToolCallStream cut into pieces. Odd: the rest is a tools array, through
// render_tools_preamble and tool_call_grammar.
// Invariants (what tool_calls.h documents): a malformed block leaves the
// whole reply as content and gives no calls; ids are id_prefix + index;
// arguments are the JSON text of an object; the stream, however the reply is
// cut, gives the same content, calls and error as the whole parse; calls
// rendered by render_tool_calls parse back to themselves; the preamble holds
// the tools and the system text verbatim; a tool grammar is GBNF that parses.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "support.h"
#include "generate/grammar/grammar.h"
#include "text/tool_calls.h"

using namespace hy2bit;

namespace {

// Same ids and names; arguments the same text, or with `same_value` the same
// JSON value (rendering writes arguments given as a string back as an object).
bool same_calls(const std::vector<text::ToolCall>& a, const std::vector<text::ToolCall>& b, bool same_value = false) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].id != b[i].id || a[i].name != b[i].name) return false;
    const bool same_args = same_value ? nlohmann::json::parse(a[i].arguments) == nlohmann::json::parse(b[i].arguments)
                                      : a[i].arguments == b[i].arguments;
    if (!same_args) return false;
  }
  return true;
}

// Feeds `reply` in pieces of 1..max_piece bytes, lengths drawn from `seed`.
text::ParsedToolCalls stream(std::string_view reply, uint32_t seed, size_t max_piece) {
  text::ToolCallStream s;
  text::ParsedToolCalls out;
  auto take = [&](text::ToolCallStream::Update u) {
    out.content += u.content;
    for (text::ToolCall& c : u.calls) out.calls.push_back(std::move(c));
  };
  while (!reply.empty()) {
    seed = seed * 1103515245u + 12345u;
    const size_t n = std::min(reply.size(), 1 + (seed >> 16) % max_piece);
    take(s.push(reply.substr(0, n)));
    reply.remove_prefix(n);
  }
  take(s.finish());
  out.error = s.error();
  return out;
}

void check_reply(std::string_view reply, uint8_t seed) {
  const text::ParsedToolCalls whole = text::parse_tool_calls(reply);
  std::string_view unprefixed = reply;
  if (unprefixed.starts_with(text::kToolAssistantPrefix)) unprefixed.remove_prefix(text::kToolAssistantPrefix.size());
  fuzz::check(whole.content.size() <= unprefixed.size(), "the parser only removes");
  if (!whole.error.empty()) {
    fuzz::check(whole.calls.empty() && whole.content == unprefixed, "a malformed block leaves the reply as content");
  }
  for (size_t i = 0; i < whole.calls.size(); ++i) {
    const text::ToolCall& c = whole.calls[i];
    fuzz::check(c.id == "call_" + std::to_string(i), "ids are id_prefix + index");
    const nlohmann::json args = nlohmann::json::parse(c.arguments, nullptr, /*allow_exceptions=*/false);
    fuzz::check(args.is_object(), "arguments are the JSON text of an object");
  }

  // The stream's calls come out as they close, even if the block later turns
  // out malformed; its content and error are those of the whole parse.
  for (const auto& [piece_seed, max_piece] : {std::pair<uint32_t, size_t>{0, 1}, {seed, 1u + seed % 16}}) {
    const text::ParsedToolCalls pieces = stream(reply, piece_seed, max_piece);
    fuzz::check(pieces.content == whole.content, "the stream gives the whole parse's content");
    fuzz::check(pieces.error == whole.error, "the stream gives the whole parse's error");
    if (whole.error.empty()) fuzz::check(same_calls(pieces.calls, whole.calls), "the stream gives the same calls");
  }

  if (!whole.calls.empty()) {
    const text::ParsedToolCalls again = text::parse_tool_calls(text::render_tool_calls(whole.calls));
    fuzz::check(again.error.empty() && again.content.empty(), "rendered calls parse as a block");
    fuzz::check(same_calls(again.calls, whole.calls, /*same_value=*/true), "rendered calls parse back to themselves");
  }
}

void check_tools(std::string_view tools_json) {
  constexpr std::string_view kSystem = "be brief";
  const std::string with_system = text::render_tools_preamble(tools_json, kSystem, true);
  fuzz::check(with_system.find(tools_json) != std::string::npos, "the preamble holds the tools verbatim");
  fuzz::check(with_system.find(kSystem) != std::string::npos, "the preamble holds the system text");
  const std::string without = text::render_tools_preamble(tools_json, {}, false);
  fuzz::check(without.find(tools_json) != std::string::npos, "the preamble holds the tools verbatim");

  Result<std::string> gbnf = text::tool_call_grammar(tools_json);
  if (!gbnf) {
    fuzz::check(!gbnf.error().message.empty(), "a refused tools array has a message");
    fuzz::trace_refusal("tool_call_grammar", gbnf.error());
    return;
  }
  Result<grammar::Grammar> g = grammar::parse_gbnf(*gbnf);
  if (!g) fuzz::trace_refusal("parse_gbnf", g.error());
  fuzz::check(g.ok(), "a tool grammar parses");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) check_tools(rest);
  else check_reply(rest, data[0]);
  return 0;
}
