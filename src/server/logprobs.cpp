// log_softmax over one row of logits and the top-n selection. One pass for
// the normalizer, one for the best n (n <= kMaxLogprobs, so a small sorted
// array beats a heap or a full sort of n_vocab entries).
#include "server/logprobs.h"

#include <algorithm>
#include <cmath>

namespace hy2bit::server {

double log_sum_exp(std::span<const float> logits) {
  if (logits.empty()) return 0.0;
  const float max = *std::max_element(logits.begin(), logits.end());
  double sum = 0.0;
  for (float x : logits) sum += std::exp(static_cast<double>(x - max));
  return static_cast<double>(max) + std::log(sum);
}

TokenLogprob token_logprob(std::span<const float> logits, int32_t token, int32_t n_top) {
  TokenLogprob out;
  out.token = token;
  const double lse = log_sum_exp(logits);
  if (token >= 0 && static_cast<size_t>(token) < logits.size())
    out.logprob = static_cast<float>(static_cast<double>(logits[static_cast<size_t>(token)]) - lse);

  // Best n (id, logit), kept sorted best first; ties keep the lower id.
  const size_t n = std::min(static_cast<size_t>(std::max(n_top, 0)), logits.size());
  std::vector<std::pair<int32_t, float>> best;
  best.reserve(n + 1);
  for (size_t i = 0; i < logits.size() && n > 0; ++i) {
    const float x = logits[i];
    if (best.size() == n && x <= best.back().second) continue;
    auto at = std::find_if(best.begin(), best.end(), [x](const auto& b) { return x > b.second; });
    best.insert(at, {static_cast<int32_t>(i), x});
    if (best.size() > n) best.pop_back();
  }
  for (auto& [id, value] : best) value = static_cast<float>(static_cast<double>(value) - lse);
  out.top = std::move(best);
  return out;
}

}  // namespace hy2bit::server
