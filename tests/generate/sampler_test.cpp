// Sampler stages on hand-made candidate arrays, and the chained sampler's
// determinism under a seed.
#include <gtest/gtest.h>

#include <cmath>

#include "generate/sampler.h"

namespace hy2bit::sampling {
namespace {

std::vector<Candidate> make(std::vector<float> logits) {
  std::vector<Candidate> c;
  for (size_t i = 0; i < logits.size(); ++i) c.push_back({static_cast<int32_t>(i), logits[i], 0.0f});
  return c;
}

TEST(Sampler, RepeatPenaltyDividesPositiveMultipliesNegative) {
  std::vector<Candidate> c = make({2.0f, -2.0f, 1.0f});
  const int32_t recent[] = {0, 1, 0};
  apply_repeat_penalty(c, recent, 2.0f);
  EXPECT_FLOAT_EQ(c[0].logit, 1.0f);   // applied once although token 0 appears twice
  EXPECT_FLOAT_EQ(c[1].logit, -4.0f);
  EXPECT_FLOAT_EQ(c[2].logit, 1.0f);
}

TEST(Sampler, FrequencyAndPresencePenaltiesCountOccurrences) {
  std::vector<Candidate> c = make({2.0f, -2.0f, 1.0f});
  const int32_t recent[] = {0, 1, 0};
  apply_frequency_presence(c, recent, 0.5f, 0.25f);
  EXPECT_FLOAT_EQ(c[0].logit, 2.0f - 2 * 0.5f - 0.25f);  // seen twice
  EXPECT_FLOAT_EQ(c[1].logit, -2.0f - 0.5f - 0.25f);      // seen once
  EXPECT_FLOAT_EQ(c[2].logit, 1.0f);                      // not seen
}

TEST(Sampler, LogitBiasAddsToItsToken) {
  std::vector<Candidate> c = make({2.0f, -2.0f, 1.0f});
  const LogitBias biases[] = {{2, 5.0f}, {0, -INFINITY}};
  apply_logit_bias(c, biases);
  EXPECT_FLOAT_EQ(c[2].logit, 6.0f);
  EXPECT_TRUE(std::isinf(c[0].logit) && c[0].logit < 0);
  EXPECT_FLOAT_EQ(c[1].logit, -2.0f);
}

TEST(Sampler, BannedTokenIsNeverChosen) {
  SamplingOptions options;
  options.temperature = 0.0f;
  options.logit_bias = {{1, -INFINITY}};
  Sampler sampler(options);
  const float logits[] = {0.5f, 9.0f, 0.1f};
  EXPECT_EQ(sampler.sample(logits), 0);
}

TEST(Sampler, TopKKeepsHighestSorted) {
  std::vector<Candidate> c = make({0.1f, 3.0f, 2.0f, 5.0f});
  keep_top_k(c, 2);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].id, 3);
  EXPECT_EQ(c[1].id, 1);
}

TEST(Sampler, SoftmaxSumsToOne) {
  std::vector<Candidate> c = make({1.0f, 2.0f, 3.0f});
  softmax(c);
  EXPECT_NEAR(c[0].p + c[1].p + c[2].p, 1.0f, 1e-6f);
  EXPECT_NEAR(c[0].p, std::exp(3.0f) / (std::exp(1.0f) + std::exp(2.0f) + std::exp(3.0f)), 1e-6f);
}

TEST(Sampler, TopPKeepsSmallestSufficientPrefix) {
  std::vector<Candidate> c = make({std::log(0.5f), std::log(0.3f), std::log(0.2f)});
  keep_top_p(c, 0.7f);
  EXPECT_EQ(c.size(), 2u);
  std::vector<Candidate> one = make({std::log(0.9f), std::log(0.1f)});
  keep_top_p(one, 0.5f);
  EXPECT_EQ(one.size(), 1u);
}

TEST(Sampler, MinPDropsUnlikely) {
  std::vector<Candidate> c = make({std::log(0.6f), std::log(0.3f), std::log(0.1f)});
  keep_min_p(c, 0.4f);  // threshold 0.24
  EXPECT_EQ(c.size(), 2u);
}

TEST(Sampler, DrawFollowsCumulativeProbability) {
  std::vector<Candidate> c = make({std::log(0.5f), std::log(0.25f), std::log(0.25f)});
  softmax(c);
  EXPECT_EQ(draw(c, 0.0f), 0);
  EXPECT_EQ(draw(c, 0.49f), 0);
  EXPECT_EQ(draw(c, 0.51f), 1);
  EXPECT_EQ(draw(c, 0.99f), 2);
}

TEST(Sampler, GreedyIsArgmax) {
  Sampler s({.temperature = 0.0f, .repeat_penalty = 1.0f});
  const float logits[] = {0.5f, 2.5f, 1.0f};
  EXPECT_EQ(s.sample(logits), 1);
}

TEST(Sampler, SameSeedSameTokens) {
  std::vector<float> logits(1000);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(static_cast<float>(i)) * 3.0f;
  auto run = [&](uint64_t seed) {
    Sampler s({.temperature = 1.0f, .top_k = 50, .top_p = 0.95f, .seed = seed});
    std::vector<int32_t> out;
    for (int i = 0; i < 50; ++i) {
      out.push_back(s.sample(logits));
      s.accept(out.back());
    }
    return out;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

}  // namespace
}  // namespace hy2bit::sampling
