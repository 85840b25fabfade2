// The ollama API on hy2bit serve, as a translation layer: an /api/chat or
// /api/generate body is rewritten into the OpenAI request shape and parsed by
// parse_chat_request / parse_completion_request (one set of checks for both
// APIs; their error messages are renamed back to the ollama fields), the
// prompt is built by the same chat_prompt / prepare_prompt and runs as the
// same Job; its text comes back through ollama_responses.h as one JSON object
// or as NDJSON, one object per line, the last with done: true and the stats.
// Options with no OpenAI name (num_ctx, repeat_last_n) are handled here; any
// other option, images, suffix, template and context are refused by name.
// "model" may name anything (as on /v1/chat/completions): this server has one.
#include "server/ollama_routes.h"

#include <chrono>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "server/api_error.h"
#include "server/ollama_responses.h"
#include "server/request_log.h"
#include "server/request_parsing.h"

namespace hy2bit::server::ollama {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

constexpr const char* kNdjsonContentType = "application/x-ndjson";
// The ollama release whose API this follows (think, tools, format schemas).
constexpr const char* kApiVersion = "0.12.0";
constexpr std::chrono::milliseconds kPollInterval{100};  // as in chat_route.cpp

// ollama options that have an OpenAI request field, with its name there.
struct OptionName {
  const char* ollama;
  const char* openai;
};
constexpr OptionName kOptionNames[] = {
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
constexpr OptionName kFieldNames[] = {
    {"format", "response_format"},
    {"think", "chat_template_kwargs.enable_thinking"},
};

// What the translation sets aside for after parsing.
struct OllamaExtras {
  bool stream = true;                   // ollama streams unless told not to
  std::optional<int64_t> num_ctx;       // options.num_ctx: prompt + reply cap (<= the server's)
  std::optional<int32_t> repeat_last_n; // options.repeat_last_n
};

// The OpenAI parser's messages name OpenAI fields; say the ollama ones.
std::string rename_fields(std::string message) {
  auto rename = [&message](const std::string& from, const std::string& to) {
    size_t at = message.find(from);
    while (at != std::string::npos) {
      const char next = at + from.size() < message.size() ? message[at + from.size()] : '\0';
      const bool whole_name = next == '\'' || next == '.' || next == '[';  // not a longer name's prefix
      if (whole_name) message.replace(at, from.size(), to);
      at = message.find(from, at + (whole_name ? to.size() : 1));
    }
  };
  for (const OptionName& o : kFieldNames) rename(std::string("'") + o.openai, std::string("'") + o.ollama);
  for (const OptionName& o : kOptionNames) rename(std::string("'") + o.openai, std::string("'options.") + o.ollama);
  rename("'prompt[0]", "'prompt");
  return message;
}

ApiError refused(std::string message) { return bad_request(std::move(message)); }

// An integer in [lo, hi], for the options this file reads itself.
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
  for (const OptionName& o : kOptionNames) names += std::string(", ") + o.ollama;
  return names;
}

// options {...} -> OpenAI sampling fields of `out`, num_ctx and repeat_last_n into `extras`.
std::optional<ApiError> translate_options(const ordered_json& body, int64_t server_n_ctx, ordered_json& out,
                                          OllamaExtras& extras) {
  const auto options = body.find("options");
  if (options == body.end() || options->is_null()) return std::nullopt;
  if (!options->is_object()) return refused("'options' must be an object");
  for (const auto& [key, value] : options->items()) {
    if (value.is_null()) continue;
    if (key == "num_ctx") {
      extras.num_ctx = read_integer(value, 1, server_n_ctx);
      if (!extras.num_ctx)
        return refused("'options.num_ctx' must be an integer in [1, " + std::to_string(server_n_ctx) +
                       "] (this server's context per request; set it with serve -c)");
      continue;
    }
    if (key == "repeat_last_n") {
      const std::optional<int64_t> n = read_integer(value, -1, std::numeric_limits<int32_t>::max());
      if (!n) return refused("'options.repeat_last_n' must be an integer >= -1 (-1: the whole context, 0: off)");
      extras.repeat_last_n = static_cast<int32_t>(*n);
      continue;
    }
    const OptionName* known = nullptr;
    for (const OptionName& o : kOptionNames)
      if (key == o.ollama) known = &o;
    if (!known) return refused("'options." + key + "' is not supported by this server (supported: " +
                               supported_options() + ")");
    // num_predict -1 (no limit) and -2 (fill the context) are the OpenAI default.
    if (key == "num_predict" && value.is_number_integer() && (value == -1 || value == -2)) continue;
    out[known->openai] = value;
  }
  return std::nullopt;
}

// format, think, stream, and the fields no route here honours.
std::optional<ApiError> translate_common(const ordered_json& body, int64_t server_n_ctx, ordered_json& out,
                                         OllamaExtras& extras) {
  for (const char* unsupported : {"images", "suffix", "template", "context", "logprobs", "top_logprobs"}) {
    const auto it = body.find(unsupported);
    if (it == body.end() || it->is_null() || (it->is_string() && it->get<std::string>().empty()) ||
        (it->is_array() && it->empty()) || (it->is_boolean() && !it->get<bool>()))
      continue;
    return refused(std::string("'") + unsupported + "' is not supported by this server");
  }
  if (const auto it = body.find("stream"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return refused("'stream' must be a boolean");
    extras.stream = it->get<bool>();
  }
  if (const auto it = body.find("think"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean())
      return refused("'think' must be a boolean (thinking levels such as \"high\" are not supported)");
    out["chat_template_kwargs"] = {{"enable_thinking", it->get<bool>()}};
  }
  if (const auto it = body.find("format"); it != body.end() && !it->is_null()) {
    if (it->is_object()) {
      out["response_format"] = {{"type", "json_schema"}, {"json_schema", {{"name", "format"}, {"schema", *it}}}};
    } else if (*it == "json") {
      out["response_format"] = {{"type", "json_object"}};
    } else if (!(it->is_string() && it->get<std::string>().empty())) {
      return refused("'format' must be \"json\" or a JSON schema object");
    }
  }
  // keep_alive is accepted: the model stays loaded for the server's life.
  return translate_options(body, server_n_ctx, out, extras);
}

// ollama messages -> OpenAI messages: the same roles, content and
// tool_calls (arguments objects, which the OpenAI parser accepts);
// `thinking` of past turns is dropped, as the chat template drops it.
std::optional<ApiError> translate_messages(const ordered_json& body, ordered_json& out) {
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
    if (const auto images = m.find("images"); images != m.end() && !images->is_null() &&
                                               !(images->is_array() && images->empty()))
      return refused("'messages[" + std::to_string(i) + "].images' is not supported (this model reads text only)");
    ordered_json one = ordered_json::object();
    for (const char* key : {"role", "content", "tool_calls"})
      if (m.contains(key)) one[key] = m[key];
    list.push_back(std::move(one));
  }
  out["messages"] = std::move(list);
  return std::nullopt;
}

// The body as ordered JSON (schemas keep their property order), after the
// same UTF-8, depth and object checks the OpenAI routes make.
std::optional<ApiError> read_body(const std::string& text, ordered_json& out) {
  Result<json> checked = parse_json_body(text);
  if (!checked) return bad_request(checked.error().message);
  out = ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  return std::nullopt;
}

// What chat and generate both start with: the body read and checked, and
// the fields they share translated into `openai`.
std::optional<ApiError> read_request(const RouteContext& ctx, const std::string& text, ordered_json& body,
                                     ordered_json& openai, OllamaExtras& extras) {
  if (auto e = read_body(text, body)) return e;
  openai = ordered_json::object();
  return translate_common(body, ctx.scheduler->n_ctx(), openai, extras);
}

// ---- running a request ----------------------------------------------------------

// What a reply needs besides its job.
struct ReplySpec {
  Endpoint endpoint;
  ReplyDecoder::Options decoder;
  Clock::time_point started;
};

int64_t ns_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t).count();
}

// One NDJSON reply. Lives as long as httplib's content provider.
class NdjsonStream {
 public:
  NdjsonStream(RouteContext& ctx, std::shared_ptr<Job> job, const ReplySpec& spec)
      : ctx_(ctx), open_(ctx), job_(std::move(job)), spec_(spec), decoder_(spec.decoder) {}

  bool pump(httplib::DataSink& sink) {
    JobUpdate u = job_->take(kPollInterval);
    std::string out;
    const ReplyPiece piece = decoder_.push(u.text);
    if (u.done) {
      if (u.error) {
        out += line(json{{"error", u.error->message}});
      } else {
        // Whatever was held back rides on the last line.
        ReplyPiece rest = decoder_.finish();
        if (!piece.empty()) out += line(piece_json(spec_.endpoint, ctx_.model_id, piece));
        out += line(final_json(spec_.endpoint, ctx_.model_id, rest, u.result, ns_since(spec_.started)));
        note_tokens(u.result.n_prompt, static_cast<int64_t>(u.result.tokens.size()));
      }
      finished_ = true;
      if (!sink.write(out.data(), out.size())) return false;
      sink.done();
      return true;
    }
    if (!piece.empty()) out += line(piece_json(spec_.endpoint, ctx_.model_id, piece));
    if (!out.empty() && !sink.write(out.data(), out.size())) {
      ctx_.scheduler->cancel(job_);
      return false;
    }
    return true;
  }
  // httplib is done with the response; unless it all went out, the client is gone.
  void closed(bool success) {
    if (!success || !finished_) ctx_.scheduler->cancel(job_);
  }

 private:
  static std::string line(const json& object) { return to_text(object) + "\n"; }

  RouteContext& ctx_;
  OpenStream open_;
  std::shared_ptr<Job> job_;
  const ReplySpec spec_;
  ReplyDecoder decoder_;
  bool finished_ = false;
};

// Queues the job and answers: streamed, or whole once it is done.
void run(RouteContext& ctx, JobSpec job_spec, const ReplySpec& spec, bool stream, httplib::Response& res) {
  const auto job = std::make_shared<Job>(std::move(job_spec));
  if (!submit_jobs(ctx, {job}, res)) return;
  if (stream) {
    auto ndjson = std::make_shared<NdjsonStream>(ctx, job, spec);
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        kNdjsonContentType, [ndjson](size_t, httplib::DataSink& sink) { return ndjson->pump(sink); },
        [ndjson](bool success) { ndjson->closed(success); });
    return;
  }
  JobUpdate all = collect(ctx, job);
  if (all.error) return send_error(res, *all.error, *ctx.metrics);
  ReplyDecoder decoder(spec.decoder);
  ReplyPiece whole = decoder.push(all.result.text);
  ReplyPiece rest = decoder.finish();
  whole.thinking += rest.thinking;
  whole.content += rest.content;
  whole.calls.insert(whole.calls.end(), rest.calls.begin(), rest.calls.end());
  send_json(res, final_json(spec.endpoint, ctx.model_id, whole, all.result, ns_since(spec.started)));
}

// Caps the reply to options.num_ctx (prompt + reply), as ollama's context would.
std::optional<ApiError> apply_num_ctx(const OllamaExtras& extras, size_t n_prompt, GenerateOptions& options) {
  if (!extras.num_ctx) return std::nullopt;
  const int64_t room = *extras.num_ctx - static_cast<int64_t>(n_prompt);
  if (room <= 0)
    return bad_request("the prompt has " + std::to_string(n_prompt) + " tokens, but 'options.num_ctx' is " +
                       std::to_string(*extras.num_ctx) + " (prompt + reply)");
  if (options.max_tokens < 0 || options.max_tokens > room) options.max_tokens = static_cast<int32_t>(room);
  return std::nullopt;
}

// A chat request (from /api/chat, or /api/generate with the template) in OpenAI form.
void run_chat(RouteContext& ctx, const ordered_json& openai, const OllamaExtras& extras, Endpoint endpoint,
              Clock::time_point started, httplib::Response& res) {
  const std::string text = openai.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  Result<json> body = parse_json_body(text);
  if (!body) return send_error(res, bad_request(body.error().message), *ctx.metrics);
  Result<ChatRequest> request =
      parse_chat_request(*body, ctx.options.sampling, ctx.next_seed(), ctx.model->summary().n_vocab, text);
  if (!request) return send_error(res, bad_request(rename_fields(request.error().message)), *ctx.metrics);
  if (extras.repeat_last_n) request->generate.sampling.repeat_last_n = *extras.repeat_last_n;
  ApiError error;
  std::optional<std::vector<int32_t>> prompt = chat_prompt(ctx, *request, error);
  if (!prompt) return send_error(res, error, *ctx.metrics);
  if (auto e = apply_num_ctx(extras, prompt->size(), request->generate)) return send_error(res, *e, *ctx.metrics);
  const ReplySpec spec{.endpoint = endpoint,
                       .decoder = {.split_thinking = request->generate.grammar.empty(),
                                   .parse_tool_calls = request->tool_choice != ToolChoice::kNone,
                                   .call_id_prefix = ctx.next_id("call") + "-"},
                       .started = started};
  run(ctx,
      JobSpec{.prompt = std::move(*prompt), .options = std::move(request->generate), .prompt_logprobs = -1,
              .logprobs = -1},
      spec, extras.stream, res);
}

// /api/generate with raw: true: the prompt as is, like /v1/completions.
void run_raw(RouteContext& ctx, const ordered_json& openai, const OllamaExtras& extras, Clock::time_point started,
             httplib::Response& res) {
  const std::string text = openai.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  Result<json> body = parse_json_body(text);
  if (!body) return send_error(res, bad_request(body.error().message), *ctx.metrics);
  Result<CompletionRequest> request =
      parse_completion_request(*body, ctx.options.sampling, ctx.next_seed(), ctx.model->summary().n_vocab, text);
  if (!request) return send_error(res, bad_request(rename_fields(request.error().message)), *ctx.metrics);
  if (!openai.contains("max_tokens")) request->generate.max_tokens = -1;  // ollama: no limit by default
  if (extras.repeat_last_n) request->generate.sampling.repeat_last_n = *extras.repeat_last_n;
  ApiError error;
  std::optional<PreparedPrompt> prompt = prepare_prompt(ctx, request->prompts.front(), 0, error);
  if (!prompt) {
    error.message = rename_fields(error.message);
    return send_error(res, error, *ctx.metrics);
  }
  if (auto e = apply_num_ctx(extras, prompt->tokens.size(), request->generate)) return send_error(res, *e, *ctx.metrics);
  const ReplySpec spec{.endpoint = Endpoint::kGenerate,
                       .decoder = {.split_thinking = false, .parse_tool_calls = false, .call_id_prefix = {}},
                       .started = started};
  run(ctx,
      JobSpec{.prompt = std::move(prompt->tokens), .options = std::move(request->generate), .prompt_logprobs = -1,
              .logprobs = -1},
      spec, extras.stream, res);
}

// The model a body names must be this server's (for /api/show).
bool names_served_model(const RouteContext& ctx, const std::string& name) {
  const ModelCard card = model_card(*ctx.model, ctx.model_id);
  return name == ctx.model_id || name == card.name;
}

}  // namespace

void handle_chat(RouteContext& ctx, const std::string& request_body, httplib::Response& res) {
  const Clock::time_point started = Clock::now();
  ordered_json body, openai;
  OllamaExtras extras;
  if (auto e = read_request(ctx, request_body, body, openai, extras)) return send_error(res, *e, *ctx.metrics);
  if (auto e = translate_messages(body, openai)) return send_error(res, *e, *ctx.metrics);
  if (body.contains("tools") && !body["tools"].is_null()) openai["tools"] = body["tools"];
  run_chat(ctx, openai, extras, Endpoint::kChat, started, res);
}

void handle_generate(RouteContext& ctx, const std::string& request_body, httplib::Response& res) {
  const Clock::time_point started = Clock::now();
  ordered_json body, openai;
  OllamaExtras extras;
  if (auto e = read_request(ctx, request_body, body, openai, extras)) return send_error(res, *e, *ctx.metrics);

  const auto prompt = body.find("prompt");
  if (prompt != body.end() && !prompt->is_null() && !prompt->is_string())
    return send_error(res, bad_request("'prompt' must be a string"), *ctx.metrics);
  const auto system = body.find("system");
  if (system != body.end() && !system->is_null() && !system->is_string())
    return send_error(res, bad_request("'system' must be a string"), *ctx.metrics);
  const std::string prompt_text = prompt == body.end() || prompt->is_null() ? "" : prompt->get<std::string>();
  const std::string system_text = system == body.end() || system->is_null() ? "" : system->get<std::string>();
  bool raw = false;
  if (const auto it = body.find("raw"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) return send_error(res, bad_request("'raw' must be a boolean"), *ctx.metrics);
    raw = it->get<bool>();
  }
  // No prompt: ollama's way of loading a model; this one is always loaded.
  if (prompt_text.empty()) {
    json loaded = piece_json(Endpoint::kGenerate, ctx.model_id, {});
    loaded["done"] = true;
    loaded["done_reason"] = "load";
    return send_json(res, loaded);
  }
  if (raw) {
    if (!system_text.empty())
      return send_error(res, bad_request("'system' cannot be combined with 'raw': true (the prompt is sent as is)"),
                        *ctx.metrics);
    if (openai.contains("chat_template_kwargs"))
      return send_error(res, bad_request("'think' cannot be combined with 'raw': true (the prompt is sent as is)"),
                        *ctx.metrics);
    openai["prompt"] = prompt_text;
    return run_raw(ctx, openai, extras, started, res);
  }
  ordered_json messages = ordered_json::array();
  if (!system_text.empty()) messages.push_back({{"role", "system"}, {"content", system_text}});
  messages.push_back({{"role", "user"}, {"content", prompt_text}});
  openai["messages"] = std::move(messages);
  run_chat(ctx, openai, extras, Endpoint::kGenerate, started, res);
}

void handle_show(RouteContext& ctx, const std::string& request_body, httplib::Response& res) {
  Result<json> body = parse_json_body(request_body);
  if (!body) return send_error(res, bad_request(body.error().message), *ctx.metrics);
  // "name" is the field's old spelling, still sent by some clients.
  const json* model = body->contains("model") ? &(*body)["model"] : body->contains("name") ? &(*body)["name"] : nullptr;
  if (!model || !model->is_string())
    return send_error(res, bad_request("'model' must be a string", "model"), *ctx.metrics);
  if (!names_served_model(ctx, model->get<std::string>()))
    return send_error(res,
                      ApiError{.status = 404, .message = "model \"" + model->get<std::string>() + "\" not found",
                               .type = "invalid_request_error", .code = "model_not_found", .param = "model"},
                      *ctx.metrics);
  send_json(res, show_json(model_card(*ctx.model, ctx.model_id), ctx.options.sampling, ctx.scheduler->n_ctx()));
}

void handle_tags(RouteContext& ctx, httplib::Response& res) {
  send_json(res, json{{"models", json::array({tags_entry_json(model_card(*ctx.model, ctx.model_id))})}});
}

void handle_ps(RouteContext& ctx, httplib::Response& res) {
  send_json(res, json{{"models", json::array({ps_entry_json(model_card(*ctx.model, ctx.model_id), ctx.scheduler->n_ctx())})}});
}

void handle_version(RouteContext&, httplib::Response& res) { send_json(res, json{{"version", kApiVersion}}); }

void reshape_error(const httplib::Request& req, httplib::Response& res) {
  if (req.path.rfind("/api/", 0) != 0 || res.status < 400 || res.body.empty()) return;
  const json body = json::parse(res.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("error") || !body["error"].is_object()) return;
  const json& message = body["error"]["message"];
  res.set_content(to_text(json{{"error", message.is_string() ? message.get<std::string>() : "error"}}),
                  "application/json");
}

}  // namespace hy2bit::server::ollama
