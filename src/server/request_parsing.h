// JSON request bodies -> validated request structs, for
// /v1/chat/completions, /v1/completions and the embedding routes. Everything a client can get
// wrong is caught here and named (field, what was found, what is expected);
// nothing past this point checks types or ranges again. No model calls here
// beyond the vocabulary size (token ids are range-checked against it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hy2bit/generate.h"
#include "hy2bit/text.h"
#include "hy2bit/result.h"

namespace hy2bit::server {

// Bodies nest no deeper than this (objects and arrays); deeper ones are
// refused before parsing, so no input can exhaust the stack.
inline constexpr int kMaxJsonDepth = 64;
// Most top log-probabilities a request may ask for per token.
inline constexpr int32_t kMaxLogprobs = 20;
// Most stop strings per request, and the longest one (bytes).
inline constexpr size_t kMaxStopStrings = 16;
inline constexpr size_t kMaxStopBytes = 256;
// Most choices per prompt (n).
inline constexpr int64_t kMaxChoices = 16;
// Most prompts (times n) in one /v1/completions request.
inline constexpr size_t kMaxPrompts = 256;

// Parses a request body: valid UTF-8 JSON, an object, nested at most kMaxJsonDepth.
Result<nlohmann::json> parse_json_body(std::string_view body);

// What the reply may do with the request's tools (OpenAI's tool_choice).
enum class ToolChoice {
  kNone,      // no tools (none given, or "none": they are not shown to the model)
  kAuto,      // shown; the reply may call them (parsed out of its text)
  kRequired,  // shown; the reply is one or more calls (forced by a grammar)
  kNamed,     // shown; the reply is one call of tool_name (forced by a grammar)
};

struct ChatRequest {
  std::vector<ChatMessage> messages;    // roles checked; "developer" became system
  Thinking thinking = Thinking::kDefault;  // kOff for chat_template_kwargs.enable_thinking = false
  GenerateOptions generate;             // max_tokens -1 when the request sets none
  bool stream = false;
  int32_t n = 1;                        // choices, each with seed + i (not with stream)
  bool include_usage = false;           // stream_options.include_usage: a last chunk with usage
  bool logprobs = false;                // per-token log-probabilities of the reply
  int32_t top_logprobs = 0;             // alternatives per token (0..kMaxLogprobs)
  std::string tools_json;               // the tools array (JSON) to render; empty: none
  ToolChoice tool_choice = ToolChoice::kNone;
  std::string tool_name;                // kNamed: the function
  // response_format json_object / json_schema and forced tool calls set
  // generate.grammar and turn thinking off (the grammar starts at the reply).
};

// One prompt of a completions request: text, or token ids used as given.
struct PromptInput {
  bool is_tokens = false;
  std::string text;                     // when !is_tokens
  std::vector<int32_t> tokens;          // when is_tokens; each in [0, n_vocab)
};

struct CompletionRequest {
  std::vector<PromptInput> prompts;     // 1..kMaxPrompts; one choice each
  GenerateOptions generate;             // max_tokens 16 when unset (OpenAI's default)
  bool stream = false;                  // only with a single prompt and n = 1
  int32_t n = 1;                        // choices per prompt, each with seed + i
  bool include_usage = false;
  bool echo = false;                    // the prompt (and its log-probabilities) come back too
  int32_t logprobs = -1;                // -1: none; N: each token's log-probability and the top N
};

// `defaults` fill the sampling fields a request leaves out; `seed` is the
// seed used when the request gives none. `body_text`, when given, is the
// body the json was parsed from: JSON schemas (response_format, tool
// parameters) are read from it again in their written key order, so object
// properties are generated in the schema's order rather than sorted.
Result<ChatRequest> parse_chat_request(const nlohmann::json& body, const SamplingOptions& defaults,
                                       uint64_t seed, int64_t n_vocab, std::string_view body_text = {});
Result<CompletionRequest> parse_completion_request(const nlohmann::json& body, const SamplingOptions& defaults,
                                                   uint64_t seed, int64_t n_vocab, std::string_view body_text = {});

// POST /v1/embeddings (OpenAI): input in the completions prompt shapes;
// `dimensions` is refused (no truncated embeddings); `model` and `user` are
// accepted (one model; no per-user state).
struct EmbeddingRequest {
  std::vector<PromptInput> inputs;      // 1..kMaxPrompts; one embedding each, in order
  bool base64 = false;                  // encoding_format "base64": little-endian float32 bytes
};
Result<EmbeddingRequest> parse_embedding_request(const nlohmann::json& body, int64_t n_vocab);

// POST /api/embed (ollama; `legacy` false) and /api/embeddings (legacy:
// `prompt` instead of `input`, no truncate). `options` and `keep_alive` are
// accepted: the model stays loaded and no option changes an embedding.
struct OllamaEmbedRequest {
  std::vector<std::string> inputs;      // 1..kMaxPrompts texts
  bool truncate = true;                 // cut inputs longer than the context to fit, else refuse them
};
Result<OllamaEmbedRequest> parse_ollama_embed_request(const nlohmann::json& body, bool legacy);

}  // namespace hy2bit::server
