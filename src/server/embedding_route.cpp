// The embedding endpoints: POST /v1/embeddings (OpenAI's shape, as
// llama-server --embedding answers it: mean pooling, L2-normalised),
// POST /api/embed (ollama: L2-normalised, truncate to the context by
// default) and POST /api/embeddings (ollama's legacy route: unnormalised).
// Each input becomes one embedding Job; the scheduler runs it on a slot's
// Session, so embeddings never touch a Session a generation is using.
#include <bit>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "hy2bit/embedding.h"
#include "server/request_parsing.h"
#include "server/routes.h"
#include "text/base64.h"

namespace hy2bit::server {
namespace {

using nlohmann::json;

// OpenAI's encoding_format "base64": the float32 values as little-endian bytes.
std::string floats_as_base64(const std::vector<float>& values) {
  static_assert(std::endian::native == std::endian::little, "base64 embeddings assume a little-endian host");
  std::vector<uint8_t> bytes(values.size() * sizeof(float));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return text::base64_encode(bytes);
}

// Embeddings of one request's inputs, in input order.
struct EmbeddingsOutcome {
  std::vector<std::vector<float>> vectors;
  int64_t n_tokens = 0;  // input tokens evaluated, all inputs
};

// Submits one embedding job per input as one request and waits for all of
// them. On refusal or failure, writes the error with `send` and returns nullopt.
template <typename SendError>
std::optional<EmbeddingsOutcome> run_embeddings(RouteContext& ctx, std::vector<std::vector<int32_t>> inputs,
                                                bool normalize, httplib::Response& res, SendError send) {
  std::vector<std::shared_ptr<Job>> jobs;
  for (std::vector<int32_t>& tokens : inputs) {
    JobSpec spec;
    spec.prompt = std::move(tokens);
    spec.embed = true;
    spec.normalize = normalize;
    jobs.push_back(std::make_shared<Job>(std::move(spec)));
  }
  if (!submit_jobs(ctx, jobs, res)) return std::nullopt;
  EmbeddingsOutcome outcome;
  for (const std::shared_ptr<Job>& job : jobs) {
    JobUpdate done = collect(ctx, job);
    if (done.error) {
      send(*done.error);
      return std::nullopt;
    }
    if (done.embedding.empty()) {  // cancelled: the client has gone, nobody reads this
      send(internal_error("the embedding was cancelled"));
      return std::nullopt;
    }
    outcome.n_tokens += static_cast<int64_t>(job->spec().prompt.size());
    outcome.vectors.push_back(std::move(done.embedding));
  }
  return outcome;
}

std::string too_long_message(const std::string& what, size_t n_tokens, int64_t n_ctx) {
  return what + " has " + std::to_string(n_tokens) + " tokens, but this server's context holds " +
         std::to_string(n_ctx) + " tokens";
}

void handle_ollama(RouteContext& ctx, const std::string& request_body, httplib::Response& res, bool legacy) {
  const auto started = std::chrono::steady_clock::now();
  // Errors go out in the OpenAI shape; with_body (http_routes.cpp) gives
  // /api/ paths ollama's {"error": ...} body.
  auto send = [&](const ApiError& e) { send_error(res, e, *ctx.metrics); };
  Result<json> body = parse_json_body(request_body);
  if (!body) return send(bad_request(body.error().message));
  Result<OllamaEmbedRequest> request = parse_ollama_embed_request(*body, legacy);
  if (!request) return send(bad_request(request.error().message));
  const int64_t n_ctx = ctx.scheduler->n_ctx();
  const char* key = legacy ? "prompt" : "input";
  std::vector<std::vector<int32_t>> inputs;
  for (size_t i = 0; i < request->inputs.size(); ++i) {
    const std::string name = request->inputs.size() > 1 || !legacy
                                 ? std::string("'") + key + "[" + std::to_string(i) + "]'" : std::string("'prompt'");
    if (request->inputs[i].empty()) return send(bad_request(name + " is an empty string", key));
    Result<std::vector<int32_t>> tokens = tokenize_for_embedding(*ctx.model, request->inputs[i]);
    if (!tokens) return send(bad_request(name + ": " + tokens.error().message, key));
    if (static_cast<int64_t>(tokens->size()) > n_ctx) {
      if (!request->truncate)
        return send(bad_request(too_long_message(name, tokens->size(), n_ctx) + " (send truncate: true to cut it)",
                                key, "context_length_exceeded"));
      tokens->resize(static_cast<size_t>(n_ctx));  // ollama keeps the first n_ctx tokens
    }
    inputs.push_back(std::move(*tokens));
  }
  std::optional<EmbeddingsOutcome> outcome = run_embeddings(ctx, std::move(inputs), /*normalize=*/!legacy, res, send);
  if (!outcome) return;
  if (legacy) return send_json(res, json{{"embedding", outcome->vectors.front()}});
  const auto total_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count();
  send_json(res, json{{"model", ctx.model_id},
                      {"embeddings", outcome->vectors},
                      {"total_duration", total_ns},
                      {"load_duration", 0},  // the model is loaded once, at start
                      {"prompt_eval_count", outcome->n_tokens}});
}

}  // namespace

void handle_embeddings(RouteContext& ctx, const std::string& request_body, httplib::Response& res) {
  auto send = [&](const ApiError& e) { send_error(res, e, *ctx.metrics); };
  Result<json> body = parse_json_body(request_body);
  if (!body) return send(bad_request(body.error().message));
  Result<EmbeddingRequest> request = parse_embedding_request(*body, ctx.model->summary().n_vocab);
  if (!request) return send(bad_request(request.error().message));  // the message names the field
  const int64_t n_ctx = ctx.scheduler->n_ctx();
  std::vector<std::vector<int32_t>> inputs;
  for (size_t i = 0; i < request->inputs.size(); ++i) {
    const PromptInput& input = request->inputs[i];
    const std::string name = "'input[" + std::to_string(i) + "]'";
    std::vector<int32_t> tokens = input.tokens;  // token ids are used as given (no BOS added)
    if (!input.is_tokens) {
      if (input.text.empty()) return send(bad_request(name + " is an empty string", "input"));
      Result<std::vector<int32_t>> ids = tokenize_for_embedding(*ctx.model, input.text);
      if (!ids) return send(bad_request(name + ": " + ids.error().message, "input"));
      tokens = std::move(*ids);
    }
    if (static_cast<int64_t>(tokens.size()) > n_ctx)
      return send(bad_request(too_long_message(name, tokens.size(), n_ctx), "input", "context_length_exceeded"));
    inputs.push_back(std::move(tokens));
  }
  std::optional<EmbeddingsOutcome> outcome = run_embeddings(ctx, std::move(inputs), /*normalize=*/true, res, send);
  if (!outcome) return;
  json data = json::array();
  for (size_t i = 0; i < outcome->vectors.size(); ++i) {
    json embedding = request->base64 ? json(floats_as_base64(outcome->vectors[i])) : json(outcome->vectors[i]);
    data.push_back(json{{"object", "embedding"}, {"index", i}, {"embedding", std::move(embedding)}});
  }
  send_json(res, json{{"object", "list"},
                      {"data", std::move(data)},
                      {"model", ctx.model_id},
                      {"usage", {{"prompt_tokens", outcome->n_tokens}, {"total_tokens", outcome->n_tokens}}}});
}

void handle_ollama_embed(RouteContext& ctx, const std::string& request_body, httplib::Response& res) {
  handle_ollama(ctx, request_body, res, /*legacy=*/false);
}

void handle_ollama_embeddings(RouteContext& ctx, const std::string& request_body, httplib::Response& res) {
  handle_ollama(ctx, request_body, res, /*legacy=*/true);
}

}  // namespace hy2bit::server
