// Fuzz target: ollama's /api/chat and /api/generate bodies through their
// translation onto the OpenAI request parsers (server/ollama_requests.h),
// as the routes run it; a refusal becomes the error the client reads.
// Seeds: every body shape of the two routes (fuzz/corpus/fuzz_ollama_request),
// dictionary of ollama's field and option names (fuzz/dict/ollama.dict).
// Invariants: an accepted request has what its kind promises (a chat's
// messages, generate's one or two chat turns or one raw text prompt),
// num_ctx lies in [1, the server's context], token limits stay in range.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "support.h"
#include "server/api_error.h"
#include "server/ollama_requests.h"

using namespace hy2bit;
using server::ollama::GenerateKind;

namespace {

constexpr int64_t kVocab = 1000;
constexpr int64_t kContext = 512;

void refuse(std::string_view route, const Error& error) {
  fuzz::trace_refusal(route, error);
  fuzz::check(!error.message.empty(), "a refusal has a message");
  const std::string body = server::to_text(nlohmann::json{{"error", error.message}});
  fuzz::check(!body.empty(), "the error body is JSON text");
}

void check_extras(const server::ollama::OllamaExtras& extras) {
  if (extras.num_ctx) fuzz::check(*extras.num_ctx >= 1 && *extras.num_ctx <= kContext, "num_ctx in [1, n_ctx]");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const server::ollama::ParseLimits limits{.sampling = {}, .seed = 7, .n_vocab = kVocab, .n_ctx = kContext};

  Result<server::ollama::OllamaChat> chat = server::ollama::parse_ollama_chat(body, limits);
  if (!chat) {
    refuse("/api/chat", chat.error());
  } else {
    fuzz::check(!chat->request.messages.empty(), "a chat request has a message");
    fuzz::check(chat->request.generate.max_tokens >= -1, "max_tokens -1 or a limit");
    check_extras(chat->extras);
  }

  Result<server::ollama::OllamaGenerate> generate = server::ollama::parse_ollama_generate(body, limits);
  if (!generate) {
    refuse("/api/generate", generate.error());
    return 0;
  }
  check_extras(generate->extras);
  switch (generate->kind) {
    case GenerateKind::kLoad:
      fuzz::check(!generate->chat && !generate->raw, "a load request runs nothing");
      break;
    case GenerateKind::kChat:
      fuzz::check(generate->chat && !generate->raw, "a templated prompt is a chat request");
      fuzz::check(!generate->chat->messages.empty() && generate->chat->messages.size() <= 2,
                  "a templated prompt is a user turn, after at most a system one");
      fuzz::check(generate->chat->messages.back().role == Role::kUser, "the last turn is the user's");
      break;
    case GenerateKind::kRaw:
      fuzz::check(generate->raw && !generate->chat, "a raw prompt is a completion request");
      fuzz::check(generate->raw->prompts.size() == 1 && !generate->raw->prompts[0].is_tokens &&
                      !generate->raw->prompts[0].text.empty(),
                  "a raw prompt is one non-empty text");
      fuzz::check(generate->raw->generate.max_tokens >= -1, "max_tokens -1 or a limit");
      break;
  }
  return 0;
}
