// The public API for generating: sampling options, one reply step by step
// (Generation, which the server interleaves), and the generation loop with a
// streaming callback that returns false to stop (like gemma.cpp's StreamFunc).
// Prompts come from hy2bit/text.h (tokenize, the chat format).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hy2bit/model.h"
#include "hy2bit/result.h"

namespace hy2bit {

// A fixed amount added to one token's logit before sampling (OpenAI's and
// llama.cpp's logit_bias); -infinity bans the token.
struct LogitBias {
  int32_t token;
  float bias;
};

struct SamplingOptions {
  float temperature = 0.7f;       // <= 0: greedy
  int32_t top_k = 20;             // <= 0: off
  float top_p = 0.8f;             // >= 1: off
  float min_p = 0.0f;             // <= 0: off
  float repeat_penalty = 1.05f;   // 1: off
  int32_t repeat_last_n = 64;     // 0: off, -1: whole context
  float presence_penalty = 0.0f;  // subtracted once from each token seen in the last repeat_last_n (0: off)
  float frequency_penalty = 0.0f; // subtracted per occurrence in the last repeat_last_n (0: off)
  std::vector<LogitBias> logit_bias = {};  // applied first, before every other stage
  uint64_t seed = 0;              // same seed, same model, same prompt: same text
};

struct GenerateOptions {
  int32_t max_tokens = -1;        // -1: until an end token or the context is full
  SamplingOptions sampling;
  std::vector<std::string> stop;  // stop before any of these strings
  // GBNF (hy2bit/structured.h) the reply must match, from its first token:
  // only tokens that keep the reply a valid prefix are sampled, an end token
  // only once it is complete, and the reply stops as soon as nothing can
  // follow. Near max_tokens or the end of the context, only tokens that still
  // let it finish in time are allowed, so the reply ends complete whenever
  // the budget allows the shortest completion. Render the prompt with
  // thinking off (Thinking::kOff): the grammar does not cover a think block.
  // Empty: unconstrained. A bad grammar makes Generation::start fail.
  std::string grammar = "";
};

// Why a reply ended. kStop: an end token or a stop string (stop_string says
// which); kLength: max_tokens; kContextFull: no room left in the context
// (OpenAI calls both "length"); kCancelled: the caller stopped it.
enum class FinishReason { kStop, kLength, kContextFull, kCancelled };

struct GenerateResult {
  std::string text;               // the whole reply (stop string excluded)
  std::vector<int32_t> tokens;    // generated token ids (end token excluded)
  FinishReason finish = FinishReason::kStop;
  std::string stop_string;        // the stop string that ended it (kStop); empty: an end token
  int64_t n_prompt = 0;           // prompt tokens
  int64_t n_prompt_evaluated = 0; // prompt tokens actually run (the rest were cached)
  double prompt_seconds = 0;      // time to evaluate the prompt (= time to first token)
  double generate_seconds = 0;    // time for the generated tokens after the first
};

// Called with each complete-UTF-8 piece of reply text; return false to stop.
using StreamFn = std::function<bool(std::string_view piece)>;

// One reply being generated, step by step, so a caller can interleave many
// (the server batches the next token of every busy slot into one forward
// pass with decode_batch). generate() below is this object driven in a loop:
//   auto g = Generation::start(session, prompt, options);   // runs the prompt
//   while (!g->finished()) { piece = g->sample(); ...; g->feed(); }
class Generation {
 public:
  // Evaluates the prompt (reusing the session's cached prefix). Errors: empty
  // prompt, a prompt that leaves no room in the context, bad token ids.
  static Result<std::unique_ptr<Generation>> start(Session& session, std::span<const int32_t> prompt,
                                                   const GenerateOptions& options);
  ~Generation();

  // Samples the next token from the current logits and returns the reply
  // text it completes (complete UTF-8, stop strings held back; may be
  // empty). May finish the generation (end token, stop string, max_tokens,
  // a full context).
  std::string sample();
  // Evaluates the token just sampled, alone. Finishes with kContextFull when
  // the context is full. Call only when !finished().
  Status feed();
  // The token feed() would evaluate; for callers that evaluate it with
  // decode_batch and hand the logits back through accept_logits().
  int32_t pending_token() const;
  void accept_logits(std::span<const float> logits);
  // Stops early (the caller's own reason, e.g. a client disconnected).
  void cancel();

  bool finished() const;
  Session& session();
  const GenerateResult& result() const;  // text and counts so far; final once finished()

 private:
  Generation();
  struct State;
  std::unique_ptr<State> state_;
};

// Continues `session` with `prompt` (tokens already cached from an earlier
// call are reused when the prompt starts with them) and samples a reply.
// Errors: a prompt longer than the context, bad token ids.
Result<GenerateResult> generate(Session& session, std::span<const int32_t> prompt,
                                const GenerateOptions& options, const StreamFn& on_piece = {});

}  // namespace hy2bit
