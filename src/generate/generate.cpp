// The generation loop: reuse the cached prompt prefix, evaluate the rest,
// then sample token by token until an end token, a stop string, max_tokens,
// a full context or the callback says stop. Text reaches the callback only
// as complete UTF-8 and never includes a stop string or a part of one.
#include <algorithm>
#include <chrono>

#include "generate/sampler.h"
#include "hy2bit/generate.h"
#include "text/utf8.h"

namespace hy2bit {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

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
      if (at != std::string::npos) cut = std::min(cut, at);
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

 private:
  const std::vector<std::string>& stops_;
  std::string held_;
  bool stopped_ = false;
};

size_t common_prefix(std::span<const int32_t> a, std::span<const int32_t> b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

}  // namespace

Result<GenerateResult> generate(Session& session, std::span<const int32_t> prompt,
                                const GenerateOptions& options, const StreamFn& on_piece) {
  const Model& model = session.model();
  GenerateResult result;
  result.n_prompt = static_cast<int64_t>(prompt.size());
  if (prompt.empty()) return make_error("the prompt is empty");
  if (result.n_prompt >= session.n_ctx())
    return make_error("the prompt has ", result.n_prompt, " tokens but the context holds only ",
                      session.n_ctx(), " (prompt + reply); use a shorter prompt or a larger -c");

  // Reuse the cached prefix; at least one prompt token must run to get logits.
  const size_t cached = std::min(common_prefix(session.tokens(), prompt), prompt.size() - 1);
  session.truncate(static_cast<int64_t>(cached));
  const std::span<const int32_t> fresh = prompt.subspan(cached);
  result.n_prompt_evaluated = static_cast<int64_t>(fresh.size());

  sampling::Sampler sampler(options.sampling);
  for (int32_t id : prompt) sampler.accept(id);

  const Clock::time_point prompt_start = Clock::now();
  Result<std::span<const float>> logits = session.eval(fresh);
  if (!logits) return logits.error();
  result.prompt_seconds = seconds_since(prompt_start);

  const Clock::time_point gen_start = Clock::now();
  text::Utf8StreamBuffer utf8;
  StopMatcher stops(options.stop);
  bool cancelled = false;
  auto deliver = [&](const std::string& text) {
    if (text.empty()) return;
    result.text += text;
    if (on_piece && !on_piece(text)) cancelled = true;
  };

  result.finish = FinishReason::kLength;
  for (;;) {
    if (options.max_tokens >= 0 && static_cast<int32_t>(result.tokens.size()) >= options.max_tokens) break;
    const int32_t token = sampler.sample(*logits);
    if (is_end_of_generation(model, token)) {
      result.finish = FinishReason::kStop;
      break;
    }
    result.tokens.push_back(token);
    sampler.accept(token);
    deliver(stops.push(utf8.push(token_to_piece(model, token))));
    if (stops.stopped()) {
      result.finish = FinishReason::kStop;
      break;
    }
    if (cancelled) {
      result.finish = FinishReason::kCancelled;
      break;
    }
    if (session.n_past() >= session.n_ctx()) break;  // context full: finish "length"
    logits = session.eval(std::span<const int32_t>(&token, 1));
    if (!logits) return logits.error();
  }
  if (!stops.stopped() && !cancelled) {
    std::string tail = stops.push(utf8.flush());
    if (!stops.stopped()) tail += stops.flush();
    deliver(tail);
  }
  result.generate_seconds = seconds_since(gen_start);
  return result;
}

}  // namespace hy2bit
