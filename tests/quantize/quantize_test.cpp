// quantize_model: files equal llama-quantize's byte for byte, the q2_0c
// report counts lossless rows, and bad inputs fail without touching OUT.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "formats/convert.h"
#include "gguf/gguf_writer.h"
#include "quantize/quantize.h"
#include "support/test_support.h"

namespace hy2bit::quantize {
namespace {

using formats::TypeId;

const std::string kTinyF16 = test::testdata_path("models/hy-tiny-f16.gguf");

class ByteIdentity : public testing::TestWithParam<std::pair<std::string, TypeId>> {};

TEST_P(ByteIdentity, EqualsLlamaQuantizeOutput) {
  const auto& [name, type] = GetParam();
  const std::string out = test::scratch_dir() + "/tiny-" + name + ".gguf";
  Result<QuantizeReport> report = quantize_model(kTinyF16, out, {.target = type, .n_threads = 2});
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(test::read_bytes(out), test::read_bytes(test::testdata_path("models/hy-tiny-" + name + ".gguf")));
}

INSTANTIATE_TEST_SUITE_P(TinyModel, ByteIdentity,
                         testing::Values(std::pair{"q2_0c", TypeId::kQ2_0C}, std::pair{"q8_0", TypeId::kQ8_0},
                                         std::pair{"q4_0", TypeId::kQ4_0}, std::pair{"bf16", TypeId::kBF16}),
                         [](const auto& info) { return info.param.first; });

TEST(Quantize, ReportsLosslessRowsAndTypes) {
  Result<QuantizeReport> r = quantize_model(kTinyF16, test::scratch_dir() + "/r.gguf", {.target = TypeId::kQ2_0C});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->q2_0c_rows, 8192);
  EXPECT_EQ(r->q2_0c_exact_rows, 8192);
  EXPECT_EQ(r->output_types.at("q2_0c").tensors, 14);
  EXPECT_EQ(r->output_types.at("q6_K").tensors, 1);
  EXPECT_EQ(r->output_types.at("f32").tensors, 9);
}

TEST(Quantize, EmbeddingTypeOverride) {
  const std::string out = test::scratch_dir() + "/embd.gguf";
  Result<QuantizeReport> r =
      quantize_model(kTinyF16, out, {.target = TypeId::kQ2_0C, .token_embedding_type = TypeId::kQ8_0});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->output_types.count("q6_K"), 0u);
  EXPECT_EQ(r->output_types.at("q8_0").tensors, 1);
}

TEST(Quantize, AlreadyQuantizedInputIsRefused) {
  const std::string out = test::scratch_dir() + "/never.gguf";
  Result<QuantizeReport> r =
      quantize_model(test::testdata_path("models/hy-tiny-q4_0.gguf"), out, {.target = TypeId::kQ2_0C});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("already quantized"), std::string::npos) << r.error().message;
  EXPECT_FALSE(std::filesystem::exists(out));
}

// A float GGUF with one {256, 4} tensor whose rows are off the 2-bit grid.
std::string write_small_model(const std::string& path, int64_t n_cols) {
  gguf::Writer w;
  w.set("general.architecture", gguf::OwnedValue::string("hunyuan-dense"));
  std::vector<float> values(static_cast<size_t>(n_cols * 4));
  for (size_t i = 0; i < values.size(); ++i) values[i] = 0.01f * static_cast<float>(i % 97) - 0.3f;
  EXPECT_TRUE(w.add_tensor("blk.0.attn_q.weight", TypeId::kF32, {n_cols, 4}, [values](std::vector<uint8_t>& out) -> Status {
                 out.resize(values.size() * sizeof(float));
                 std::memcpy(out.data(), values.data(), out.size());
                 return Ok{};
               }).ok());
  EXPECT_TRUE(w.write(path).ok());
  return path;
}

TEST(Quantize, RowsNotAMultipleOf512AreRefusedAndOutputUntouched) {
  const std::string in = write_small_model(test::scratch_dir() + "/rows256.gguf", 256);
  const std::string out = test::scratch_dir() + "/existing.gguf";
  std::ofstream(out) << "keep me";
  Result<QuantizeReport> r = quantize_model(in, out, {.target = TypeId::kQ2_0C});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("multiple of 512"), std::string::npos) << r.error().message;
  EXPECT_EQ(test::read_bytes(out), std::vector<uint8_t>({'k', 'e', 'e', 'p', ' ', 'm', 'e'}));
}

TEST(Quantize, OffGridRowsAreReportedWithTheirError) {
  const std::string in = write_small_model(test::scratch_dir() + "/offgrid.gguf", 512);
  Result<QuantizeReport> r = quantize_model(in, test::scratch_dir() + "/offgrid-q2.gguf", {.target = TypeId::kQ2_0C});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->q2_0c_rows, 4);
  EXPECT_EQ(r->q2_0c_exact_rows, 0);
  EXPECT_GT(r->q2_0c_max_error, 0.0f);
  EXPECT_LE(r->q2_0c_max_error, 0.25f);  // at most 1.5 d with d = (0.66 + 0.3) / 6
}

TEST(Quantize, MissingInputIsAClearError) {
  Result<QuantizeReport> r = quantize_model("/no/such/in.gguf", test::scratch_dir() + "/x.gguf", {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("/no/such/in.gguf"), std::string::npos);
}

}  // namespace
}  // namespace hy2bit::quantize
