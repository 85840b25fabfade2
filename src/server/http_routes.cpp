// Route table (the embedding routes live in embedding_route.cpp) and the small endpoints: /health, /metrics, /v1/models, the
// vLLM-style /tokenize, /detokenize and /tokenizer_info (lm-evaluation-harness
// uses them as a remote tokenizer), the API-key check and OpenAI-style
// bodies for httplib's own errors (404, 413); ollama-style on /api/ paths.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "hy2bit/generate.h"
#include "hy2bit/text.h"
#include "server/access_control.h"
#include "server/connections.h"
#include "server/ollama_routes.h"
#include "server/request_log.h"
#include "server/request_parsing.h"
#include "server/routes.h"
#include "server/webui/webui_routes.h"

namespace hy2bit::server {
namespace {

using nlohmann::json;

uint64_t mix64(uint64_t x) {  // splitmix64's finalizer: distinct inputs, well-spread outputs
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// How often a non-streamed request looks whether its client is still there.
constexpr std::chrono::milliseconds kClientCheckInterval{100};

ApiError not_found(const httplib::Request& req) {
  return ApiError{.status = 404, .message = "no route for " + req.method + " " + req.path,
                  .type = "invalid_request_error", .code = "not_found", .param = {}};
}

ApiError body_too_large(const RouteContext& ctx) {
  return ApiError{.status = 413,
                  .message = "the request body is larger than " + std::to_string(ctx.options.max_body_bytes) + " bytes",
                  .type = "invalid_request_error", .code = "body_too_large", .param = {}};
}

json model_json(const RouteContext& ctx) {
  return json{{"id", ctx.model_id}, {"object", "model"}, {"created", ctx.created}, {"owned_by", "hy2bit"}};
}

void handle_tokenize(RouteContext& ctx, const std::string& request_body, httplib::Response& res) {
  Result<json> body = parse_json_body(request_body);
  if (!body) return send_error(res, bad_request(body.error().message), *ctx.metrics);
  const auto prompt = body->find("prompt");
  if (prompt == body->end() || !prompt->is_string())
    return send_error(res, bad_request("'prompt' must be a string", "prompt"), *ctx.metrics);
  bool add_special = true;
  if (const auto it = body->find("add_special_tokens"); it != body->end() && !it->is_null()) {
    if (!it->is_boolean())
      return send_error(res, bad_request("'add_special_tokens' must be a boolean", "add_special_tokens"), *ctx.metrics);
    add_special = it->get<bool>();
  }
  Result<std::vector<int32_t>> tokens =
      tokenize(*ctx.model, prompt->get_ref<const std::string&>(),
               {.add_bos = false, .parse_special = ctx.options.raw_parse_special});
  if (!tokens) return send_error(res, bad_request(tokens.error().message, "prompt"), *ctx.metrics);
  std::vector<int32_t> ids = add_special ? ctx.bos_prefix : std::vector<int32_t>{};
  ids.insert(ids.end(), tokens->begin(), tokens->end());
  send_json(res, json{{"tokens", ids}, {"count", ids.size()}, {"max_model_len", ctx.scheduler->n_ctx()}});
}

void handle_detokenize(RouteContext& ctx, const std::string& request_body, httplib::Response& res) {
  Result<json> body = parse_json_body(request_body);
  if (!body) return send_error(res, bad_request(body.error().message), *ctx.metrics);
  const auto tokens = body->find("tokens");
  if (tokens == body->end() || !tokens->is_array())
    return send_error(res, bad_request("'tokens' must be an array of token ids", "tokens"), *ctx.metrics);
  const int64_t n_vocab = ctx.model->summary().n_vocab;
  std::string text;
  for (const json& id : *tokens) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= n_vocab)
      return send_error(res, bad_request("'tokens' holds something that is not a token id in [0, " +
                                         std::to_string(n_vocab) + ")", "tokens"), *ctx.metrics);
    text += token_to_piece(*ctx.model, static_cast<int32_t>(id.get<int64_t>()));
  }
  send_json(res, json{{"prompt", text}});
}

}  // namespace

std::string RouteContext::next_id(const char* prefix) {
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx",
                static_cast<unsigned long long>(mix64(id_nonce ^ id_counter.fetch_add(1))));
  return std::string(prefix) + "-" + hex;
}

uint64_t RouteContext::next_seed() { return mix64((id_nonce + 0x5EED) ^ id_counter.fetch_add(1)) & 0x7fffffffu; }

void send_json(httplib::Response& res, const nlohmann::json& body) {
  res.set_content(to_text(body), "application/json");
}

void send_error(httplib::Response& res, const ApiError& error, Metrics& metrics) {
  res.status = error.status;
  send_json(res, error_body(error));
  if (error.status == 429) metrics.requests_rejected.fetch_add(1);
  else if (error.status >= 400 && error.status < 500) metrics.requests_invalid.fetch_add(1);
}

bool submit_jobs(RouteContext& ctx, const std::vector<std::shared_ptr<Job>>& jobs, httplib::Response& res) {
  switch (ctx.scheduler->submit(jobs)) {
    case Scheduler::Admission::kQueued:
      ctx.metrics->requests.fetch_add(1);
      return true;
    case Scheduler::Admission::kFull:
      send_error(res, server_busy("all " + std::to_string(ctx.options.parallel) + " slots are busy and " +
                                  std::to_string(ctx.options.queue) + " requests are waiting; retry later"),
                 *ctx.metrics);
      res.set_header("Retry-After", "1");
      return false;
    case Scheduler::Admission::kStopping:
      send_error(res, unavailable("the server is shutting down"), *ctx.metrics);
      return false;
  }
  return false;
}

JobUpdate collect(RouteContext& ctx, const std::shared_ptr<Job>& job) {
  JobUpdate all;
  bool cancelled = false;
  for (;;) {
    // Between waits, look whether the client hung up: its reply would go to
    // nobody, so the job is cancelled and its slot freed at the next step.
    JobUpdate u = job->take(kClientCheckInterval);
    if (!u.done && !cancelled && HttpServer::client_gone()) {
      ctx.scheduler->cancel(job);
      cancelled = true;
    }
    all.prompt_logprobs.insert(all.prompt_logprobs.end(), u.prompt_logprobs.begin(), u.prompt_logprobs.end());
    all.text += u.text;
    all.logprobs.insert(all.logprobs.end(), u.logprobs.begin(), u.logprobs.end());
    if (u.done) {
      all.done = true;
      all.error = std::move(u.error);
      all.result = std::move(u.result);
      all.embedding = std::move(u.embedding);
      note_tokens(all.result.n_prompt, static_cast<int64_t>(all.result.tokens.size()));
      return all;
    }
  }
}

void add_routes(httplib::Server& http, RouteContext& ctx) {
  auto access_checks = [&ctx](const httplib::Request& req, httplib::Response& res) {
    HttpServer::mark_headers_read();
    request_started();
    // Bytes after a body error: not a request (the response cannot go out either).
    if (HttpServer::is_closing()) return httplib::Server::HandlerResponse::Handled;
    ctx.metrics->http_requests.fetch_add(1);
    using Handled = httplib::Server::HandlerResponse;
    const std::string host = req.get_header_value("Host");
    if (!host_allowed(ctx.options, host)) {
      send_error(res, ApiError{.status = 403, .message = "this server does not answer for the host '" + host +
                                                         "' (allow it with --allowed-host, or set --api-key)",
                               .type = "invalid_request_error", .code = "host_not_allowed", .param = {}},
                 *ctx.metrics);
      return Handled::Handled;
    }
    // CORS: an allowed origin gets its headers on every response; any other
    // cross-origin call is refused before it runs (a text/plain POST needs
    // no preflight, so the browser would otherwise send it through).
    const std::string origin = req.get_header_value("Origin");
    const std::string allow_origin = allowed_origin(ctx.options, origin);
    if (!allow_origin.empty()) {
      res.set_header("Access-Control-Allow-Origin", allow_origin);
      if (allow_origin != "*") res.set_header("Vary", "Origin");
    } else if (!origin.empty() && !same_origin(origin, host)) {
      send_error(res, ApiError{.status = 403, .message = "cross-origin requests from '" + origin +
                                                         "' are not allowed (see --cors-origin)",
                               .type = "invalid_request_error", .code = "origin_not_allowed", .param = {}},
                 *ctx.metrics);
      return Handled::Handled;
    }
    if (req.method == "OPTIONS") {  // a preflight: say what may follow
      res.status = 204;
      res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
      res.set_header("Access-Control-Max-Age", "600");
      return Handled::Handled;
    }
    if (ctx.options.api_key.empty() || req.path == "/health" || (ctx.options.webui && webui::is_page_path(req.path)))
      return Handled::Unhandled;
    if (api_key_ok(ctx.options, req.get_header_value("Authorization"))) return Handled::Unhandled;
    send_error(res,
               ApiError{.status = 401, .message = "missing or wrong API key (send \"Authorization: Bearer <key>\")",
                        .type = "invalid_request_error", .code = "invalid_api_key", .param = {}},
               *ctx.metrics);
    return Handled::Handled;
  };
  http.set_pre_routing_handler([access_checks](const httplib::Request& req, httplib::Response& res) {
    const httplib::Server::HandlerResponse handled = access_checks(req, res);
    ollama::reshape_error(req, res);
    return handled;
  });
  http.set_logger([&ctx](const httplib::Request& req, const httplib::Response& res) {
    HttpServer::mark_response_sent();
    if (ctx.options.log_format == "none") return;
    const std::string line = request_log_line(ctx.options.log_format, req, res) + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
  });
  // httplib answers some errors itself (no route, body too large, bad
  // request line) with an empty body: give those an OpenAI-style body too.
  auto error_body_for = [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const int status = res.status;
    if (status == 404) return send_error(res, not_found(req), *ctx.metrics);
    if (status == 413) {
      res.set_header("Connection", "close");  // the unread body must not become the next request
      HttpServer::close_after_response();
      return send_error(res, body_too_large(ctx), *ctx.metrics);
    }
    send_error(res,
               ApiError{.status = status, .message = "the HTTP request was refused (status " + std::to_string(status) + ")",
                        .type = status >= 500 ? "server_error" : "invalid_request_error", .code = {}, .param = {}},
               *ctx.metrics);
  };
  http.set_error_handler([error_body_for](const httplib::Request& req, httplib::Response& res) {
    error_body_for(req, res);
    ollama::reshape_error(req, res);
  });
  http.set_exception_handler([&ctx](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_error(res, internal_error("internal error: " + what), *ctx.metrics);
    ollama::reshape_error(req, res);
  });

  http.Get("/health", [](const httplib::Request&, httplib::Response& res) { send_json(res, json{{"status", "ok"}}); });
  http.Get("/metrics", [&ctx](const httplib::Request&, httplib::Response& res) {
    res.set_content(ctx.metrics->render(ctx.scheduler->n_slots()), "text/plain; version=0.0.4");
  });
  http.Get("/v1/models", [&ctx](const httplib::Request&, httplib::Response& res) {
    send_json(res, json{{"object", "list"}, {"data", json::array({model_json(ctx)})}});
  });
  http.Get(R"(/v1/models/(.+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (req.matches.size() < 2 || req.matches[1].str() != ctx.model_id) {
      return send_error(res,
                        ApiError{.status = 404, .message = "no model named '" + std::string(req.matches.size() > 1 ? req.matches[1].str() : "") + "'; this server has '" + ctx.model_id + "'",
                                 .type = "invalid_request_error", .code = "model_not_found", .param = "model"},
                        *ctx.metrics);
    }
    send_json(res, model_json(ctx));
  });
  // POST bodies are read through a content reader: httplib then neither
  // parses form-encoded bodies nor caps them at its 8 KiB form limit (curl
  // -d sends JSON as application/x-www-form-urlencoded).
  using BodyHandler = void (*)(RouteContext&, const std::string&, httplib::Response&);
  auto with_body = [&ctx](BodyHandler handler) {
    auto read_and_handle = [&ctx, handler](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& read) {
      std::string body;
      bool too_large = false;
      const bool complete = read([&](const char* data, size_t length) {
        if (body.size() + length > ctx.options.max_body_bytes) {
          too_large = true;
          return false;
        }
        body.append(data, length);
        return true;
      });
      // httplib refuses a Content-Length over the limit before reading.
      too_large = too_large || std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10) >
                                   ctx.options.max_body_bytes;
      // After a body error the rest of the body may still be on the wire:
      // close the connection, so it is never read as a next request.
      if (too_large || !complete) {
        res.set_header("Connection", "close");
        HttpServer::close_after_response();
      }
      if (too_large) return send_error(res, body_too_large(ctx), *ctx.metrics);
      if (!complete) return send_error(res, bad_request("the request body could not be read whole"), *ctx.metrics);
      HttpServer::mark_handling();
      handler(ctx, body, res);
    };
    return [read_and_handle](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& read) {
      read_and_handle(req, res, read);
      ollama::reshape_error(req, res);
    };
  };
  http.Post("/v1/chat/completions", with_body(handle_chat_completions));
  http.Post("/v1/completions", with_body(handle_completions));
  http.Post("/v1/embeddings", with_body(handle_embeddings));
  http.Post("/api/embed", with_body(handle_ollama_embed));
  http.Post("/api/embeddings", with_body(handle_ollama_embeddings));
  http.Post("/tokenize", with_body(handle_tokenize));
  http.Post("/detokenize", with_body(handle_detokenize));
  http.Get("/tokenizer_info", [&ctx](const httplib::Request&, httplib::Response& res) {
    send_json(res, json{{"tokenizer_class", "hy2bit"},
                        {"bos_token", ctx.bos_text},
                        {"eos_token", ctx.eos_text},
                        {"model_max_length", ctx.scheduler->n_ctx()}});
  });
  // The ollama API (ollama_routes.cpp); GET / stays the chat page.
  http.Post("/api/chat", with_body(ollama::handle_chat));
  http.Post("/api/generate", with_body(ollama::handle_generate));
  http.Post("/api/show", with_body(ollama::handle_show));
  http.Get("/api/tags", [&ctx](const httplib::Request&, httplib::Response& res) { ollama::handle_tags(ctx, res); });
  http.Get("/api/ps", [&ctx](const httplib::Request&, httplib::Response& res) { ollama::handle_ps(ctx, res); });
  http.Get("/api/version", [&ctx](const httplib::Request&, httplib::Response& res) { ollama::handle_version(ctx, res); });
  webui::add_routes(http, ctx);
}

}  // namespace hy2bit::server
