// Request validation: JSON -> ChatRequest / CompletionRequest. Field names
// and defaults follow the OpenAI API reference; sampling extensions
// (top_k, min_p, repetition_penalty) and chat_template_kwargs follow vLLM
// and llama.cpp. Unknown fields are ignored, as OpenAI-compatible servers do,
// but known ones this server cannot honour are refused by name.
#include "server/request_parsing.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>

#include "hy2bit/structured.h"
#include "hy2bit/tools.h"

namespace hy2bit::server {
namespace {

using nlohmann::json;

const char* type_name(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

// A number as people write it: 0.8, 1e+30, 5 (not 0.800000).
std::string num(double x) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", x);
  return text;
}

// The value of `key`, or nullptr when absent or null (both mean "default").
const json* field(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

Status read_bool(const json& body, const char* key, bool& out) {
  const json* v = field(body, key);
  if (!v) return Ok{};
  if (!v->is_boolean()) return make_error("'", key, "' must be a boolean, got ", type_name(*v));
  out = v->get<bool>();
  return Ok{};
}

// A number in [lo, hi] (lo excluded when lo_open). Finite by construction:
// JSON has no NaN or infinity.
Status read_float(const json& body, const char* key, double lo, double hi, bool lo_open, float& out) {
  const json* v = field(body, key);
  if (!v) return Ok{};
  if (!v->is_number()) return make_error("'", key, "' must be a number, got ", type_name(*v));
  const double x = v->get<double>();
  if ((lo_open ? x <= lo : x < lo) || x > hi) {
    return make_error("'", key, "' must be in ", lo_open ? "(" : "[", num(lo), ", ", num(hi), "], got ", num(x));
  }
  out = static_cast<float>(x);
  return Ok{};
}

// An integer in [lo, hi]; 3.0 counts as an integer, 3.5 does not.
Status read_int(const json& body, const char* key, int64_t lo, int64_t hi, int64_t& out) {
  const json* v = field(body, key);
  if (!v) return Ok{};
  if (!v->is_number()) return make_error("'", key, "' must be an integer, got ", type_name(*v));
  if (v->is_number_float()) {
    const double x = v->get<double>();
    if (x != std::floor(x) || x < static_cast<double>(lo) || x > static_cast<double>(hi))
      return make_error("'", key, "' must be an integer in [", lo, ", ", hi, "], got ", num(x));
    out = static_cast<int64_t>(x);
    return Ok{};
  }
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(hi))
    return make_error("'", key, "' must be an integer in [", lo, ", ", hi, "], got ", v->get<uint64_t>());
  const int64_t x = v->get<int64_t>();
  if (x < lo || x > hi) return make_error("'", key, "' must be an integer in [", lo, ", ", hi, "], got ", x);
  out = x;
  return Ok{};
}

// OpenAI's logit_bias: {"token id": bias in [-100, 100], ...}; the bias is
// added to that token's logit (-100 in effect bans it, as OpenAI says).
Status read_logit_bias(const json& body, int64_t n_vocab, std::vector<LogitBias>& out) {
  const json* v = field(body, "logit_bias");
  if (!v) return Ok{};
  if (!v->is_object()) return make_error("'logit_bias' must be an object of token id -> bias, got ", type_name(*v));
  if (static_cast<int64_t>(v->size()) > n_vocab)
    return make_error("'logit_bias' has ", v->size(), " entries, more than the ", n_vocab, " tokens of the vocabulary");
  for (const auto& [key, bias] : v->items()) {
    char* end = nullptr;
    errno = 0;
    const long long id = key.empty() ? -1 : std::strtoll(key.c_str(), &end, 10);
    if (key.empty() || errno != 0 || *end != '\0' || id < 0 || id >= n_vocab)
      return make_error("'logit_bias' key \"", key, "\" is not a token id in [0, ", n_vocab, ")");
    if (!bias.is_number()) return make_error("'logit_bias[\"", key, "\"]' must be a number, got ", type_name(bias));
    const double b = bias.get<double>();
    if (b < -100.0 || b > 100.0) return make_error("'logit_bias[\"", key, "\"]' must be in [-100, 100], got ", num(b));
    out.push_back({static_cast<int32_t>(id), static_cast<float>(b)});
  }
  return Ok{};
}

// Fields shared by both endpoints: sampling, max tokens, stop, n, seed, stream.
struct CommonFields {
  GenerateOptions generate;
  bool stream = false;
  bool include_usage = false;
  int32_t n = 1;
};

Status read_common(const json& body, const SamplingOptions& defaults, uint64_t seed, int32_t default_max_tokens,
                   int64_t n_vocab, CommonFields& out) {
  SamplingOptions& s = out.generate.sampling;
  s = defaults;
  s.seed = seed;
  HY2BIT_TRY(read_float(body, "temperature", 0.0, 100.0, false, s.temperature));
  HY2BIT_TRY(read_float(body, "top_p", 0.0, 1.0, true, s.top_p));
  HY2BIT_TRY(read_float(body, "min_p", 0.0, 1.0, false, s.min_p));
  HY2BIT_TRY(read_float(body, "repetition_penalty", 0.0, 10.0, true, s.repeat_penalty));
  int64_t top_k = s.top_k;
  HY2BIT_TRY(read_int(body, "top_k", -1, std::numeric_limits<int32_t>::max(), top_k));
  s.top_k = static_cast<int32_t>(top_k);
  // OpenAI's penalties, over the same window as repetition_penalty.
  HY2BIT_TRY(read_float(body, "presence_penalty", -2.0, 2.0, false, s.presence_penalty));
  HY2BIT_TRY(read_float(body, "frequency_penalty", -2.0, 2.0, false, s.frequency_penalty));
  HY2BIT_TRY(read_logit_bias(body, n_vocab, s.logit_bias));

  if (const json* v = field(body, "seed")) {
    if (!v->is_number_integer()) return make_error("'seed' must be an integer, got ", type_name(*v));
    s.seed = v->is_number_unsigned() ? v->get<uint64_t>() : static_cast<uint64_t>(v->get<int64_t>());
  }

  int64_t max_tokens = default_max_tokens;
  HY2BIT_TRY(read_int(body, "max_tokens", 0, std::numeric_limits<int32_t>::max(), max_tokens));
  HY2BIT_TRY(read_int(body, "max_completion_tokens", 0, std::numeric_limits<int32_t>::max(), max_tokens));
  out.generate.max_tokens = static_cast<int32_t>(max_tokens);

  int64_t n = 1;
  HY2BIT_TRY(read_int(body, "n", 1, kMaxChoices, n));
  out.n = static_cast<int32_t>(n);

  if (const json* v = field(body, "stop")) {
    std::vector<std::string>& stop = out.generate.stop;
    if (v->is_string()) {
      stop.push_back(v->get<std::string>());
    } else if (v->is_array()) {
      if (v->size() > kMaxStopStrings)
        return make_error("'stop' has ", v->size(), " strings, at most ", kMaxStopStrings, " are allowed");
      for (const json& s_item : *v) {
        if (!s_item.is_string()) return make_error("'stop' must hold strings, got ", type_name(s_item));
        stop.push_back(s_item.get<std::string>());
      }
    } else {
      return make_error("'stop' must be a string or an array of strings, got ", type_name(*v));
    }
    for (const std::string& s_item : stop)
      if (s_item.size() > kMaxStopBytes)
        return make_error("'stop' strings are at most ", kMaxStopBytes, " bytes, got one of ", s_item.size());
    std::erase(stop, std::string());  // an empty stop string would stop nothing
  }

  HY2BIT_TRY(read_bool(body, "stream", out.stream));
  if (out.stream && out.n > 1) return make_error("'n' > 1 works only without 'stream' (got n = ", out.n, ")");
  if (const json* v = field(body, "stream_options")) {
    if (!v->is_object()) return make_error("'stream_options' must be an object, got ", type_name(*v));
    HY2BIT_TRY(read_bool(*v, "include_usage", out.include_usage));
  }
  return Ok{};
}

// Message content: a string, or an array of {"type": "text", "text": ...} parts (joined by newlines).
Result<std::string> read_content(const json& message, size_t index) {
  const auto it = message.find("content");
  if (it == message.end() || it->is_null()) {
    return make_error("'messages[", index, "].content' is missing");
  }
  if (it->is_string()) return it->get<std::string>();
  if (!it->is_array()) {
    return make_error("'messages[", index, "].content' must be a string or an array of text parts, got ",
                      type_name(*it));
  }
  std::string text;
  for (size_t p = 0; p < it->size(); ++p) {
    const json& part = (*it)[p];
    if (!part.is_object()) return make_error("'messages[", index, "].content[", p, "]' must be an object");
    const auto type = part.find("type");
    if (type == part.end() || !type->is_string() || type->get<std::string>() != "text") {
      return make_error("'messages[", index, "].content[", p, "].type' must be \"text\" (only text is supported)");
    }
    const auto part_text = part.find("text");
    if (part_text == part.end() || !part_text->is_string())
      return make_error("'messages[", index, "].content[", p, "].text' must be a string");
    if (p > 0) text += '\n';
    text += part_text->get<std::string>();
  }
  return text;
}

Result<Role> read_role(const json& message, size_t index) {
  const auto it = message.find("role");
  if (it == message.end() || !it->is_string()) return make_error("'messages[", index, "].role' must be a string");
  const std::string& role = it->get_ref<const std::string&>();
  if (role == "system" || role == "developer") return Role::kSystem;
  if (role == "user") return Role::kUser;
  if (role == "assistant") return Role::kAssistant;
  if (role == "tool") return Role::kTool;
  return make_error("'messages[", index, "].role' is \"", role,
                    "\"; expected \"system\", \"developer\", \"user\", \"assistant\" or \"tool\"");
}

// `body` re-read from its text with keys in written order (schemas keep
// their property order), or `body` itself as ordered JSON.
nlohmann::ordered_json ordered_body(const json& body, std::string_view body_text) {
  if (!body_text.empty()) {
    nlohmann::ordered_json o = nlohmann::ordered_json::parse(body_text, nullptr, /*allow_exceptions=*/false);
    if (!o.is_discarded() && o.is_object()) return o;
  }
  return nlohmann::ordered_json::parse(body.dump());
}

// response_format: text (nothing to do), json_object (any object; llama.cpp's
// extension {"type": "json_object", "schema": {...}} too) or json_schema.
Status read_response_format(const json& body, std::string_view body_text, GenerateOptions& out) {
  const json* v = field(body, "response_format");
  if (!v) return Ok{};
  if (!v->is_object()) return make_error("'response_format' must be an object, got ", type_name(*v));
  const auto type = v->find("type");
  if (type == v->end() || !type->is_string())
    return make_error("'response_format.type' must be \"text\", \"json_object\" or \"json_schema\"");
  const std::string& t = type->get_ref<const std::string&>();
  if (t == "text") return Ok{};
  const nlohmann::ordered_json ordered = ordered_body(body, body_text)["response_format"];
  const nlohmann::ordered_json* schema = nullptr;
  if (t == "json_object") {
    if (ordered.contains("schema") && !ordered["schema"].is_null()) schema = &ordered["schema"];
  } else if (t == "json_schema") {
    if (!ordered.contains("json_schema") || !ordered["json_schema"].is_object() ||
        !ordered["json_schema"].contains("schema"))
      return make_error("'response_format.json_schema.schema' is missing");
    schema = &ordered["json_schema"]["schema"];
  } else {
    return make_error("'response_format.type' is \"", t, "\"; expected \"text\", \"json_object\" or \"json_schema\"");
  }
  if (!schema) {
    out.grammar = json_object_grammar();
    return Ok{};
  }
  Result<std::string> gbnf = json_schema_to_grammar(schema->dump());
  if (!gbnf) return make_error("'response_format' schema: ", gbnf.error().message);
  out.grammar = std::move(*gbnf);
  return Ok{};
}

// Refuses features this server does not have, rather than silently ignoring them.
Status refuse_unsupported(const json& body) {
  if (const json* v = field(body, "functions"); v && !(v->is_array() && v->empty()))
    return make_error("'functions' is not supported (deprecated by OpenAI); use 'tools'");
  if (const json* v = field(body, "suffix"); v && !(v->is_string() && v->get<std::string>().empty()))
    return make_error("'suffix' is not supported");
  int64_t best_of = 1;
  HY2BIT_TRY(read_int(body, "best_of", 1, std::numeric_limits<int32_t>::max(), best_of));
  if (best_of != 1) return make_error("'best_of' must be 1, got ", best_of);
  return Ok{};
}

// One prompt given as token ids (`key` names the field in messages).
Result<PromptInput> read_token_prompt(const json& ids, int64_t n_vocab, size_t index, const char* key = "prompt") {
  PromptInput prompt;
  prompt.is_tokens = true;
  if (ids.empty()) return make_error("'", key, "[", index, "]' is an empty list of token ids");
  prompt.tokens.reserve(ids.size());
  for (const json& id : ids) {
    if (!id.is_number_integer()) return make_error("'", key, "' token ids must be integers, got ", type_name(id));
    const int64_t v = id.is_number_unsigned() ? static_cast<int64_t>(std::min<uint64_t>(id.get<uint64_t>(), INT64_MAX))
                                              : id.get<int64_t>();
    if (v < 0 || v >= n_vocab) return make_error("'", key, "' token id ", v, " is outside the vocabulary [0, ", n_vocab, ")");
    prompt.tokens.push_back(static_cast<int32_t>(v));
  }
  return prompt;
}

// OpenAI's prompt / input shapes: "text" | ["text", ...] | [id, ...] |
// [[id, ...], ...], at most kMaxPrompts of them.
Result<std::vector<PromptInput>> read_prompt_inputs(const json& body, const char* key, int64_t n_vocab) {
  std::vector<PromptInput> prompts;
  const json* prompt = field(body, key);
  if (!prompt) return make_error("'", key, "' is missing");
  if (prompt->is_string()) {
    prompts.push_back({.is_tokens = false, .text = prompt->get<std::string>(), .tokens = {}});
  } else if (prompt->is_array()) {
    if (prompt->empty()) return make_error("'", key, "' is an empty array");
    if ((*prompt)[0].is_number()) {
      Result<PromptInput> p = read_token_prompt(*prompt, n_vocab, 0, key);
      if (!p) return p.error();
      prompts.push_back(std::move(*p));
    } else {
      if (prompt->size() > kMaxPrompts)
        return make_error("'", key, "' holds ", prompt->size(), " prompts, at most ", kMaxPrompts, " are allowed");
      for (size_t i = 0; i < prompt->size(); ++i) {
        const json& item = (*prompt)[i];
        if (item.is_string()) {
          prompts.push_back({.is_tokens = false, .text = item.get<std::string>(), .tokens = {}});
        } else if (item.is_array()) {
          Result<PromptInput> p = read_token_prompt(item, n_vocab, i, key);
          if (!p) return p.error();
          prompts.push_back(std::move(*p));
        } else {
          return make_error("'", key, "[", i, "]' must be a string or an array of token ids, got ", type_name(item));
        }
      }
    }
  } else {
    return make_error("'", key, "' must be a string, an array of strings or an array of token ids, got ",
                      type_name(*prompt));
  }
  return prompts;
}

// An assistant message's tool_calls: [{"id", "type": "function", "function": {"name", "arguments"}}].
Result<std::vector<ToolCall>> read_tool_calls(const json& message, size_t index) {
  std::vector<ToolCall> calls;
  const json* v = field(message, "tool_calls");
  if (!v) return calls;
  const std::string where = "'messages[" + std::to_string(index) + "].tool_calls";
  if (!v->is_array()) return make_error(where, "' must be an array, got ", type_name(*v));
  for (size_t i = 0; i < v->size(); ++i) {
    const json& c = (*v)[i];
    const std::string at = where + "[" + std::to_string(i) + "]";
    const json* f = c.is_object() ? field(c, "function") : nullptr;
    if (!f || !f->is_object()) return make_error(at, ".function' must be an object");
    const json* name = field(*f, "name");
    if (!name || !name->is_string()) return make_error(at, ".function.name' must be a string");
    ToolCall call;
    call.name = name->get<std::string>();
    if (const json* id = field(c, "id")) {
      if (!id->is_string()) return make_error(at, ".id' must be a string");
      call.id = id->get<std::string>();
    }
    const json* args = field(*f, "arguments");
    if (args && args->is_string()) {
      // OpenAI sends the arguments as JSON text; it must be an object.
      const json parsed = json::parse(args->get<std::string>(), nullptr, /*allow_exceptions=*/false);
      if (!parsed.is_object()) return make_error(at, ".function.arguments' must be a JSON object (as text)");
      call.arguments = args->get<std::string>();
    } else if (args && args->is_object()) {
      call.arguments = args->dump();
    } else if (args) {
      return make_error(at, ".function.arguments' must be a string of JSON, got ", type_name(*args));
    } else {
      call.arguments = "{}";
    }
    calls.push_back(std::move(call));
  }
  return calls;
}

// tools and tool_choice. Forced calls (required, a named function) get the
// tool-call grammar.
Status read_tools(const json& body, std::string_view body_text, ChatRequest& out) {
  const json* tools = field(body, "tools");
  if (!tools || (tools->is_array() && tools->empty())) {
    if (const json* choice = field(body, "tool_choice");
        choice && !(choice->is_string() && (choice->get<std::string>() == "none" || choice->get<std::string>() == "auto")))
      return make_error("'tool_choice' needs 'tools'");
    return Ok{};
  }
  if (!tools->is_array()) return make_error("'tools' must be an array, got ", type_name(*tools));
  for (size_t i = 0; i < tools->size(); ++i) {
    const json& t = (*tools)[i];
    const auto type = t.is_object() ? t.find("type") : t.end();
    if (!t.is_object() || type == t.end() || *type != "function")
      return make_error("'tools[", i, "].type' must be \"function\"");
    const json* f = field(t, "function");
    if (!f || !f->is_object() || !field(*f, "name") || !(*f)["name"].is_string())
      return make_error("'tools[", i, "].function.name' must be a string");
  }
  out.tool_choice = ToolChoice::kAuto;
  if (const json* choice = field(body, "tool_choice")) {
    if (choice->is_string()) {
      const std::string& c = choice->get_ref<const std::string&>();
      if (c == "none") out.tool_choice = ToolChoice::kNone;
      else if (c == "required") out.tool_choice = ToolChoice::kRequired;
      else if (c != "auto")
        return make_error("'tool_choice' is \"", c, "\"; expected \"none\", \"auto\", \"required\" or an object");
    } else if (choice->is_object()) {
      const json* f = field(*choice, "function");
      if (!f || !f->is_object() || !field(*f, "name") || !(*f)["name"].is_string())
        return make_error("'tool_choice.function.name' must be a string");
      out.tool_choice = ToolChoice::kNamed;
      out.tool_name = (*f)["name"].get<std::string>();
    } else {
      return make_error("'tool_choice' must be a string or an object, got ", type_name(*choice));
    }
  }
  if (const json* parallel = field(body, "parallel_tool_calls")) {
    if (!parallel->is_boolean()) return make_error("'parallel_tool_calls' must be a boolean, got ", type_name(*parallel));
    if (!parallel->get<bool>() && out.tool_choice != ToolChoice::kNamed)
      return make_error("'parallel_tool_calls': false is not supported (only with a named tool_choice)");
  }
  if (out.tool_choice == ToolChoice::kNone) return Ok{};
  const nlohmann::ordered_json ordered = ordered_body(body, body_text)["tools"];
  out.tools_json = ordered.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  if (out.tool_choice == ToolChoice::kRequired || out.tool_choice == ToolChoice::kNamed) {
    Result<std::string> gbnf = tool_call_grammar(out.tools_json, out.tool_name);
    if (!gbnf) return make_error("'tools' / 'tool_choice': ", gbnf.error().message);
    out.generate.grammar = std::move(*gbnf);
  }
  return Ok{};
}

}  // namespace

Result<nlohmann::json> parse_json_body(std::string_view body) {
  // Depth check on the raw text (brackets outside strings), so no parser or
  // destructor ever recurses deeply.
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return make_error("the JSON body nests deeper than ", kMaxJsonDepth, " levels");
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  json value = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return make_error("the body is not valid JSON (or its strings are not valid UTF-8)");
  }
  if (!value.is_object()) return make_error("the body must be a JSON object, got ", type_name(value));
  return value;
}

Result<ChatRequest> parse_chat_request(const nlohmann::json& body, const SamplingOptions& defaults, uint64_t seed,
                                       int64_t n_vocab, std::string_view body_text) {
  ChatRequest request;
  HY2BIT_TRY(refuse_unsupported(body));
  CommonFields common;
  HY2BIT_TRY(read_common(body, defaults, seed, /*default_max_tokens=*/-1, n_vocab, common));
  request.generate = std::move(common.generate);
  request.stream = common.stream;
  request.include_usage = common.include_usage;
  request.n = common.n;

  const json* messages = field(body, "messages");
  if (!messages) return make_error("'messages' is missing");
  if (!messages->is_array()) return make_error("'messages' must be an array, got ", type_name(*messages));
  if (messages->empty()) return make_error("'messages' is empty; give at least one message");
  for (size_t i = 0; i < messages->size(); ++i) {
    const json& m = (*messages)[i];
    if (!m.is_object()) return make_error("'messages[", i, "]' must be an object, got ", type_name(m));
    Result<Role> role = read_role(m, i);
    if (!role) return role.error();
    Result<std::vector<ToolCall>> calls = *role == Role::kAssistant ? read_tool_calls(m, i)
                                                                    : Result<std::vector<ToolCall>>(std::vector<ToolCall>{});
    if (!calls) return calls.error();
    // An assistant turn that called tools may have no content.
    const bool no_content = !field(m, "content");
    Result<std::string> content = no_content && !calls->empty() ? Result<std::string>(std::string()) : read_content(m, i);
    if (!content) return content.error();
    request.messages.push_back({*role, std::move(*content), std::move(*calls)});
  }
  HY2BIT_TRY(read_tools(body, body_text, request));
  HY2BIT_TRY(read_response_format(body, body_text, request.generate));
  if (field(body, "response_format") && request.tool_choice != ToolChoice::kNone &&
      !(field(body, "response_format")->value("type", "") == "text"))
    return make_error("'response_format' cannot be combined with 'tools' (a reply is either JSON or tool calls)");

  if (const json* kwargs = field(body, "chat_template_kwargs")) {
    if (!kwargs->is_object()) return make_error("'chat_template_kwargs' must be an object, got ", type_name(*kwargs));
    if (const json* enable = field(*kwargs, "enable_thinking")) {
      if (!enable->is_boolean())
        return make_error("'chat_template_kwargs.enable_thinking' must be a boolean, got ", type_name(*enable));
      request.thinking = enable->get<bool>() ? Thinking::kOn : Thinking::kOff;
    }
  }
  if (!request.generate.grammar.empty()) {
    // The grammar starts at the reply's first token: no think block before it.
    if (request.thinking == Thinking::kOn)
      return make_error("'chat_template_kwargs.enable_thinking': true cannot be combined with a JSON "
                        "response_format or a forced tool_choice (the reply starts with the constrained output)");
    request.thinking = Thinking::kOff;
  }

  HY2BIT_TRY(read_bool(body, "logprobs", request.logprobs));
  int64_t top = 0;
  HY2BIT_TRY(read_int(body, "top_logprobs", 0, kMaxLogprobs, top));
  request.top_logprobs = static_cast<int32_t>(top);
  if (request.top_logprobs > 0 && !request.logprobs)
    return make_error("'top_logprobs' needs 'logprobs': true");
  return request;
}

Result<CompletionRequest> parse_completion_request(const nlohmann::json& body, const SamplingOptions& defaults,
                                                   uint64_t seed, int64_t n_vocab, std::string_view body_text) {
  CompletionRequest request;
  HY2BIT_TRY(refuse_unsupported(body));
  if (const json* v = field(body, "tools"); v && !(v->is_array() && v->empty()))
    return make_error("'tools' is not supported on /v1/completions; use /v1/chat/completions");
  CommonFields common;
  HY2BIT_TRY(read_common(body, defaults, seed, /*default_max_tokens=*/16, n_vocab, common));
  request.generate = std::move(common.generate);
  HY2BIT_TRY(read_response_format(body, body_text, request.generate));
  request.stream = common.stream;
  request.include_usage = common.include_usage;
  request.n = common.n;
  HY2BIT_TRY(read_bool(body, "echo", request.echo));
  int64_t logprobs = -1;
  HY2BIT_TRY(read_int(body, "logprobs", 0, kMaxLogprobs, logprobs));
  request.logprobs = static_cast<int32_t>(logprobs);

  // prompt: "text" | ["text", ...] | [id, ...] | [[id, ...], ...]
  Result<std::vector<PromptInput>> prompts = read_prompt_inputs(body, "prompt", n_vocab);
  if (!prompts) return prompts.error();
  request.prompts = std::move(*prompts);
  if (request.prompts.size() * static_cast<size_t>(request.n) > kMaxPrompts)
    return make_error("'prompt' x 'n' asks for ", request.prompts.size() * static_cast<size_t>(request.n),
                      " choices, at most ", kMaxPrompts, " are allowed");
  if (request.stream && request.prompts.size() != 1) {
    return make_error("'stream' works with one prompt; this request has ", request.prompts.size());
  }
  return request;
}

Result<EmbeddingRequest> parse_embedding_request(const nlohmann::json& body, int64_t n_vocab) {
  EmbeddingRequest request;
  if (field(body, "dimensions"))
    return make_error("'dimensions' is not supported: embeddings always have the model's n_embd values");
  if (const json* v = field(body, "model"); v && !v->is_string())
    return make_error("'model' must be a string, got ", type_name(*v));
  if (const json* v = field(body, "user"); v && !v->is_string())
    return make_error("'user' must be a string, got ", type_name(*v));
  if (const json* v = field(body, "encoding_format")) {
    if (!v->is_string() || (*v != "float" && *v != "base64"))
      return make_error("'encoding_format' must be \"float\" or \"base64\", got ",
                        v->is_string() ? "\"" + v->get<std::string>() + "\"" : std::string(type_name(*v)));
    request.base64 = *v == "base64";
  }
  Result<std::vector<PromptInput>> inputs = read_prompt_inputs(body, "input", n_vocab);
  if (!inputs) return inputs.error();
  request.inputs = std::move(*inputs);
  return request;
}

Result<OllamaEmbedRequest> parse_ollama_embed_request(const nlohmann::json& body, bool legacy) {
  OllamaEmbedRequest request;
  if (const json* v = field(body, "model"); v && !v->is_string())
    return make_error("'model' must be a string, got ", type_name(*v));
  if (const json* v = field(body, "options"); v && !v->is_object())
    return make_error("'options' must be an object, got ", type_name(*v));
  if (const json* v = field(body, "keep_alive"); v && !v->is_string() && !v->is_number())
    return make_error("'keep_alive' must be a duration string or a number of seconds, got ", type_name(*v));
  if (legacy) {  // /api/embeddings: {"prompt": "text"}
    const json* prompt = field(body, "prompt");
    if (!prompt) return make_error("'prompt' is missing");
    if (!prompt->is_string()) return make_error("'prompt' must be a string, got ", type_name(*prompt));
    request.inputs.push_back(prompt->get<std::string>());
    return request;
  }
  HY2BIT_TRY(read_bool(body, "truncate", request.truncate));
  const json* input = field(body, "input");
  if (!input) return make_error("'input' is missing");
  if (input->is_string()) {
    request.inputs.push_back(input->get<std::string>());
  } else if (input->is_array()) {
    if (input->empty()) return make_error("'input' is an empty array");
    if (input->size() > kMaxPrompts)
      return make_error("'input' holds ", input->size(), " inputs, at most ", kMaxPrompts, " are allowed");
    for (size_t i = 0; i < input->size(); ++i) {
      if (!(*input)[i].is_string())
        return make_error("'input[", i, "]' must be a string, got ", type_name((*input)[i]));
      request.inputs.push_back((*input)[i].get<std::string>());
    }
  } else {
    return make_error("'input' must be a string or an array of strings, got ", type_name(*input));
  }
  return request;
}

}  // namespace hy2bit::server
