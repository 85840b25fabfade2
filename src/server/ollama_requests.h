// Request bodies of ollama's /api/chat and /api/generate, translated into
// the OpenAI request shape and parsed by parse_chat_request /
// parse_completion_request (request_parsing.h), so both APIs share one set
// of checks; the OpenAI parser's messages are renamed back to the ollama
// fields. Options with no OpenAI name (num_ctx, repeat_last_n) are read
// here; any other option, images, suffix, template and context are refused
// by name. Pure functions of the body text: no HTTP and no model calls, so
// fuzz/fuzz_ollama_request.cpp drives them directly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hy2bit/generate.h"
#include "hy2bit/text.h"
#include "hy2bit/result.h"
#include "server/request_parsing.h"

namespace hy2bit::server::ollama {

// What the parsers need from the server.
struct ParseLimits {
  SamplingOptions sampling;   // the server's defaults for fields a request leaves out
  uint64_t seed = 0;          // the seed when the request gives none
  int64_t n_vocab = 0;        // token ids are range-checked against it
  int64_t n_ctx = 0;          // the server's context per request: options.num_ctx's upper bound
};

// What the OpenAI request has no field for.
struct OllamaExtras {
  bool stream = true;                // ollama streams unless told not to
  std::optional<int64_t> num_ctx;    // options.num_ctx: prompt + reply cap, in [1, n_ctx]
};

// POST /api/chat.
struct OllamaChat {
  ChatRequest request;
  OllamaExtras extras;
};
Result<OllamaChat> parse_ollama_chat(std::string_view body, const ParseLimits& limits);

// POST /api/generate: a load request (no prompt; the model is always
// loaded), a prompt in the chat template (with `system`), or a raw prompt
// sent as is (raw: true, like /v1/completions).
enum class GenerateKind { kLoad, kChat, kRaw };
struct OllamaGenerate {
  GenerateKind kind = GenerateKind::kLoad;
  std::optional<ChatRequest> chat;       // kChat
  std::optional<CompletionRequest> raw;  // kRaw: one text prompt
  OllamaExtras extras;
};
Result<OllamaGenerate> parse_ollama_generate(std::string_view body, const ParseLimits& limits);

// An OpenAI-side message ('max_tokens', 'response_format', 'prompt[0]', ...)
// with the fields named as the ollama client wrote them.
std::string ollama_field_names(std::string message);

}  // namespace hy2bit::server::ollama
