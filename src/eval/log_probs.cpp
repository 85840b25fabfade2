// Per-position arithmetic of perplexity and KL divergence (see log_probs.h).
// Exponentials in float, their sums in double, as llama-perplexity does, so
// the scores agree with its far below the precision it prints.
#include "eval/log_probs.h"

#include <algorithm>
#include <cmath>

namespace hy2bit::eval {
namespace {

struct RowMax {
  float value;
  int32_t index;  // first index holding the maximum
};

// A row is 120k logits at the 1.8B vocabulary and a perplexity chunk scores
// 256 rows, so these loops keep four independent chains (of compares, of
// adds) instead of one long dependency chain.
constexpr size_t kLanes = 4;

RowMax row_max(std::span<const float> logits) {
  float max = logits[0];
  const size_t n = logits.size(), whole = n / kLanes * kLanes;
  if (whole > 0) {
    float lane[kLanes] = {logits[0], logits[1], logits[2], logits[3]};
    for (size_t i = 0; i < whole; i += kLanes)
      for (size_t k = 0; k < kLanes; ++k) lane[k] = std::max(lane[k], logits[i + k]);
    max = std::max(std::max(lane[0], lane[1]), std::max(lane[2], lane[3]));
  }
  for (size_t i = whole; i < n; ++i) max = std::max(max, logits[i]);
  // The first index holding the maximum (argmax ties go to the lowest id;
  // bounded, so that a row of NaNs cannot run past its end).
  size_t at = 0;
  while (at + 1 < n && !(logits[at] >= max)) ++at;
  return {logits[at], static_cast<int32_t>(at)};
}

// log sum_i exp(logits[i] - max): the softmax's normaliser, relative to the max.
double log_sum_exp_below(std::span<const float> logits, float max) {
  double lane[kLanes] = {0, 0, 0, 0};  // float exp, double sums (as llama.cpp)
  const size_t n = logits.size(), whole = n / kLanes * kLanes;
  for (size_t i = 0; i < whole; i += kLanes)
    for (size_t k = 0; k < kLanes; ++k) lane[k] += std::exp(logits[i + k] - max);
  double sum = (lane[0] + lane[1]) + (lane[2] + lane[3]);
  for (size_t i = whole; i < n; ++i) sum += std::exp(logits[i] - max);
  return std::log(sum);
}

}  // namespace

TokenScore score_token(std::span<const float> logits, int32_t token) {
  const RowMax m = row_max(logits);
  const double lse = log_sum_exp_below(logits, m.value);
  return {.nll = lse - static_cast<double>(logits[static_cast<size_t>(token)] - m.value), .top_token = m.index};
}

QuantizedRowParams quantize_log_probs(std::span<const float> logits, std::span<uint16_t> q) {
  const RowMax m = row_max(logits);
  float min_logit = m.value;
  for (float v : logits) min_logit = std::min(min_logit, v);
  min_logit = std::max(min_logit, m.value - kLogProbRange);
  const auto lse = static_cast<float>(log_sum_exp_below(logits, m.value));
  const QuantizedRowParams params{.scale = (m.value - min_logit) / 65535.0f,
                                  .min_log_prob = min_logit - m.value - lse};
  if (params.scale == 0) {  // a flat row: every entry is min_log_prob
    std::fill(q.begin(), q.end(), uint16_t{0});
    return params;
  }
  const float inv_scale = 1.0f / params.scale;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float steps = logits[i] > min_logit ? (logits[i] - min_logit) * inv_scale : 0.0f;
    q[i] = static_cast<uint16_t>(std::clamp(std::nearbyint(steps), 0.0f, 65535.0f));
  }
  return params;
}

double kl_divergence_of_rows(QuantizedRowParams base, std::span<const uint16_t> base_q,
                             QuantizedRowParams model, std::span<const uint16_t> model_q) {
  double sum = 0;
  for (size_t i = 0; i < base_q.size(); ++i) {
    const float log_p = base.min_log_prob + base.scale * static_cast<float>(base_q[i]);
    if (log_p <= kLogProbFloor) continue;
    const float log_q = model.min_log_prob + model.scale * static_cast<float>(model_q[i]);
    sum += static_cast<double>(std::exp(log_p) * (log_p - log_q));
  }
  return sum;
}

}  // namespace hy2bit::eval
