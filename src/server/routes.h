// What the HTTP handlers share (the model, the scheduler, metrics, ids) and
// the route registration. Handlers run on httplib's connection threads:
// they validate, tokenize (the tokenizer is thread-safe), submit Jobs and
// stream or collect their output; they never touch a Session.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <httplib.h>

#include "hy2bit/model.h"
#include "hy2bit/server.h"
#include "server/api_error.h"
#include "server/metrics.h"
#include "server/request_parsing.h"
#include "server/scheduler.h"

namespace hy2bit::server {

struct RouteContext {
  std::shared_ptr<const Model> model;
  ServerOptions options;
  Scheduler* scheduler = nullptr;
  Metrics* metrics = nullptr;
  std::string model_id;               // what /v1/models lists and responses name
  int64_t created = 0;                // unix seconds the server started
  std::vector<int32_t> bos_prefix;    // [BOS] when the model wants one before raw prompts, else []
  std::string bos_text;               // BOS and EOS as text (/tokenizer_info)
  std::string eos_text;
  uint64_t id_nonce = 0;              // random per server: response ids and default seeds differ across runs
  std::atomic<uint64_t> id_counter{0};
  std::atomic<int> open_streams{0};   // SSE responses still being written (stop() lets them finish)

  // "<prefix>-<16 hex digits>", unique within this server's life.
  std::string next_id(const char* prefix);
  // A seed for a request that gives none (different for every request).
  uint64_t next_seed();
};

// Counts an SSE response as open for as long as it lives.
class OpenStream {
 public:
  explicit OpenStream(RouteContext& ctx) : ctx_(ctx) { ctx_.open_streams.fetch_add(1); }
  ~OpenStream() { ctx_.open_streams.fetch_sub(1); }
  OpenStream(const OpenStream&) = delete;
  OpenStream& operator=(const OpenStream&) = delete;

 private:
  RouteContext& ctx_;
};

// Writes an OpenAI-style error response and counts it.
void send_error(httplib::Response& res, const ApiError& error, Metrics& metrics);
void send_json(httplib::Response& res, const nlohmann::json& body);

// Registers every endpoint, the API-key check and the error bodies.
void add_routes(httplib::Server& http, RouteContext& ctx);

// The two generation endpoints (chat_route.cpp, completion_route.cpp);
// `request_body` is the raw body, at most options.max_body_bytes.
void handle_chat_completions(RouteContext& ctx, const std::string& request_body, httplib::Response& res);
void handle_completions(RouteContext& ctx, const std::string& request_body, httplib::Response& res);

// The chat prompt of a parsed request (the template makes the only control
// tokens), checked against the context; on a bad one fills `error`. Shared
// by /v1/chat/completions and the ollama routes.
std::optional<std::vector<int32_t>> chat_prompt(RouteContext& ctx, const ChatRequest& request, ApiError& error);

// A raw prompt ready for the scheduler, and what echo sends back for it.
struct PreparedPrompt {
  std::vector<int32_t> tokens;
  std::string echo_text;   // the prompt text (token prompts: their pieces joined)
  bool bos_added = false;  // tokens[0] is a BOS put before a text prompt; echo_text lacks it
};
// Tokenizes (control-token text as --raw-parse-special says) and checks
// prompt `index` of a request; on a bad one fills `error`. Shared by
// /v1/completions and ollama's raw /api/generate.
std::optional<PreparedPrompt> prepare_prompt(RouteContext& ctx, const PromptInput& input, size_t index,
                                             ApiError& error);

// The embedding endpoints (embedding_route.cpp): /v1/embeddings, ollama's
// /api/embed and its legacy /api/embeddings.
void handle_embeddings(RouteContext& ctx, const std::string& request_body, httplib::Response& res);
void handle_ollama_embed(RouteContext& ctx, const std::string& request_body, httplib::Response& res);
void handle_ollama_embeddings(RouteContext& ctx, const std::string& request_body, httplib::Response& res);

// Submits one request's jobs; on refusal (429/503) writes the error and returns false.
bool submit_jobs(RouteContext& ctx, const std::vector<std::shared_ptr<Job>>& jobs, httplib::Response& res);

// Waits for a job's end (non-streamed replies), gathering all its output;
// cancels the job when the client hangs up meanwhile. Notes its tokens for
// the request log.
JobUpdate collect(RouteContext& ctx, const std::shared_ptr<Job>& job);

}  // namespace hy2bit::server
