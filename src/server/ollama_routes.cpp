// The ollama API on hy2bit serve, as a translation layer: an /api/chat or
// /api/generate body is parsed into an OpenAI request by ollama_requests.h
// (one set of checks for both APIs), the prompt is built by the same
// chat_prompt / prepare_prompt and runs as the same Job; its text comes back
// through ollama_responses.h as one JSON object or as NDJSON, one object per
// line, the last with done: true and the stats. "model" may name anything
// (as on /v1/chat/completions): this server has one.
#include "server/ollama_routes.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "server/api_error.h"
#include "server/ollama_requests.h"
#include "server/ollama_responses.h"
#include "server/request_log.h"
#include "server/request_parsing.h"

namespace hy2bit::server::ollama {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kNdjsonContentType = "application/x-ndjson";
// The ollama release whose API this follows (think, tools, format schemas).
constexpr const char* kApiVersion = "0.12.0";
constexpr std::chrono::milliseconds kPollInterval{100};  // as in chat_route.cpp

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

// A chat request (from /api/chat, or /api/generate with the template).
void run_chat(RouteContext& ctx, ChatRequest request, const OllamaExtras& extras, Endpoint endpoint,
              Clock::time_point started, httplib::Response& res) {
  ApiError error;
  std::optional<std::vector<int32_t>> prompt = chat_prompt(ctx, request, error);
  if (!prompt) return send_error(res, error, *ctx.metrics);
  if (auto e = apply_num_ctx(extras, prompt->size(), request.generate)) return send_error(res, *e, *ctx.metrics);
  const ReplySpec spec{.endpoint = endpoint,
                       .decoder = {.split_thinking = request.generate.grammar.empty(),
                                   .parse_tool_calls = request.tool_choice != ToolChoice::kNone,
                                   .call_id_prefix = ctx.next_id("call") + "-"},
                       .started = started};
  run(ctx,
      JobSpec{.prompt = std::move(*prompt), .options = std::move(request.generate), .prompt_logprobs = -1,
              .logprobs = -1},
      spec, extras.stream, res);
}

// /api/generate with raw: true: the prompt as is, like /v1/completions.
void run_raw(RouteContext& ctx, CompletionRequest request, const OllamaExtras& extras, Clock::time_point started,
             httplib::Response& res) {
  ApiError error;
  std::optional<PreparedPrompt> prompt = prepare_prompt(ctx, request.prompts.front(), 0, error);
  if (!prompt) {
    error.message = ollama_field_names(error.message);
    return send_error(res, error, *ctx.metrics);
  }
  if (auto e = apply_num_ctx(extras, prompt->tokens.size(), request.generate)) return send_error(res, *e, *ctx.metrics);
  const ReplySpec spec{.endpoint = Endpoint::kGenerate,
                       .decoder = {.split_thinking = false, .parse_tool_calls = false, .call_id_prefix = {}},
                       .started = started};
  run(ctx,
      JobSpec{.prompt = std::move(prompt->tokens), .options = std::move(request.generate), .prompt_logprobs = -1,
              .logprobs = -1},
      spec, extras.stream, res);
}

// The model a body names must be this server's (for /api/show).
bool names_served_model(const RouteContext& ctx, const std::string& name) {
  const ModelCard card = model_card(*ctx.model, ctx.model_id);
  return name == ctx.model_id || name == card.name;
}

ParseLimits parse_limits(RouteContext& ctx) {
  return ParseLimits{.sampling = ctx.options.sampling,
                     .seed = ctx.next_seed(),
                     .n_vocab = ctx.model->summary().n_vocab,
                     .n_ctx = ctx.scheduler->n_ctx()};
}

}  // namespace

void handle_chat(RouteContext& ctx, const std::string& request_body, httplib::Response& res) {
  const Clock::time_point started = Clock::now();
  Result<OllamaChat> chat = parse_ollama_chat(request_body, parse_limits(ctx));
  if (!chat) return send_error(res, bad_request(chat.error().message), *ctx.metrics);
  run_chat(ctx, std::move(chat->request), chat->extras, Endpoint::kChat, started, res);
}

void handle_generate(RouteContext& ctx, const std::string& request_body, httplib::Response& res) {
  const Clock::time_point started = Clock::now();
  Result<OllamaGenerate> generate = parse_ollama_generate(request_body, parse_limits(ctx));
  if (!generate) return send_error(res, bad_request(generate.error().message), *ctx.metrics);
  switch (generate->kind) {
    case GenerateKind::kLoad: {
      json loaded = piece_json(Endpoint::kGenerate, ctx.model_id, {});
      loaded["done"] = true;
      loaded["done_reason"] = "load";
      return send_json(res, loaded);
    }
    case GenerateKind::kRaw:
      return run_raw(ctx, std::move(*generate->raw), generate->extras, started, res);
    case GenerateKind::kChat:
      return run_chat(ctx, std::move(*generate->chat), generate->extras, Endpoint::kGenerate, started, res);
  }
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
