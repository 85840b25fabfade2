// Tests of hy2bit perplexity's method on the tiny model: the chunking and
// scoring rule checked against an independent computation from all-position
// logits, BOS substitution, the KLD workflow (a model against its own base
// is exactly 0), and the refusal of bad texts and base files.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "hy2bit/model.h"
#include "hy2bit/perplexity.h"
#include "model/test_model.h"
#include "support/test_support.h"

namespace hy2bit {
namespace {

constexpr int64_t kCtx = 32;  // small chunks: 15 scored positions each

std::string licenses_text() {
  std::ifstream in(std::string(HY2BIT_SOURCE_DIR) + "/data/text/licenses.txt", std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::shared_ptr<Model> load_tiny(const std::string& type = "f16") {
  Result<std::shared_ptr<Model>> m =
      Model::load({.model_path = test::testdata_path("models/hy-tiny-" + type + ".gguf"), .n_threads = 1});
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
  return m.ok() ? *m : nullptr;
}

std::vector<int32_t> tiny_tokens(const Model& model, size_t n_bytes = 4000) {
  Result<std::vector<int32_t>> t = tokenize_for_perplexity(model, licenses_text().substr(0, n_bytes));
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  return t.ok() ? *t : std::vector<int32_t>{};
}

// The rule written out once more from its definition, with the public
// Session API: each chunk with BOS first, logits of every position, -log
// softmax at positions n_ctx/2 .. n_ctx-2 of the next token, in double.
struct Reference {
  double ppl = 0, ppl_error = 0;
  int64_t count = 0;
};
Reference reference_perplexity(std::shared_ptr<Model> model, const std::vector<int32_t>& tokens, int64_t n_ctx,
                               int64_t n_chunks) {
  const int32_t bos = tokens.front();  // tokenize_for_perplexity put BOS first
  const auto n_vocab = static_cast<size_t>(model->summary().n_vocab);
  std::vector<double> nlls;
  for (int64_t c = 0; c < n_chunks; ++c) {
    std::vector<int32_t> chunk(tokens.begin() + c * n_ctx, tokens.begin() + (c + 1) * n_ctx);
    chunk[0] = bos;
    auto session = Session::create(model, {.n_ctx = n_ctx, .n_batch = n_ctx});
    auto logits = (*session)->eval(chunk, /*all_logits=*/true);
    EXPECT_TRUE(logits.ok());
    for (int64_t pos = n_ctx / 2; pos <= n_ctx - 2; ++pos) {
      const float* row = logits->data() + static_cast<size_t>(pos) * n_vocab;
      double max = row[0], sum = 0;
      for (size_t i = 0; i < n_vocab; ++i) max = std::max(max, double{row[i]});
      for (size_t i = 0; i < n_vocab; ++i) sum += std::exp(row[i] - max);
      const int32_t next = tokens[static_cast<size_t>(c * n_ctx + pos + 1)];
      nlls.push_back(std::log(sum) - (row[next] - max));
    }
  }
  double mean = 0, var = 0;
  for (double v : nlls) mean += v;
  mean /= static_cast<double>(nlls.size());
  for (double v : nlls) var += (v - mean) * (v - mean);
  var /= static_cast<double>(nlls.size());  // population variance, as llama.cpp
  const double ppl = std::exp(mean);
  return {ppl, ppl * std::sqrt(var / static_cast<double>(nlls.size() - 1)), static_cast<int64_t>(nlls.size())};
}

TEST(Perplexity, MatchesAnIndependentComputationFromLogits) {
  std::shared_ptr<Model> model = load_tiny();
  ASSERT_TRUE(model);
  const std::vector<int32_t> tokens = tiny_tokens(*model);
  ASSERT_GE(tokens.size(), 4u * kCtx);
  EXPECT_EQ(tokens.front(), 984);  // the tiny model adds BOS 984
  Result<PerplexityResult> r = perplexity(model, tokens, {.n_ctx = kCtx, .n_batch = 16, .n_chunks = 4});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Reference ref = reference_perplexity(model, tokens, kCtx, 4);
  EXPECT_EQ(r->n_chunks, 4);
  EXPECT_EQ(r->n_scored, 4 * (kCtx - 1 - kCtx / 2));
  EXPECT_EQ(r->n_scored, ref.count);
  EXPECT_NEAR(r->ppl, ref.ppl, 1e-5 * ref.ppl);
  EXPECT_NEAR(r->ppl_error, ref.ppl_error, 1e-4 * ref.ppl_error);
  EXPECT_FALSE(r->has_kld);
}

TEST(Perplexity, RunsEveryWholeChunkByDefaultAndReportsEachOne) {
  std::shared_ptr<Model> model = load_tiny();
  ASSERT_TRUE(model);
  const std::vector<int32_t> tokens = tiny_tokens(*model, 900);
  const int64_t whole = static_cast<int64_t>(tokens.size()) / kCtx;
  std::vector<int64_t> seen;
  double last_running = 0;
  Result<PerplexityResult> r = perplexity(model, tokens, {.n_ctx = kCtx}, [&](const PerplexityProgress& p) {
    seen.push_back(p.chunk);
    EXPECT_EQ(p.n_chunks, whole);
    EXPECT_EQ(p.kld, nullptr);
    last_running = p.ppl;
    return true;
  });
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->n_chunks, whole);
  ASSERT_EQ(static_cast<int64_t>(seen.size()), whole);
  EXPECT_EQ(seen.front(), 1);
  EXPECT_EQ(seen.back(), whole);
  EXPECT_DOUBLE_EQ(last_running, r->ppl);  // the last running estimate is the final one
  const Reference ref = reference_perplexity(model, tokens, kCtx, whole);
  EXPECT_NEAR(r->ppl, ref.ppl, 1e-5 * ref.ppl);
}

TEST(Perplexity, OnlyTheSecondHalfOfEachChunkCountsAndItsFirstTokenIsBos) {
  std::shared_ptr<Model> model = load_tiny();
  ASSERT_TRUE(model);
  const std::vector<int32_t> tokens = tiny_tokens(*model);
  const PerplexityOptions o{.n_ctx = kCtx, .n_chunks = 2};
  const double base = perplexity(model, tokens, o)->ppl;
  const auto with = [&](size_t index, int32_t id) {
    std::vector<int32_t> t = tokens;
    t[index] = id;
    return perplexity(model, t, o)->ppl;
  };
  const int32_t other = tokens[kCtx] == 7 ? 8 : 7;
  EXPECT_EQ(with(kCtx, other), base);             // chunk 2's first token is replaced by BOS
  EXPECT_EQ(with(2 * kCtx, other), base);         // chunk 3 is not evaluated
  EXPECT_NE(with(kCtx + 3, other), base);         // context of chunk 2 (not scored, but seen)
  EXPECT_NE(with(kCtx + kCtx - 1, other), base);  // the last scored position's next token
}

TEST(Perplexity, RefusesEmptyShortAndInvalidTexts) {
  std::shared_ptr<Model> model = load_tiny();
  ASSERT_TRUE(model);
  Result<std::vector<int32_t>> empty = tokenize_for_perplexity(*model, "", "a.txt");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().message, "a.txt is empty");
  Result<std::vector<int32_t>> bad = tokenize_for_perplexity(*model, "abc\xff", "a.txt");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("a.txt is not valid UTF-8 at byte 3"), std::string::npos) << bad.error().message;

  const std::vector<int32_t> tokens = tiny_tokens(*model, 200);
  ASSERT_LT(tokens.size(), 2u * 512);
  Result<PerplexityResult> r = perplexity(model, tokens, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("needs at least 1024"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("only " + std::to_string(tokens.size()) + " tokens"), std::string::npos);
}

// ---- KL divergence -----------------------------------------------------------

class KlDivergence : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = load_tiny();
    ASSERT_TRUE(model_);
    tokens_ = tiny_tokens(*model_);
    base_path_ = test::scratch_dir() + "/tiny-f16.kld";
    Result<PerplexityResult> r = perplexity(model_, tokens_, {.n_ctx = kCtx, .n_chunks = 4}, {}, base_path_);
    ASSERT_TRUE(r.ok()) << r.error().message;
    base_ppl_ = r->ppl;
  }
  std::shared_ptr<Model> model_;
  std::vector<int32_t> tokens_;
  std::string base_path_;
  double base_ppl_ = 0;
};

TEST_F(KlDivergence, AModelAgainstItsOwnBaseIsExactlyZero) {
  int64_t rows = 0;
  Result<PerplexityResult> r = kl_divergence(model_, tokens_, base_path_, {.n_ctx = 0}, [&](const PerplexityProgress& p) {
    EXPECT_NE(p.kld, nullptr);
    ++rows;
    return true;
  });
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(rows, 4);
  ASSERT_TRUE(r->has_kld);
  const KldSummary& k = r->kld;
  EXPECT_EQ(k.count, 4 * (kCtx - 1 - kCtx / 2));
  EXPECT_EQ(k.kld_mean, 0.0);
  EXPECT_EQ(k.kld_max, 0.0);
  EXPECT_EQ(k.kld_min, 0.0);
  EXPECT_EQ(k.same_top, 1.0);
  EXPECT_EQ(k.ppl_diff, 0.0);
  EXPECT_EQ(k.ppl_ratio, 1.0);
  EXPECT_EQ(k.dp_rms, 0.0);
  EXPECT_NEAR(k.ppl, base_ppl_, 1e-6 * base_ppl_);
}

TEST_F(KlDivergence, AnotherQuantizationDiffersAndMatchesItsOwnPerplexity) {
  std::shared_ptr<Model> q2 = load_tiny("q2_0c");
  ASSERT_TRUE(q2);
  Result<PerplexityResult> r = kl_divergence(q2, tokens_, base_path_, {.n_ctx = 0, .n_chunks = 3});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const KldSummary& k = r->kld;
  EXPECT_EQ(r->n_chunks, 3);
  EXPECT_GT(k.kld_mean, 0.0);
  EXPECT_LT(k.kld_mean, 0.05);  // q2_0c decodes to the f16 weights: only activation rounding differs
  EXPECT_GE(k.kld_max, k.kld_p990);
  EXPECT_GE(k.kld_p990, k.kld_median);
  EXPECT_GE(k.kld_median, k.kld_min);
  EXPECT_GT(k.same_top, 0.8);
  EXPECT_GT(k.dp_rms, 0.0);
  // PPL(Q) of a KLD run is the model's own perplexity on those chunks.
  Result<PerplexityResult> own = perplexity(q2, tokens_, {.n_ctx = kCtx, .n_chunks = 3});
  ASSERT_TRUE(own.ok());
  EXPECT_NEAR(k.ppl, own->ppl, 1e-5 * own->ppl);
  EXPECT_NEAR(r->ppl, own->ppl, 1e-5 * own->ppl);
}

TEST_F(KlDivergence, RefusesABaseFromAnotherTextOrContext) {
  std::vector<int32_t> other = tokens_;
  other[40] = other[40] == 7 ? 8 : 7;
  Result<PerplexityResult> r = kl_divergence(model_, other, base_path_, {.n_ctx = 0});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("another text (its token 40 is"), std::string::npos) << r.error().message;
  r = kl_divergence(model_, tokens_, base_path_, {.n_ctx = 64});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("made with -c 32, not 64"), std::string::npos) << r.error().message;
  r = kl_divergence(model_, tokens_, base_path_, {.n_ctx = 0, .n_chunks = 5});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("holds 4 chunks"), std::string::npos) << r.error().message;
}

TEST_F(KlDivergence, RefusesABaseFromAnotherVocabulary) {
  // Same shapes, 1016 tokens instead of 1000.
  model::TestModelSpec spec = model::test_model_preset_tiny();
  spec.n_vocab = 1016;
  const std::string path = test::scratch_dir() + "/tiny-1016.gguf";
  ASSERT_TRUE(model::write_test_model(spec, path).ok());
  Result<std::shared_ptr<Model>> m = Model::load({.model_path = path, .n_threads = 1});
  ASSERT_TRUE(m.ok());
  Result<PerplexityResult> r = kl_divergence(*m, tokens_, base_path_, {.n_ctx = 0});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("vocabulary of 1000 tokens, this model has 1016"), std::string::npos)
      << r.error().message;

  // Same size, other token texts: the header's vocabulary hash tells.
  std::vector<uint8_t> bytes = test::read_bytes(base_path_);
  bytes[24] ^= 1;  // KldBaseHeader::vocab_hash
  const std::string edited = test::scratch_dir() + "/edited-hash.kld";
  std::ofstream(edited, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
  r = kl_divergence(model_, tokens_, edited, {.n_ctx = 0});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("another vocabulary"), std::string::npos) << r.error().message;
}

TEST_F(KlDivergence, TheBaseFileParsesAndEveryTruncationIsRefused) {
  const std::vector<uint8_t> bytes = test::read_bytes(base_path_);
  Result<KldBaseInfo> info = parse_kld_base(bytes);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->n_vocab, 1000u);
  EXPECT_EQ(info->n_ctx, static_cast<uint32_t>(kCtx));
  EXPECT_EQ(info->n_chunks, 4u);
  EXPECT_EQ(info->tokens, std::vector<int32_t>(tokens_.begin(), tokens_.begin() + 4 * kCtx));
  // Header + tokens + 4 * 15 rows of (16 + 2 * 1000) bytes.
  EXPECT_EQ(bytes.size(), 32u + 4u * 4 * kCtx + 4u * 15 * (16 + 2000));
  for (size_t n : {size_t{0}, size_t{7}, size_t{31}, size_t{32}, size_t{100}, bytes.size() / 2, bytes.size() - 1}) {
    Result<KldBaseInfo> cut = parse_kld_base(std::span(bytes).first(n));
    ASSERT_FALSE(cut.ok()) << n;
    EXPECT_NE(cut.error().message.find("truncated"), std::string::npos) << cut.error().message;
  }
  std::vector<uint8_t> longer = bytes;
  longer.push_back(0);
  EXPECT_FALSE(parse_kld_base(longer).ok());
  std::vector<uint8_t> magic = bytes;
  magic[0] = 'X';
  EXPECT_NE(parse_kld_base(magic).error().message.find("not a hy2bit KLD base"), std::string::npos);
  std::vector<uint8_t> token = bytes;
  token[32 + 3] = 0x7f;  // token 0 becomes huge
  EXPECT_NE(parse_kld_base(token).error().message.find("token 0 (offset 32)"), std::string::npos);
  std::vector<uint8_t> row = bytes;
  const size_t first_row = 32 + 4 * 4 * kCtx;
  row[first_row + 15] = 0x7f;  // row 0's top token
  EXPECT_NE(parse_kld_base(row).error().message.find("row 0"), std::string::npos);
  // A truncated file on disk is refused by the run, naming the file.
  const std::string cut_path = test::scratch_dir() + "/cut.kld";
  std::ofstream(cut_path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                  static_cast<std::streamsize>(bytes.size() - 10));
  Result<PerplexityResult> r = kl_divergence(model_, tokens_, cut_path, {.n_ctx = 0});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(cut_path + ": KLD base is truncated"), std::string::npos) << r.error().message;
}

TEST(KldBase, ArbitraryBytesNeverCrashTheParser) {
  // A cheap stand-in for the fuzz target: headers with random fields.
  uint64_t state = 88172645463325252ull;
  const auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (int i = 0; i < 2000; ++i) {
    std::vector<uint8_t> bytes(next() % 200);
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(next());
    if (bytes.size() >= 8 && i % 2 == 0) std::copy_n("HY2BKLDB", 8, bytes.begin());
    if (bytes.size() >= 12 && i % 4 == 0) bytes[8] = 1, bytes[9] = bytes[10] = bytes[11] = 0;
    EXPECT_FALSE(parse_kld_base(bytes).ok());
  }
}

}  // namespace
}  // namespace hy2bit
