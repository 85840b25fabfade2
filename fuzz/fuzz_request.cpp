// Fuzz target: the server's request parsing, as the routes run it: the raw
// body through parse_json_body (depth limit, UTF-8, object), then the chat,
// completions and embeddings parsers (/v1/embeddings, and ollama's /api/embed
// and legacy /api/embeddings), and on refusal the OpenAI error body the
// client gets. Seeds: every body shape of those routes
// (fuzz/corpus/fuzz_request), dictionary of field names. ollama's /api/chat
// and /api/generate bodies have their own target, fuzz_ollama_request.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "support.h"
#include "server/api_error.h"
#include "server/request_parsing.h"

using namespace hy2bit;

namespace {

constexpr int64_t kVocab = 1000;

void refuse(const Error& error) {
  fuzz::check(!error.message.empty(), "a refusal has a message");
  const std::string body = server::to_text(server::error_body(server::bad_request(error.message)));
  fuzz::check(!body.empty(), "the error body is JSON text");
}

// Completions prompts and embedding inputs: 1..kMaxPrompts, ids in the vocabulary.
void check_prompts(const std::vector<server::PromptInput>& prompts) {
  fuzz::check(!prompts.empty() && prompts.size() <= server::kMaxPrompts, "1..kMaxPrompts prompts");
  for (const server::PromptInput& p : prompts)
    for (int32_t id : p.tokens) fuzz::check(id >= 0 && id < kVocab, "prompt ids in the vocabulary");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  Result<nlohmann::json> json = server::parse_json_body(body);
  if (!json) {
    refuse(json.error());
    return 0;
  }
  const SamplingOptions defaults;
  Result<server::ChatRequest> chat = server::parse_chat_request(*json, defaults, /*seed=*/7, kVocab);
  if (!chat) {
    refuse(chat.error());
  } else {
    fuzz::check(!chat->messages.empty(), "a chat request has a message");
    fuzz::check(chat->top_logprobs >= 0 && chat->top_logprobs <= server::kMaxLogprobs, "top_logprobs in range");
  }
  Result<server::CompletionRequest> completion =
      server::parse_completion_request(*json, defaults, /*seed=*/7, kVocab);
  if (!completion) refuse(completion.error());
  else check_prompts(completion->prompts);

  Result<server::EmbeddingRequest> embedding = server::parse_embedding_request(*json, kVocab);
  if (!embedding) refuse(embedding.error());
  else check_prompts(embedding->inputs);
  for (const bool legacy : {false, true}) {
    Result<server::OllamaEmbedRequest> ollama = server::parse_ollama_embed_request(*json, legacy);
    if (!ollama) refuse(ollama.error());
    else fuzz::check(!ollama->inputs.empty() && ollama->inputs.size() <= server::kMaxPrompts,
                     "1..kMaxPrompts ollama inputs");
  }
  return 0;
}
