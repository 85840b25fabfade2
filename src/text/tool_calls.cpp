// Hunyuan tool-call markup: the tools preamble and past calls as the
// Hunyuan-A13B chat template writes them (text quoted from its
// tokenizer_config.json, the time line left out), the streaming parser of a
// reply's <tool_calls> block, and the grammar that forces such a block.
#include "text/tool_calls.h"

#include <nlohmann/json.hpp>

#include "generate/grammar/json_schema.h"

namespace hy2bit::text {
namespace {

using json = nlohmann::ordered_json;

constexpr std::string_view kFormatExample =
    "<tool_calls>[{\"name\": \"func_name1\", \"arguments\": {\"argument1\": \"value1\", \"argument2\": \"value2\"}},...]</tool_calls>";

// Length of the longest suffix of `text` that is a proper prefix of `word`.
size_t partial_suffix(std::string_view text, std::string_view word) {
  for (size_t n = std::min(text.size(), word.size() - 1); n > 0; --n)
    if (text.substr(text.size() - n) == word.substr(0, n)) return n;
  return 0;
}

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

// Index just past the JSON object starting at text[0] == '{', or npos if it
// has not closed yet. Strings and escapes are skipped, so braces inside
// string values do not count.
size_t object_end(std::string_view text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') ++depth;
    else if ((c == '}' || c == ']') && --depth == 0) return i + 1;
  }
  return std::string_view::npos;
}

// Whether `v` is a string holding the JSON text of an object (OpenAI's form
// of arguments, which some models copy): only then is it a call's arguments,
// since ToolCall::arguments is JSON text that render_tool_calls writes back
// into the prompt unquoted.
bool holds_json_object(const json& v) {
  if (!v.is_string()) return false;
  const std::string& text = v.get_ref<const std::string&>();
  return grammar::json_nesting_within(text, 128) && json::parse(text, nullptr, /*allow_exceptions=*/false).is_object();
}

}  // namespace

std::string render_tools_preamble(std::string_view tools_json, std::string_view system, bool has_system) {
  std::string out =
      "你是一位函数组合专家。你会得到一个问题和一组可能的函数。根据问题，你需要进行一个或多个函数/工具调用以实现目的。\n"
      "如果没有一个函数可以使用，请直接使用自然语言回复用户，以助手：开头。\n"
      "如果给定的问题缺少函数所需的参数，请使用自然语言进行提问，向用户询问必要信息，以助手：开头。\n"
      "如果调用结果已经足够回答用户问题，请对历史结果进行总结，使用自然语言回复用户，以助手：开头。\n"
      "你应该只在工具调用部分返回函数调用。如果你决定调用任何函数，你必须将其格式化为";
  out += kFormatExample;
  out += "。你不应该在回复中包含任何其他文本。以下是你可以调用的函数列表，格式为JSON。\n";
  out += "\n";
  out += tools_json;
  out += "\n";
  if (has_system) {
    out += "\n额外要求：\n";
    out += system;
    out += "\n\n如果你决定返回函数调用，请将其格式化为";
    out += kFormatExample;
    out += "，不得包含其他文本。如果额外要求里有格式要求，请忽略，以此处为准。\n否则，请参考开头说的三种情况，以助手：开头进行回复。";
  } else {
    out += "\n如果你决定返回函数调用，请将其格式化为";
    out += kFormatExample;
    out += "，不得包含其他文本。\n否则，请参考开头说的三种情况，以助手：开头进行回复。";
  }
  return out;
}

std::string render_tool_calls(const std::vector<ToolCall>& calls) {
  // The template builds this by string concatenation: {"name": "<name>", "arguments": <arguments>}
  std::string out(kToolCallsOpen);
  out += "[";
  for (size_t i = 0; i < calls.size(); ++i) {
    if (i) out += ", ";
    out += "{\"name\": " + json(calls[i].name).dump(-1, ' ', false, json::error_handler_t::replace) +
           ", \"arguments\": " + (calls[i].arguments.empty() ? std::string("{}") : calls[i].arguments) + "}";
  }
  out += "]";
  out += kToolCallsClose;
  return out;
}

// ---- the streaming parser --------------------------------------------------

ToolCallStream::Update ToolCallStream::release_raw(Update out) {
  phase_ = Phase::kRaw;
  out.content += block_raw_ + held_;
  block_raw_.clear();
  held_.clear();
  return out;
}

void ToolCallStream::scan(Update& out) {
  while (true) {
    switch (phase_) {
      case Phase::kPrefix: {
        if (held_.size() < kToolAssistantPrefix.size() && kToolAssistantPrefix.starts_with(held_)) return;  // wait
        if (std::string_view(held_).starts_with(kToolAssistantPrefix)) held_.erase(0, kToolAssistantPrefix.size());
        phase_ = Phase::kText;
        break;
      }
      case Phase::kText: {
        const size_t at = held_.find(kToolCallsOpen);
        if (at == std::string::npos) {
          const size_t keep = partial_suffix(held_, kToolCallsOpen);
          out.content += held_.substr(0, held_.size() - keep);
          held_.erase(0, held_.size() - keep);
          return;
        }
        out.content += held_.substr(0, at);
        block_raw_ = std::string(kToolCallsOpen);
        held_.erase(0, at + kToolCallsOpen.size());
        phase_ = Phase::kOpen;
        break;
      }
      case Phase::kOpen:
      case Phase::kList:
      case Phase::kAfterList: {
        size_t i = 0;
        while (i < held_.size() && (is_space(held_[i]) || (phase_ == Phase::kList && held_[i] == ','))) ++i;
        block_raw_ += held_.substr(0, i);
        held_.erase(0, i);
        if (held_.empty()) return;  // wait
        if (phase_ == Phase::kOpen) {
          if (held_[0] != '[') {
            error_ = "the <tool_calls> block does not hold a JSON array";
            out = release_raw(std::move(out));
            return;
          }
          block_raw_ += '[';
          held_.erase(0, 1);
          phase_ = Phase::kList;
          break;
        }
        if (phase_ == Phase::kAfterList) {
          if (held_.size() < kToolCallsClose.size() && kToolCallsClose.starts_with(held_)) return;  // wait
          if (!std::string_view(held_).starts_with(kToolCallsClose)) {
            error_ = "the <tool_calls> array is not followed by </tool_calls>";
            out = release_raw(std::move(out));
            return;
          }
          held_.erase(0, kToolCallsClose.size());
          block_raw_.clear();
          phase_ = Phase::kDone;
          break;
        }
        // kList: the next call, or the end of the array.
        if (held_[0] == ']') {
          block_raw_ += ']';
          held_.erase(0, 1);
          phase_ = Phase::kAfterList;
          break;
        }
        if (held_[0] != '{') {
          error_ = "a <tool_calls> entry is not a JSON object";
          out = release_raw(std::move(out));
          return;
        }
        const size_t end = object_end(held_);
        if (end == std::string::npos) return;  // wait for the object to close
        const std::string_view text = std::string_view(held_).substr(0, end);
        const json call = grammar::json_nesting_within(text, 128) ? json::parse(text, nullptr, /*allow_exceptions=*/false)
                                                                  : json(json::value_t::discarded);
        const bool has_name = call.is_object() && call.contains("name") && call["name"].is_string();
        const json* args = has_name && call.contains("arguments") ? &call["arguments"] : nullptr;
        if (!has_name || (args && !args->is_object() && !holds_json_object(*args))) {
          error_ = "a <tool_calls> entry is not {\"name\": string, \"arguments\": object}";
          out = release_raw(std::move(out));
          return;
        }
        ToolCall c;
        c.id = id_prefix_ + std::to_string(n_calls_++);
        c.name = call["name"].get<std::string>();
        c.arguments = !args ? "{}" : args->is_string() ? args->get<std::string>() : args->dump();
        out.calls.push_back(std::move(c));
        block_raw_ += held_.substr(0, end);
        held_.erase(0, end);
        break;
      }
      case Phase::kDone:
      case Phase::kRaw:
        out.content += held_;
        held_.clear();
        return;
    }
  }
}

ToolCallStream::Update ToolCallStream::push(std::string_view piece) {
  Update out;
  held_ += piece;
  scan(out);
  return out;
}

ToolCallStream::Update ToolCallStream::finish() {
  Update out;
  if (phase_ == Phase::kPrefix) phase_ = Phase::kText;
  scan(out);
  if (phase_ == Phase::kText || phase_ == Phase::kDone || phase_ == Phase::kRaw) {
    out.content += held_;  // a held partial "<tool_calls" is just text
    held_.clear();
    return out;
  }
  error_ = "the reply ended inside the <tool_calls> block";
  return release_raw(std::move(out));
}

ParsedToolCalls parse_tool_calls(std::string_view reply, std::string_view id_prefix) {
  ToolCallStream stream{std::string(id_prefix)};
  ToolCallStream::Update a = stream.push(reply);
  ToolCallStream::Update b = stream.finish();
  ParsedToolCalls out;
  out.error = stream.error();
  if (!out.error.empty()) {
    std::string_view whole = reply;
    if (whole.starts_with(kToolAssistantPrefix)) whole.remove_prefix(kToolAssistantPrefix.size());
    out.content = std::string(whole);
    return out;
  }
  out.content = a.content + b.content;
  out.calls = std::move(a.calls);
  for (ToolCall& c : b.calls) out.calls.push_back(std::move(c));
  return out;
}

// ---- forcing a call --------------------------------------------------------

Result<std::string> tool_call_grammar(std::string_view tools_json, std::string_view only_name) {
  if (!grammar::json_nesting_within(tools_json, 128)) return Error{"tools: nested deeper than 128 levels"};
  const json tools = json::parse(tools_json, nullptr, /*allow_exceptions=*/false);
  if (tools.is_discarded() || !tools.is_array() || tools.empty())
    return Error{"tools: must be a non-empty JSON array"};
  std::string calls, rules;
  bool found = only_name.empty();
  for (size_t i = 0; i < tools.size(); ++i) {
    const json& t = tools[i];
    const std::string where = "tools[" + std::to_string(i) + "]";
    if (!t.is_object() || !t.contains("function") || !t["function"].is_object())
      return make_error(where, ": expected {\"type\": \"function\", \"function\": {...}}");
    const json& f = t["function"];
    if (!f.contains("name") || !f["name"].is_string()) return make_error(where, ".function.name: must be a string");
    const std::string name = f["name"].get<std::string>();
    if (!only_name.empty() && name != only_name) continue;
    found = true;
    const std::string prefix = "tool" + std::to_string(i);
    Result<std::string> args = grammar::json_schema_rules(f.contains("parameters") ? f["parameters"] : json{{"type", "object"}}, prefix);
    if (!args) return make_error(where, ".function.parameters: ", args.error().message);
    rules += *args;
    const std::string head = "{\"name\": " + json(name).dump(-1, ' ', true) + ", \"arguments\": ";
    calls += (calls.empty() ? "" : " | ") + grammar::gbnf_literal(head) + " " + prefix + " \"}\"";
  }
  if (!found) return make_error("tool_choice names the function '", only_name, "', which is not in tools");
  std::string out = "root ::= " + grammar::gbnf_literal(kToolCallsOpen) + " \"[\" call ";
  if (only_name.empty()) out += "(\", \" call)* ";
  out += "\"]\" " + grammar::gbnf_literal(kToolCallsClose) + "\ncall ::= " + calls + "\n" + rules;
  return out;
}

}  // namespace hy2bit::text
