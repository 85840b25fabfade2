// Tests for hy2bit/embedding.h and Session::eval_hidden: the pooled vector is
// the mean of per-token hidden states computed independently (token by
// token vs one batch), L2 normalisation gives unit length, inputs map to
// stable and distinct vectors, the hidden state is what the logits imply
// (logits == hidden . token_embd^T for a tied f32 model), and bad inputs are errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "api/model_impl.h"
#include "formats/convert.h"
#include "hy2bit/embedding.h"
#include "hy2bit/text.h"
#include "model/test_model.h"
#include "support/test_support.h"

namespace hy2bit {
namespace {

// A tiny tied-embedding f32 model, written once per test process.
std::shared_ptr<Model> tiny_f32_model() {
  static std::shared_ptr<Model> model = [] {
    const std::string path = test::scratch_dir() + "/embedding-tiny-f32.gguf";
    model::TestModelSpec spec = model::test_model_preset_tiny();
    spec.type = formats::TypeId::kF32;
    spec.seed = 7;
    if (Status written = model::write_test_model(spec, path); !written)
      throw std::runtime_error(written.error().message);
    Result<std::shared_ptr<Model>> loaded = Model::load({.model_path = path, .n_threads = 2});
    if (!loaded) throw std::runtime_error(loaded.error().message);
    return *loaded;
  }();
  return model;
}

std::unique_ptr<Session> new_session(int64_t n_ctx = 256, int64_t n_batch = 64) {
  Result<std::unique_ptr<Session>> s = Session::create(tiny_f32_model(), {.n_ctx = n_ctx, .n_batch = n_batch});
  if (!s) throw std::runtime_error(s.error().message);
  return std::move(s).value();
}

std::vector<int32_t> tokens_of(const std::string& text) {
  Result<std::vector<int32_t>> ids = tokenize_for_embedding(*tiny_f32_model(), text);
  if (!ids) throw std::runtime_error(ids.error().message);
  return *ids;
}

double norm(std::span<const float> v) {
  double s = 0;
  for (float x : v) s += static_cast<double>(x) * x;
  return std::sqrt(s);
}

const std::string kText = "The quick brown fox jumps over the lazy dog, twice.";

TEST(Embedding, PooledEqualsMeanOfTokenByTokenHiddenStates) {
  const std::vector<int32_t> ids = tokens_of(kText);
  ASSERT_GT(ids.size(), 8u);
  const int64_t n_embd = tiny_f32_model()->summary().n_embd;

  // Independent path: one token per eval, summing as we go.
  std::unique_ptr<Session> stepwise = new_session();
  std::vector<double> sum(static_cast<size_t>(n_embd), 0.0);
  for (int32_t id : ids) {
    Result<std::span<const float>> h = stepwise->eval_hidden(std::span(&id, 1));
    ASSERT_TRUE(h) << h.error().message;
    ASSERT_EQ(h->size(), static_cast<size_t>(n_embd));
    for (int64_t i = 0; i < n_embd; ++i) sum[i] += (*h)[i];
  }

  // Pooled in batches of 4 (several forward passes), unnormalised.
  std::unique_ptr<Session> batched = new_session(256, 4);
  Result<std::vector<float>> pooled = embed(*batched, ids, {.normalize = false});
  ASSERT_TRUE(pooled) << pooled.error().message;
  ASSERT_EQ(pooled->size(), static_cast<size_t>(n_embd));
  double worst = 0;
  for (int64_t i = 0; i < n_embd; ++i)
    worst = std::max(worst, std::abs(sum[i] / static_cast<double>(ids.size()) - (*pooled)[i]));
  EXPECT_LT(worst, 1e-4) << "batched pooling differs from token-by-token mean";
  EXPECT_EQ(batched->n_past(), 0) << "embed leaves the session reset";
}

TEST(Embedding, NormalizedHasUnitLengthAndSameDirection) {
  const std::vector<int32_t> ids = tokens_of(kText);
  std::unique_ptr<Session> s = new_session();
  Result<std::vector<float>> raw = embed(*s, ids, {.normalize = false});
  Result<std::vector<float>> unit = embed(*s, ids);
  ASSERT_TRUE(raw && unit);
  EXPECT_NEAR(norm(*unit), 1.0, 1e-5);
  const double raw_norm = norm(*raw);
  ASSERT_GT(raw_norm, 0);
  for (size_t i = 0; i < raw->size(); ++i) EXPECT_NEAR((*unit)[i], (*raw)[i] / raw_norm, 1e-5) << i;
}

TEST(Embedding, SameTextSameVectorDifferentTextDifferentVector) {
  std::unique_ptr<Session> s = new_session();
  Result<std::vector<float>> a1 = embed(*s, tokens_of("hello world"));
  Result<std::vector<float>> b = embed(*s, tokens_of("a completely different sentence"));
  Result<std::vector<float>> a2 = embed(*s, tokens_of("hello world"));
  ASSERT_TRUE(a1 && b && a2);
  EXPECT_EQ(*a1, *a2) << "the cache from the previous input must not leak in";
  double diff = 0;
  for (size_t i = 0; i < a1->size(); ++i) diff = std::max(diff, static_cast<double>(std::abs((*a1)[i] - (*b)[i])));
  EXPECT_GT(diff, 1e-3);
}

TEST(Embedding, BosIsPrependedAndSpecialMarkupStaysText) {
  const Model& model = *tiny_f32_model();
  Result<std::vector<int32_t>> with_bos = tokenize(model, "hi", {.add_bos = true, .parse_special = false});
  ASSERT_TRUE(with_bos);
  EXPECT_EQ(tokens_of("hi"), *with_bos);
  Result<std::vector<int32_t>> as_text = tokenize(model, "<｜hy_User｜>", {.add_bos = true, .parse_special = false});
  ASSERT_TRUE(as_text);
  EXPECT_EQ(tokens_of("<｜hy_User｜>"), *as_text);
}

TEST(Embedding, HiddenStateTimesTiedEmbeddingIsTheLogits) {
  const std::vector<int32_t> ids = tokens_of(kText);
  std::unique_ptr<Session> for_logits = new_session();
  Result<std::span<const float>> logits = for_logits->eval(ids, /*all_logits=*/true);
  ASSERT_TRUE(logits);
  std::unique_ptr<Session> for_hidden = new_session();
  Result<std::span<const float>> hidden = for_hidden->eval_hidden(ids);
  ASSERT_TRUE(hidden);

  const model::ModelWeights& w = tiny_f32_model()->impl().transformer->weights();
  ASSERT_TRUE(w.output_tied);
  const int64_t n_embd = tiny_f32_model()->summary().n_embd, n_vocab = tiny_f32_model()->summary().n_vocab;
  const uint64_t row_bytes = w.token_embd.n_bytes / static_cast<uint64_t>(n_vocab);
  std::vector<float> row(static_cast<size_t>(n_embd));
  double worst = 0;
  for (int64_t v = 0; v < n_vocab; v += 7) {
    formats::dequantize(w.token_embd.type.id, w.token_embd.data.data() + static_cast<uint64_t>(v) * row_bytes,
                        row.data(), n_embd);
    for (size_t t = 0; t < ids.size(); ++t) {
      double dot = 0;
      for (int64_t i = 0; i < n_embd; ++i) dot += static_cast<double>((*hidden)[t * n_embd + i]) * row[i];
      worst = std::max(worst, std::abs(dot - (*logits)[t * n_vocab + v]));
    }
  }
  EXPECT_LT(worst, 1e-3) << "logits differ from hidden . token_embd^T";
}

TEST(Embedding, EmptyAndOverlongInputsAreErrors) {
  std::unique_ptr<Session> s = new_session(16, 8);
  Result<std::vector<float>> empty = embed(*s, std::vector<int32_t>{});
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message.find("no tokens"), std::string::npos) << empty.error().message;

  std::vector<int32_t> long_input(17, 5);
  Result<std::vector<float>> too_long = embed(*s, long_input);
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().message.find("context size 16"), std::string::npos) << too_long.error().message;

  // Exactly the context fits.
  EXPECT_TRUE(embed(*s, std::vector<int32_t>(16, 5)));

  Result<std::vector<float>> bad_id = embed(*s, std::vector<int32_t>{1, 1000000});
  ASSERT_FALSE(bad_id);
  EXPECT_NE(bad_id.error().message.find("outside the vocabulary"), std::string::npos);
}

}  // namespace
}  // namespace hy2bit
