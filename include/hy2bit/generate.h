// The public API for text: tokenizing, the Hunyuan chat format with thinking,
// sampling options, and the generation loop with a streaming callback that
// returns false to stop (like gemma.cpp's StreamFunc).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hy2bit/model.h"
#include "hy2bit/result.h"
#include "hy2bit/tools.h"

namespace hy2bit {

// ---- tokens --------------------------------------------------------------

struct TokenizeOptions {
  bool add_bos = true;        // prepend BOS if the model's add_bos_token says so
  bool parse_special = true;  // "<｜hy_User｜>" in the text becomes the control token
};
// Text must be valid UTF-8 (an Error names the first bad byte otherwise).
// tokenize, token_to_piece and render_chat only read the model: they are
// safe to call from several threads at once (the server's HTTP threads do).
Result<std::vector<int32_t>> tokenize(const Model& model, std::string_view text,
                                      const TokenizeOptions& options = {});
// The bytes a token stands for (control tokens render as their text).
std::string token_to_piece(const Model& model, int32_t id);
// The text a generated token adds to a reply: as token_to_piece, except that
// control tokens add nothing, but for the reasoning tags <think> </think>
// <answer> </answer>, which ReasoningSplitter consumes. So a reply never
// carries control-token text a client could send back as a forged turn.
std::string token_to_reply_piece(const Model& model, int32_t id);
// True for tokens that end a reply (EOS, end of turn).
bool is_end_of_generation(const Model& model, int32_t id);

// ---- chat format ---------------------------------------------------------

enum class Role { kSystem, kUser, kAssistant, kTool };
struct ChatMessage {
  Role role;
  std::string content;
  std::vector<ToolCall> tool_calls = {};  // assistant turns that called tools (hy2bit/tools.h)
};
enum class Thinking {
  kDefault,  // on, unless the last user message starts with /no_think
  kOn,       // forced on
  kOff,      // forced off (as enable_thinking=false)
};
// The prompt for `messages` in the Hunyuan chat format (see hy-model.md),
// ending with the assistant prefix and, when thinking is off, the empty
// think block "<think>\n\n</think>\n".
// With `tools_json` (an OpenAI tools array, JSON text) the tools are
// rendered as Hunyuan's tool template does (src/text/chat_format.h).
std::string render_chat(const Model& model, const std::vector<ChatMessage>& messages,
                        Thinking thinking = Thinking::kDefault, std::string_view tools_json = {});
// The render_chat prompt as token ids (BOS included), with only the
// format's own strings parsed as control tokens: message content, the tools
// preamble and the <tool_calls> / <tool_response> markup are tokenized as
// plain text, so "<｜hy_User｜>" typed by a user stays text.
Result<std::vector<int32_t>> tokenize_chat(const Model& model, const std::vector<ChatMessage>& messages,
                                           Thinking thinking = Thinking::kDefault, std::string_view tools_json = {});
// Whether thinking is on for these messages.
bool thinking_enabled(const std::vector<ChatMessage>& messages, Thinking thinking);

// ---- generation ------------------------------------------------------------

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

// Evaluates one token for each of several sessions of the same model in a
// single forward pass where the model supports it (falling back to one pass
// per session), and returns each session's logits (n_vocab floats, valid
// until that session's next eval).
struct BatchStep {
  Session* session;
  int32_t token;
};
Result<std::vector<std::span<const float>>> decode_batch(std::span<const BatchStep> steps);

// Continues `session` with `prompt` (tokens already cached from an earlier
// call are reused when the prompt starts with them) and samples a reply.
// Errors: a prompt longer than the context, bad token ids.
Result<GenerateResult> generate(Session& session, std::span<const int32_t> prompt,
                                const GenerateOptions& options, const StreamFn& on_piece = {});

}  // namespace hy2bit
