// ollama's /api/chat and /api/generate bodies -> checked OpenAI requests
// (ollama_requests.h). The body is read as ordered JSON (schemas keep their
// property order), the fields are moved to their OpenAI names, and the
// OpenAI text goes through the same parser as /v1/chat/completions or
// /v1/completions.
#include "server/ollama_requests.h"

#include <limits>
#include <utility>

#include <nlohmann/json.hpp>

namespace hy2bit::server::ollama {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// ollama options that have an OpenAI request field, with its name there.
struct FieldName {
  const char* ollama;
  const char* openai;
};
constexpr FieldName kOptionNames[] = {
    {"temperature", "temperature"},
    {"top_p", "top_p"},
    {"top_k", "top_k"},
    {"min_p", "min_p"},
    {"seed", "seed"},
    {"num_predict", "max_tokens"},
    {"stop", "stop"},
    {"repeat_penalty", "repetition_penalty"},
    {"presence_penalty", "presence_penalty"},
    {"frequency_penalty", "frequency_penalty"},
};
// Top-level fields renamed in the translation.
constexpr FieldName kFieldNames[] = {
    {"format", "response_format"},
    {"think", "chat_template_kwargs.enable_thinking"},
};

// What the translation sets aside besides OllamaExtras.
struct Translation {
  ordered_json openai = ordered_json::object();
  OllamaExtras extras;
  std::optional<int32_t> repeat_last_n;  // options.repeat_last_n
};

// An integer in [lo, hi], for the options read here.
std::optional<int64_t> read_integer(const ordered_json& v, int64_t lo, int64_t hi) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi)) return std::nullopt;
    const int64_t x = v.get<int64_t>();
    if (x >= lo && x <= hi) return x;
  }
  return std::nullopt;
}

std::string supported_options() {
  std::string names = "num_ctx, repeat_last_n";
  for (const FieldName& o : kOptionNames) names += std::string(", ") + o.ollama;
  return names;
}

// options {...} -> the OpenAI sampling fields, num_ctx and repeat_last_n.
std::optional<Error> translate_options(const ordered_json& body, int64_t n_ctx, Translation& t) {
  const auto options = body.find("options");
  if (options == body.end() || options->is_null()) return std::nullopt;
  if (!options->is_object()) return make_error("'options' must be an object");
  for (const auto& [key, value] : options->items()) {
    if (value.is_null()) continue;
    if (key == "num_ctx") {
      t.extras.num_ctx = read_integer(value, 1, n_ctx);
      if (!t.extras.num_ctx)
        return make_error("'options.num_ctx' must be an integer in [1, ", n_ctx,
                          "] (this server's context per request; set it with serve -c)");
      continue;
    }
    if (key == "repeat_last_n") {
      const std::optional<int64_t> n = read_integer(value, -1, std::numeric_limits<int32_t>::max());
      if (!n) return make_error("'options.repeat_last_n' must be an integer >= -1 (-1: the whole context, 0: off)");
      t.repeat_last_n = static_cast<int32_t>(*n);
      continue;
    }
    const FieldName* known = nullptr;
    for (const FieldName& o : kOptionNames)
      if (key == o.ollama) known = &o;
    if (!known)
      return make_error("'options.", key, "' is not supported by this server (supported: ", supported_options(), ")");
    // num_predict -1 (no limit) and -2 (fill the context) are the OpenAI default.
    if (key == "num_predict" && value.is_number_integer() && (value == -1 || value == -2)) continue;
    t.openai[known->openai] = value;
  }
  return std::nullopt;
}

// format, think, stream, options, and the fields no route here honours.
std::optional<Error> translate_common(const ordered_json& body, int64_t n_ctx, Translation& t) {
  for (const char* unsupported : {"images", "suffix", "template", "context", "logprobs", "top_logprobs"}) {
    const auto it = body.find(unsupported);
    if (it == body.end() || it->is_null() || (it->is_string() && it->get<std::string>().empty()) ||
        (it->is_array() && it->empty()) || (it->is_boolean() && !it->get<bool>()))
      continue;
    return make_error("'", unsupported, "' is not supported by this server");
  }
  if (const auto it = body.find("stream"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return make_error("'stream' must be a boolean");
    t.extras.stream = it->get<bool>();
  }
  if (const auto it = body.find("think"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean())
      return make_error("'think' must be a boolean (thinking levels such as \"high\" are not supported)");
    t.openai["chat_template_kwargs"] = {{"enable_thinking", it->get<bool>()}};
  }
  if (const auto it = body.find("format"); it != body.end() && !it->is_null()) {
    if (it->is_object()) {
      t.openai["response_format"] = {{"type", "json_schema"}, {"json_schema", {{"name", "format"}, {"schema", *it}}}};
    } else if (*it == "json") {
      t.openai["response_format"] = {{"type", "json_object"}};
    } else if (!(it->is_string() && it->get<std::string>().empty())) {
      return make_error("'format' must be \"json\" or a JSON schema object");
    }
  }
  // keep_alive is accepted: the model stays loaded for the server's life.
  return translate_options(body, n_ctx, t);
}

// ollama messages -> OpenAI messages: the same roles, content and
// tool_calls (arguments objects, which the OpenAI parser accepts);
// `thinking` of past turns is dropped, as the chat template drops it.
std::optional<Error> translate_messages(const ordered_json& body, ordered_json& out) {
  const auto messages = body.find("messages");
  if (messages == body.end() || !messages->is_array()) {
    out["messages"] = messages == body.end() ? ordered_json() : *messages;  // the parser names the fault
    return std::nullopt;
  }
  ordered_json list = ordered_json::array();
  for (size_t i = 0; i < messages->size(); ++i) {
    const ordered_json& m = (*messages)[i];
    if (!m.is_object()) {
      list.push_back(m);
      continue;
    }
    if (const auto images = m.find("images");
        images != m.end() && !images->is_null() && !(images->is_array() && images->empty()))
      return make_error("'messages[", i, "].images' is not supported (this model reads text only)");
    ordered_json one = ordered_json::object();
    for (const char* key : {"role", "content", "tool_calls"})
      if (m.contains(key)) one[key] = m[key];
    list.push_back(std::move(one));
  }
  out["messages"] = std::move(list);
  return std::nullopt;
}

// The body read and checked (the same UTF-8, depth and object checks as the
// OpenAI routes), as ordered JSON, with the fields chat and generate share
// translated.
Result<Translation> read_request(std::string_view text, const ParseLimits& limits, ordered_json& body) {
  Result<json> checked = parse_json_body(text);
  if (!checked) return checked.error();
  body = ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  Translation t;
  if (auto e = translate_common(body, limits.n_ctx, t)) return *e;
  return t;
}

// The OpenAI body as the OpenAI routes would receive it.
Result<json> openai_body(const ordered_json& openai, std::string& text) {
  text = openai.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  return parse_json_body(text);
}

Result<ChatRequest> parse_as_chat(const Translation& t, const ParseLimits& limits) {
  std::string text;
  Result<json> body = openai_body(t.openai, text);
  if (!body) return body.error();
  Result<ChatRequest> request = parse_chat_request(*body, limits.sampling, limits.seed, limits.n_vocab, text);
  if (!request) return Error{ollama_field_names(request.error().message)};
  if (t.repeat_last_n) request->generate.sampling.repeat_last_n = *t.repeat_last_n;
  return request;
}

Result<CompletionRequest> parse_as_completion(const Translation& t, const ParseLimits& limits) {
  std::string text;
  Result<json> body = openai_body(t.openai, text);
  if (!body) return body.error();
  Result<CompletionRequest> request =
      parse_completion_request(*body, limits.sampling, limits.seed, limits.n_vocab, text);
  if (!request) return Error{ollama_field_names(request.error().message)};
  if (!t.openai.contains("max_tokens")) request->generate.max_tokens = -1;  // ollama: no limit by default
  if (t.repeat_last_n) request->generate.sampling.repeat_last_n = *t.repeat_last_n;
  return request;
}

// A string field that may be absent or null (then empty).
std::optional<Error> read_string(const ordered_json& body, const char* key, std::string& out) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return make_error("'", key, "' must be a string");
  out = it->get<std::string>();
  return std::nullopt;
}

}  // namespace

std::string ollama_field_names(std::string message) {
  const auto is_name_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  // Renames `from` where it is a whole name: not inside a longer name, and
  // when `quoted`, only right after a quote (option names such as stop are
  // also English words; the top-level OpenAI names are not).
  const auto rename = [&](const std::string& from, const std::string& to, bool quoted) {
    size_t at = message.find(from);
    while (at != std::string::npos) {
      const char before = at > 0 ? message[at - 1] : '\0';
      const char after = at + from.size() < message.size() ? message[at + from.size()] : '\0';
      const bool whole = (quoted ? before == '\'' : !is_name_char(before) && before != '.') && !is_name_char(after);
      if (whole) message.replace(at, from.size(), to);
      at = message.find(from, at + (whole ? to.size() : 1));
    }
  };
  for (const FieldName& o : kFieldNames) rename(o.openai, o.ollama, /*quoted=*/false);
  for (const FieldName& o : kOptionNames) rename(o.openai, std::string("options.") + o.ollama, /*quoted=*/true);
  rename("prompt[0]", "prompt", /*quoted=*/true);
  return message;
}

Result<OllamaChat> parse_ollama_chat(std::string_view text, const ParseLimits& limits) {
  ordered_json body;
  Result<Translation> t = read_request(text, limits, body);
  if (!t) return t.error();
  if (auto e = translate_messages(body, t->openai)) return *e;
  if (body.contains("tools") && !body["tools"].is_null()) t->openai["tools"] = body["tools"];
  Result<ChatRequest> request = parse_as_chat(*t, limits);
  if (!request) return request.error();
  return OllamaChat{.request = std::move(*request), .extras = t->extras};
}

Result<OllamaGenerate> parse_ollama_generate(std::string_view text, const ParseLimits& limits) {
  ordered_json body;
  Result<Translation> t = read_request(text, limits, body);
  if (!t) return t.error();
  std::string prompt, system;
  if (auto e = read_string(body, "prompt", prompt)) return *e;
  if (auto e = read_string(body, "system", system)) return *e;
  bool raw = false;
  if (const auto it = body.find("raw"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return make_error("'raw' must be a boolean");
    raw = it->get<bool>();
  }
  OllamaGenerate out;
  out.extras = t->extras;
  // No prompt: ollama's way of loading a model; this one is always loaded.
  if (prompt.empty()) return out;
  if (raw) {
    if (!system.empty()) return make_error("'system' cannot be combined with 'raw': true (the prompt is sent as is)");
    if (t->openai.contains("chat_template_kwargs"))
      return make_error("'think' cannot be combined with 'raw': true (the prompt is sent as is)");
    t->openai["prompt"] = prompt;
    Result<CompletionRequest> request = parse_as_completion(*t, limits);
    if (!request) return request.error();
    out.kind = GenerateKind::kRaw;
    out.raw = std::move(*request);
    return out;
  }
  ordered_json messages = ordered_json::array();
  if (!system.empty()) messages.push_back({{"role", "system"}, {"content", system}});
  messages.push_back({{"role", "user"}, {"content", prompt}});
  t->openai["messages"] = std::move(messages);
  Result<ChatRequest> request = parse_as_chat(*t, limits);
  if (!request) return request.error();
  out.kind = GenerateKind::kChat;
  out.chat = std::move(*request);
  return out;
}

}  // namespace hy2bit::server::ollama
