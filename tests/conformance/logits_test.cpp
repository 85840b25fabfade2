// Conformance with llama.cpp: logits of every hy-tiny model on both token
// files must match ../shared/testdata/logits within the tolerances its README
// gives (tight for f16/bf16; mean/max/top-1 agreement for quantized types).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "hy2bit/model.h"
#include "kernels/dispatch.h"
#include "support/test_support.h"

namespace hy2bit {
namespace {

struct LogitsCase {
  std::string type;    // f16, bf16, q8_0, q4_0, q2_0c
  std::string tokens;  // short, long
  std::string isa = "";  // kernel path; "" = the default one
};

// Readable parameter names in test listings (CTest shows them).
void PrintTo(const LogitsCase& c, std::ostream* os) { *os << c.type << "/" << c.tokens << "/" << c.isa; }

std::string case_name(const testing::TestParamInfo<LogitsCase>& info) {
  return info.param.type + "_" + info.param.tokens + (info.param.isa.empty() ? "" : "_" + info.param.isa);
}

struct Comparison {
  double max_abs = 0, mean_abs = 0, top1_agreement = 0;
  size_t worst_index = 0;
};

Comparison compare(std::span<const float> actual, const std::vector<float>& expected, int64_t n_vocab) {
  Comparison c;
  double sum = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const double d = std::fabs(static_cast<double>(actual[i]) - expected[i]);
    sum += d;
    if (d > c.max_abs || std::isnan(d)) {
      c.max_abs = std::isnan(d) ? INFINITY : d;
      c.worst_index = i;
    }
  }
  c.mean_abs = sum / static_cast<double>(expected.size());
  const size_t n_rows = expected.size() / static_cast<size_t>(n_vocab);
  size_t agree = 0;
  for (size_t r = 0; r < n_rows; ++r) {
    const auto row_a = actual.begin() + static_cast<long>(r * n_vocab);
    const auto row_e = expected.begin() + static_cast<long>(r * n_vocab);
    agree += std::max_element(row_a, row_a + n_vocab) - row_a == std::max_element(row_e, row_e + n_vocab) - row_e;
  }
  c.top1_agreement = static_cast<double>(agree) / static_cast<double>(n_rows);
  return c;
}

class LogitsConformance : public testing::TestWithParam<LogitsCase> {};

TEST_P(LogitsConformance, MatchesLlamaCpp) {
  const LogitsCase& p = GetParam();
  const std::vector<int32_t> tokens = test::read_token_ids(test::testdata_path("logits/tiny-" + p.tokens + ".tokens"));
  const std::vector<float> expected =
      test::read_f32(test::testdata_path("logits/hy-tiny-" + p.type + "." + p.tokens + ".logits.f32"));

  Result<std::shared_ptr<Model>> model =
      Model::load({.model_path = test::testdata_path("models/hy-tiny-" + p.type + ".gguf"), .n_threads = 2, .isa = p.isa});
  ASSERT_TRUE(model.ok()) << model.error().message;
  const int64_t n_vocab = (*model)->summary().n_vocab;
  ASSERT_EQ(expected.size(), tokens.size() * static_cast<size_t>(n_vocab));

  Result<std::unique_ptr<Session>> session =
      Session::create(*model, {.n_ctx = static_cast<int64_t>(tokens.size()), .n_batch = 512});
  ASSERT_TRUE(session.ok()) << session.error().message;
  Result<std::span<const float>> logits = (*session)->eval(tokens, /*all_logits=*/true);
  ASSERT_TRUE(logits.ok()) << logits.error().message;
  ASSERT_EQ(logits->size(), expected.size());

  const Comparison c = compare(*logits, expected, n_vocab);
  const std::string where = "type " + p.type + ", " + p.tokens + " tokens, kernels " + (*model)->summary().isa +
                            ": worst at position " + std::to_string(c.worst_index / n_vocab) + " token " +
                            std::to_string(c.worst_index % n_vocab) + " expected " +
                            std::to_string(expected[c.worst_index]) + " got " +
                            std::to_string((*logits)[c.worst_index]);
  std::printf("[ logits  ] %s %s: max |diff| %.5f, mean %.5f, top-1 agreement %.3f\n", p.type.c_str(),
              p.tokens.c_str(), c.max_abs, c.mean_abs, c.top1_agreement);
  if (p.type == "f16" || p.type == "bf16") {
    EXPECT_LE(c.max_abs, 0.02) << where;
  } else {
    EXPECT_LE(c.mean_abs, 0.03) << where;
    EXPECT_LE(c.max_abs, 0.35) << where;
    EXPECT_GE(c.top1_agreement, 0.85) << where;
  }
}

// Every weight type on every kernel path this CPU runs (short tokens), so
// each path's kernels are checked end to end against llama.cpp.
std::vector<LogitsCase> every_path_cases() {
  std::vector<LogitsCase> cases;
  for (std::string_view isa : kernels::available_isas())
    for (const char* type : {"f16", "bf16", "q8_0", "q4_0", "q2_0c"})
      cases.push_back({type, "short", std::string(isa)});
  return cases;
}
INSTANTIATE_TEST_SUITE_P(EveryKernelPath, LogitsConformance, testing::ValuesIn(every_path_cases()), case_name);

INSTANTIATE_TEST_SUITE_P(AllTinyModels, LogitsConformance,
                         testing::ValuesIn(std::vector<LogitsCase>{
                             {"f16", "short"}, {"f16", "long"}, {"bf16", "short"}, {"bf16", "long"},
                             {"q8_0", "short"}, {"q8_0", "long"}, {"q4_0", "short"}, {"q4_0", "long"},
                             {"q2_0c", "short"}, {"q2_0c", "long"}}),
                         case_name);

// A q8_0 KV cache (--cache-type q8_0) against llama.cpp's f16-cache logits:
// within the quantized types' tolerance, on the long prompt.
TEST(LogitsConformanceCache, Q8_0CacheStaysCloseToF16Reference) {
  const std::vector<int32_t> tokens = test::read_token_ids(test::testdata_path("logits/tiny-long.tokens"));
  const std::vector<float> expected = test::read_f32(test::testdata_path("logits/hy-tiny-f16.long.logits.f32"));
  Result<std::shared_ptr<Model>> model =
      Model::load({.model_path = test::testdata_path("models/hy-tiny-f16.gguf"), .n_threads = 2});
  ASSERT_TRUE(model.ok()) << model.error().message;
  Result<std::unique_ptr<Session>> session = Session::create(
      *model, {.n_ctx = static_cast<int64_t>(tokens.size()), .n_batch = 512, .cache_type = CacheType::kQ8_0});
  ASSERT_TRUE(session.ok()) << session.error().message;
  Result<std::span<const float>> logits = (*session)->eval(tokens, /*all_logits=*/true);
  ASSERT_TRUE(logits.ok()) << logits.error().message;
  ASSERT_EQ(logits->size(), expected.size());
  const Comparison c = compare(*logits, expected, (*model)->summary().n_vocab);
  std::printf("[ logits  ] f16 weights, q8_0 cache: max |diff| %.5f, mean %.5f, top-1 agreement %.3f\n",
              c.max_abs, c.mean_abs, c.top1_agreement);
  EXPECT_GT(c.max_abs, 0.0);  // the cache really is quantized
  EXPECT_LE(c.mean_abs, 0.03);
  EXPECT_LE(c.max_abs, 0.35);
  EXPECT_GE(c.top1_agreement, 0.85);
}

}  // namespace
}  // namespace hy2bit
