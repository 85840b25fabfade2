// The generation loop: reuse the cached prompt prefix, evaluate the rest,
// then sample token by token until an end token, a stop string, max_tokens,
// a full context or the callback says stop. Text reaches the callback only
// as complete UTF-8 and never includes a stop string or a part of one.
#include <algorithm>
#include <cmath>
#include <chrono>
#include <limits>

#include "api/model_impl.h"
#include "generate/grammar/matcher.h"
#include "generate/sampler.h"
#include "hy2bit/generate.h"
#include "hy2bit/text.h"
#include "runtime/clock.h"
#include "text/utf8.h"

namespace hy2bit {
namespace {

using runtime::Clock;
using runtime::seconds_since;

// Holds back reply text that might be the start of a stop string.
class StopMatcher {
 public:
  explicit StopMatcher(const std::vector<std::string>& stops) : stops_(stops) {}

  // Adds text; returns what is safe to show. Sets stopped() when a stop string appeared.
  std::string push(std::string_view text) {
    held_ += text;
    size_t cut = std::string::npos;
    for (const std::string& s : stops_) {
      if (s.empty()) continue;
      const size_t at = held_.find(s);
      if (at != std::string::npos && at < cut) {
        cut = at;
        matched_ = s;
      }
    }
    if (cut != std::string::npos) {
      stopped_ = true;
      std::string out = held_.substr(0, cut);
      held_.clear();
      return out;
    }
    // Keep the longest tail that is a prefix of some stop string.
    size_t keep = 0;
    for (const std::string& s : stops_)
      for (size_t n = std::min(s.size() - (s.empty() ? 0 : 1), held_.size()); n > keep; --n)
        if (held_.compare(held_.size() - n, n, s, 0, n) == 0) {
          keep = n;
          break;
        }
    std::string out = held_.substr(0, held_.size() - keep);
    held_.erase(0, held_.size() - keep);
    return out;
  }
  std::string flush() { return std::exchange(held_, {}); }
  bool stopped() const { return stopped_; }
  const std::string& matched() const { return matched_; }

 private:
  const std::vector<std::string>& stops_;
  std::string held_;
  bool stopped_ = false;
  std::string matched_;  // the stop string found
};

size_t common_prefix(std::span<const int32_t> a, std::span<const int32_t> b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

// The grammar stage: masks the logits to the tokens the grammar allows and
// samples among them. Returns -1 when the reply must end here (complete and
// nothing may follow), else the token (an end token only when complete).
// `budget`: tokens left, this one included.
int32_t sample_with_grammar(grammar::Matcher& m, const grammar::TokenTrie& vocab, const Model& model,
                            std::span<const float> logits, int64_t budget, sampling::Sampler& sampler,
                            std::vector<float>& masked) {
  if (m.must_end()) return -1;
  const grammar::TokenMask& allowed = m.allowed_tokens(vocab, budget);
  const bool can_end = m.can_end();
  const float kMasked = -std::numeric_limits<float>::infinity();
  masked.assign(logits.begin(), logits.end());
  const auto n = static_cast<int32_t>(masked.size());
  const int32_t n_trie = vocab.n_vocab();
  int32_t best = -1;  // the allowed token with the highest logit
  for (int32_t id = 0; id < n; ++id) {
    const bool ok = id < n_trie && (grammar::mask_has(allowed, id) || (can_end && is_end_of_generation(model, id)));
    if (!ok) {
      masked[static_cast<size_t>(id)] = kMasked;
    } else if (best < 0 || logits[static_cast<size_t>(id)] > logits[static_cast<size_t>(best)]) {
      best = id;
    }
  }
  if (best < 0) return -1;  // nothing fits (a vocabulary without the needed bytes): end here
  const int32_t token = sampler.sample(masked);
  // The sampler's last-resort pick after rounding can land on a masked
  // token; never let one through.
  if (masked[static_cast<size_t>(token)] == kMasked) return best;
  return token;
}

}  // namespace

struct Generation::State {
  Session* session = nullptr;
  GenerateOptions options;
  std::unique_ptr<sampling::Sampler> sampler;
  std::unique_ptr<StopMatcher> stops;
  std::unique_ptr<grammar::Matcher> matcher;  // with options.grammar: what the reply may continue with
  const grammar::TokenTrie* vocab = nullptr;  // the model's token bytes (for the matcher)
  std::vector<float> masked;                  // logits with disallowed tokens at -inf
  text::Utf8StreamBuffer utf8;
  std::span<const float> logits;       // of the last evaluated token
  int32_t pending = -1;                // sampled, not yet evaluated
  bool finished = false;
  Clock::time_point gen_start;
  GenerateResult result;

  // The reply is over: releases the text the UTF-8 and stop-string buffers
  // still hold (unless that text completes a stop string) and adds it to the result.
  std::string release_held_text() {
    std::string tail = stops->push(utf8.flush());
    if (!stops->stopped()) tail += stops->flush();
    result.text += tail;
    return tail;
  }

  void finish(FinishReason reason) {
    finished = true;
    result.finish = reason;
    if (stops->stopped()) result.stop_string = stops->matched();
    result.generate_seconds = seconds_since(gen_start);
  }
};

Generation::Generation() : state_(std::make_unique<State>()) {}
Generation::~Generation() = default;

Result<std::unique_ptr<Generation>> Generation::start(Session& session, std::span<const int32_t> prompt,
                                                      const GenerateOptions& options) {
  std::unique_ptr<Generation> g(new Generation());
  State& s = *g->state_;
  s.session = &session;
  s.options = options;
  s.result.n_prompt = static_cast<int64_t>(prompt.size());
  if (prompt.empty()) return make_error("the prompt is empty");
  if (s.result.n_prompt >= session.n_ctx())
    return make_error("the prompt has ", s.result.n_prompt, " tokens but the context holds only ",
                      session.n_ctx(), " (prompt + reply); use a shorter prompt or a larger -c");

  const int64_t n_vocab = session.model().summary().n_vocab;
  for (const LogitBias& b : options.sampling.logit_bias) {
    if (b.token < 0 || b.token >= n_vocab)
      return make_error("logit_bias names token ", b.token, ", but the vocabulary has ids 0..", n_vocab - 1);
    if (std::isnan(b.bias)) return make_error("logit_bias for token ", b.token, " is not a number");
  }

  // Reuse the cached prefix; at least one prompt token must run to get logits.
  const size_t cached = std::min(common_prefix(session.tokens(), prompt), prompt.size() - 1);
  session.truncate(static_cast<int64_t>(cached));
  const std::span<const int32_t> fresh = prompt.subspan(cached);
  s.result.n_prompt_evaluated = static_cast<int64_t>(fresh.size());

  s.sampler = std::make_unique<sampling::Sampler>(options.sampling);
  for (int32_t id : prompt) s.sampler->accept(id);
  s.stops = std::make_unique<StopMatcher>(s.options.stop);
  if (!options.grammar.empty()) {
    Result<grammar::Grammar> parsed = grammar::parse_gbnf(options.grammar);
    if (!parsed) return parsed.error();
    Result<std::unique_ptr<grammar::Matcher>> matcher =
        grammar::Matcher::create(std::make_shared<const grammar::Grammar>(std::move(*parsed)));
    if (!matcher) return matcher.error();
    s.matcher = std::move(*matcher);
    s.vocab = &session.model().impl().grammar_vocab();
  }

  const Clock::time_point prompt_start = Clock::now();
  Result<std::span<const float>> logits = session.eval(fresh);
  if (!logits) return logits.error();
  s.logits = *logits;
  s.result.prompt_seconds = seconds_since(prompt_start);
  s.gen_start = Clock::now();
  if (options.max_tokens == 0) s.finish(FinishReason::kLength);
  return g;
}

std::string Generation::sample() {
  State& s = *state_;
  if (s.finished || s.pending >= 0) return {};
  int32_t token = -1;
  FinishReason no_token = FinishReason::kStop;  // why the reply ends if no token comes
  if (s.matcher) {
    const int64_t context_left = s.session->n_ctx() - s.session->n_past();  // this token included
    int64_t budget = context_left;
    if (s.options.max_tokens >= 0)
      budget = std::min<int64_t>(budget, s.options.max_tokens - static_cast<int64_t>(s.result.tokens.size()));
    token = sample_with_grammar(*s.matcher, *s.vocab, s.session->model(), s.logits, std::max<int64_t>(budget, 1),
                                *s.sampler, s.masked);
    // No token although the grammar's value is not whole: it cannot be
    // finished in the tokens left, so the reply was cut short, not stopped.
    if (token < 0 && !s.matcher->can_end())
      no_token = budget < context_left ? FinishReason::kLength : FinishReason::kContextFull;
  } else {
    token = s.sampler->sample(s.logits);
  }
  if (token < 0 || is_end_of_generation(s.session->model(), token)) {
    std::string tail = s.release_held_text();
    s.finish(token < 0 ? no_token : FinishReason::kStop);
    return tail;
  }
  s.result.tokens.push_back(token);
  s.sampler->accept(token);
  const std::string piece = token_to_reply_piece(s.session->model(), token);
  if (s.matcher) s.matcher->accept(piece);  // allowed by the mask, so it matches
  std::string text = s.stops->push(s.utf8.push(piece));
  s.result.text += text;
  if (s.stops->stopped()) {
    s.finish(FinishReason::kStop);
    return text;
  }
  const bool out_of_tokens =
      s.options.max_tokens >= 0 && static_cast<int32_t>(s.result.tokens.size()) >= s.options.max_tokens;
  const bool out_of_context = s.session->n_past() >= s.session->n_ctx();  // no room to feed it
  if (out_of_tokens || out_of_context) {
    text += s.release_held_text();
    const bool complete = s.matcher && s.matcher->can_end();  // the grammar's value is whole
    s.finish(s.stops->stopped() || complete ? FinishReason::kStop
             : out_of_tokens                 ? FinishReason::kLength
                                             : FinishReason::kContextFull);
    return text;
  }
  s.pending = token;
  return text;
}

int32_t Generation::pending_token() const { return state_->pending; }

void Generation::accept_logits(std::span<const float> logits) {
  state_->logits = logits;
  state_->pending = -1;
}

Status Generation::feed() {
  State& s = *state_;
  if (s.finished || s.pending < 0) return Ok{};
  if (s.session->n_past() >= s.session->n_ctx()) {
    s.finish(FinishReason::kContextFull);
    return Ok{};
  }
  Result<std::span<const float>> logits = s.session->eval(std::span<const int32_t>(&s.pending, 1));
  if (!logits) return logits.error();
  accept_logits(*logits);
  return Ok{};
}

void Generation::cancel() {
  if (!state_->finished) state_->finish(FinishReason::kCancelled);
}

bool Generation::finished() const { return state_->finished; }
Session& Generation::session() { return *state_->session; }
const GenerateResult& Generation::result() const { return state_->result; }

Result<GenerateResult> generate(Session& session, std::span<const int32_t> prompt,
                                const GenerateOptions& options, const StreamFn& on_piece) {
  Result<std::unique_ptr<Generation>> g = Generation::start(session, prompt, options);
  if (!g) return g.error();
  Generation& gen = **g;
  while (!gen.finished()) {
    const std::string piece = gen.sample();
    if (!piece.empty() && on_piece && !on_piece(piece)) gen.cancel();
    if (gen.finished()) break;
    HY2BIT_TRY(gen.feed());
  }
  return gen.result();
}

}  // namespace hy2bit
