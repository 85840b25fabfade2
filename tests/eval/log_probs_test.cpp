// Tests of the per-position arithmetic (eval/log_probs.h) and the KLD
// statistics (eval/kld_stats.h) on hand-made rows, where the answers are
// known in closed form.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "eval/kld_stats.h"
#include "eval/log_probs.h"

namespace hy2bit::eval {
namespace {

TEST(LogProbs, ScoreTokenIsTheNegativeLogSoftmax) {
  const std::vector<float> logits = {1.0f, 3.0f, 3.0f, -2.0f};
  double sum = 0;
  for (float v : logits) sum += std::exp(double{v});
  const TokenScore s = score_token(logits, 0);
  EXPECT_NEAR(s.nll, std::log(sum) - 1.0, 1e-6);
  EXPECT_EQ(s.top_token, 1);  // the first of two equal maxima, as llama.cpp
}

TEST(LogProbs, QuantizedRowsKeepSixteenNatsToHalfAStep) {
  std::vector<float> logits(1000);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = 0.037f * static_cast<float>(i) - 20.0f;  // 37 nats of range
  std::vector<uint16_t> q(logits.size());
  const QuantizedRowParams p = quantize_log_probs(logits, q);
  EXPECT_NEAR(p.scale, kLogProbRange / 65535.0f, 1e-9);
  double sum = 0;
  for (float v : logits) sum += std::exp(double{v} - logits.back());
  const double lse = std::log(sum) + logits.back();
  for (size_t i = 0; i < logits.size(); ++i) {
    const double exact = logits[i] - lse;
    const double stored = p.min_log_prob + p.scale * q[i];
    if (logits[i] > logits.back() - kLogProbRange)
      EXPECT_NEAR(stored, exact, 0.51 * p.scale + 1e-5) << i;
    else
      EXPECT_EQ(q[i], 0) << i;  // below the kept range
  }
  EXPECT_EQ(q.back(), 65535);
}

TEST(LogProbs, KlDivergenceOfRowsIsZeroForTheSameRowAndMatchesTheClosedForm) {
  // Two distributions over 3 tokens, well inside the kept range.
  const std::vector<float> a = {0.0f, 1.0f, 2.0f}, b = {0.5f, 1.0f, 1.5f};
  std::vector<uint16_t> qa(3), qb(3);
  const QuantizedRowParams pa = quantize_log_probs(a, qa), pb = quantize_log_probs(b, qb);
  EXPECT_EQ(kl_divergence_of_rows(pa, qa, pa, qa), 0.0);
  const auto log_softmax = [](const std::vector<float>& l, size_t i) {
    double s = 0;
    for (float v : l) s += std::exp(double{v});
    return l[i] - std::log(s);
  };
  double expected = 0;
  for (size_t i = 0; i < 3; ++i)
    expected += std::exp(log_softmax(a, i)) * (log_softmax(a, i) - log_softmax(b, i));
  EXPECT_NEAR(kl_divergence_of_rows(pa, qa, pb, qb), expected, 1e-4);
  EXPECT_GT(kl_divergence_of_rows(pa, qa, pb, qb), 0.0);
}

TEST(KldStats, PercentilesAndMedianFollowLlamaCpp) {
  const std::vector<float> sorted = {1, 2, 3, 4, 10};
  EXPECT_DOUBLE_EQ(percentile(sorted, 0.0), 1);
  EXPECT_DOUBLE_EQ(percentile(sorted, 1.0), 10);
  EXPECT_DOUBLE_EQ(percentile(sorted, 0.5), 3);
  EXPECT_DOUBLE_EQ(percentile(sorted, 0.9), 0.4 * 4 + 0.6 * 10);  // rank 3.6
  EXPECT_DOUBLE_EQ(median(sorted), 3);
  EXPECT_DOUBLE_EQ(median({1, 2, 3, 4}), 2.5);
}

TEST(KldStats, MeansAndUncertainties) {
  KldStats stats;
  // 20 positions: nll alternating 1 and 3, base nll always 2, KLD 0.1 or 0.3, half with the same top.
  for (int i = 0; i < 20; ++i)
    stats.add({.nll = i % 2 ? 3.0 : 1.0, .nll_base = 2.0, .kld = i % 2 ? 0.3 : 0.1, .same_top = i % 2 == 0});
  const KldSummary s = stats.summary(true);
  EXPECT_EQ(s.count, 20);
  EXPECT_NEAR(s.ppl, std::exp(2.0), 1e-12);
  EXPECT_NEAR(s.ppl_error, std::exp(2.0) * std::sqrt(1.0 / 19), 1e-9);  // var 1, n-1 = 19
  EXPECT_NEAR(s.ppl_base, std::exp(2.0), 1e-12);
  EXPECT_EQ(s.ppl_base_error, 0);
  EXPECT_NEAR(s.kld_mean, 0.2, 1e-12);
  EXPECT_NEAR(s.kld_error, std::sqrt(0.01 / 19), 1e-12);
  EXPECT_NEAR(s.kld_median, 0.2, 1e-7);
  EXPECT_NEAR(s.kld_max, 0.3, 1e-7);
  EXPECT_DOUBLE_EQ(s.same_top, 0.5);
  EXPECT_NEAR(s.same_top_error, std::sqrt(0.25 / 19), 1e-12);
  EXPECT_NEAR(s.log_ppl_ratio, 0, 1e-12);
  // 10 or fewer values: no uncertainty, as llama.cpp.
  KldStats few;
  for (int i = 0; i < 10; ++i) few.add({.nll = i % 2 ? 3.0 : 1.0, .nll_base = 2.0});
  EXPECT_EQ(few.summary(false).ppl_error, 0);
}

}  // namespace
}  // namespace hy2bit::eval
