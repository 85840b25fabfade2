// Sampler stages. Each works on the candidate array in place.
#include "generate/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

namespace hy2bit::sampling {
namespace {
bool by_logit_desc(const Candidate& a, const Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}
}  // namespace

void apply_repeat_penalty(std::vector<Candidate>& candidates, std::span<const int32_t> recent,
                          float penalty) {
  if (penalty == 1.0f || recent.empty()) return;
  const std::unordered_set<int32_t> seen(recent.begin(), recent.end());
  for (Candidate& c : candidates) {
    if (!seen.count(c.id)) continue;
    c.logit = c.logit > 0.0f ? c.logit / penalty : c.logit * penalty;
  }
}

void apply_logit_bias(std::vector<Candidate>& candidates, std::span<const LogitBias> biases) {
  // The candidates are still in id order here: candidate i is token i.
  for (const LogitBias& b : biases) {
    if (b.token >= 0 && static_cast<size_t>(b.token) < candidates.size()) candidates[b.token].logit += b.bias;
  }
}

void apply_frequency_presence(std::vector<Candidate>& candidates, std::span<const int32_t> recent,
                              float frequency, float presence) {
  if ((frequency == 0.0f && presence == 0.0f) || recent.empty()) return;
  std::unordered_map<int32_t, int> counts;
  for (int32_t id : recent) ++counts[id];
  for (Candidate& c : candidates) {
    const auto it = counts.find(c.id);
    if (it == counts.end()) continue;
    c.logit -= static_cast<float>(it->second) * frequency + presence;
  }
}

void keep_top_k(std::vector<Candidate>& candidates, int32_t k) {
  if (k <= 0 || static_cast<size_t>(k) >= candidates.size()) {
    std::sort(candidates.begin(), candidates.end(), by_logit_desc);
    return;
  }
  std::partial_sort(candidates.begin(), candidates.begin() + k, candidates.end(), by_logit_desc);
  candidates.resize(static_cast<size_t>(k));
}

void softmax(std::vector<Candidate>& candidates) {
  std::sort(candidates.begin(), candidates.end(), by_logit_desc);
  if (candidates.empty()) return;
  const float max_logit = candidates.front().logit;
  double sum = 0.0;
  for (Candidate& c : candidates) {
    c.p = std::exp(c.logit - max_logit);
    sum += c.p;
  }
  for (Candidate& c : candidates) c.p = static_cast<float>(c.p / sum);
}

void keep_top_p(std::vector<Candidate>& candidates, float top_p) {
  if (top_p >= 1.0f) return;
  softmax(candidates);
  double cumulative = 0.0;
  size_t keep = candidates.size();
  for (size_t i = 0; i < candidates.size(); ++i) {
    cumulative += candidates[i].p;
    if (cumulative >= top_p) {
      keep = i + 1;
      break;
    }
  }
  candidates.resize(std::max<size_t>(1, keep));
}

void keep_min_p(std::vector<Candidate>& candidates, float min_p) {
  if (min_p <= 0.0f || candidates.empty()) return;
  softmax(candidates);
  const float threshold = candidates.front().p * min_p;
  size_t keep = 1;
  while (keep < candidates.size() && candidates[keep].p >= threshold) ++keep;
  candidates.resize(keep);
}

void apply_temperature(std::vector<Candidate>& candidates, float temperature) {
  for (Candidate& c : candidates) c.logit /= temperature;
}

int32_t draw(const std::vector<Candidate>& candidates, float coin) {
  double cumulative = 0.0;
  for (const Candidate& c : candidates) {
    cumulative += c.p;
    if (coin < cumulative) return c.id;
  }
  return candidates.back().id;  // rounding left the sum just under 1
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

void Sampler::accept(int32_t token) { history_.push_back(token); }

int32_t Sampler::sample(std::span<const float> logits) {
  candidates_.resize(logits.size());
  for (size_t i = 0; i < logits.size(); ++i)
    candidates_[i] = {static_cast<int32_t>(i), logits[i], 0.0f};
  apply_logit_bias(candidates_, params_.logit_bias);

  std::span<const int32_t> recent(history_);
  if (params_.repeat_last_n >= 0 && recent.size() > static_cast<size_t>(params_.repeat_last_n))
    recent = recent.last(static_cast<size_t>(params_.repeat_last_n));
  apply_repeat_penalty(candidates_, recent, params_.repeat_penalty);
  apply_frequency_presence(candidates_, recent, params_.frequency_penalty, params_.presence_penalty);

  if (params_.temperature <= 0.0f) {  // greedy
    return std::min_element(candidates_.begin(), candidates_.end(), by_logit_desc)->id;
  }
  keep_top_k(candidates_, params_.top_k);
  keep_top_p(candidates_, params_.top_p);
  keep_min_p(candidates_, params_.min_p);
  apply_temperature(candidates_, params_.temperature);
  softmax(candidates_);
  // 24 random bits -> a coin in [0, 1), the same on every platform.
  const float coin = static_cast<float>(rng_() >> 40) * (1.0f / 16777216.0f);
  return draw(candidates_, coin);
}

}  // namespace hy2bit::sampling
