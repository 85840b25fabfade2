// Against llama.cpp's own files (../shared/testdata): decoding Q6_K, Q4_0
// and Q8_0 tensors matches the golden dequantized floats bit for bit, and
// quantizing the f16 model's weights reproduces the quantized files' bytes
// (q2_0c from PR 19357's llama-quantize; Q8_0, Q4_0, Q6_K from mainline's).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "formats/convert.h"
#include "gguf/gguf.h"
#include "gguf/mapped_file.h"
#include "support/test_support.h"

namespace hy2bit::formats {
namespace {

// A mapped and parsed model file, shared by the tests of this suite.
struct Model {
  std::unique_ptr<gguf::MappedFile> mapped;
  std::unique_ptr<gguf::File> file;

  const gguf::TensorInfo& tensor(const std::string& name) const {
    const gguf::TensorInfo* t = file->find_tensor(name);
    if (t == nullptr) throw std::runtime_error("no tensor " + name + " in " + mapped->path());
    return *t;
  }
};

const Model& model(const std::string& name) {
  static std::map<std::string, Model> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  const std::string path = test::testdata_path("models/" + name);
  auto mapped = gguf::MappedFile::open(path);
  if (!mapped.ok()) throw std::runtime_error(mapped.error().message);
  auto parsed = gguf::File::parse((*mapped)->bytes());
  if (!parsed.ok()) throw std::runtime_error(parsed.error().message);
  Model m{std::move(mapped.value()), std::make_unique<gguf::File>(std::move(parsed.value()))};
  return cache.emplace(name, std::move(m)).first->second;
}

// A golden file of dequant/: raw float32 written by llama.cpp.
std::vector<float> read_dequant(const std::string& name) {
  return test::read_f32(test::testdata_path("dequant/" + name));
}

std::vector<float> decode(const gguf::TensorInfo& t) {
  std::vector<float> out(static_cast<size_t>(t.n_elems()));
  dequantize(t.type.id, t.data.data(), out.data(), t.n_elems());
  return out;
}

// Compares float bit patterns and reports the first mismatch.
void expect_bits_equal(const std::vector<float>& got, const std::vector<float>& want,
                       const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    uint32_t a = 0;
    uint32_t b = 0;
    std::memcpy(&a, &got[i], 4);
    std::memcpy(&b, &want[i], 4);
    ASSERT_EQ(a, b) << what << ": first mismatch at " << i << " (row " << i / 512 << "): got "
                    << got[i] << ", want " << want[i];
  }
}

struct RequantResult {
  int64_t rows = 0;
  int64_t rows_differing = 0;
  int64_t first_bad_row = -1;
  std::vector<uint8_t> bytes;
};

// Quantizes the f16 model's tensor row by row into `type`.
RequantResult requantize(const std::string& name, TypeId type, const std::vector<uint8_t>& want) {
  const gguf::TensorInfo& src = model("hy-tiny-f16.gguf").tensor(name);
  const std::vector<float> x = decode(src);
  const int64_t n_per_row = src.ne[0];
  const uint64_t row_bytes = *bytes_for_elems(*type_info(type), static_cast<uint64_t>(n_per_row));
  RequantResult r;
  r.rows = src.n_rows();
  r.bytes.resize(static_cast<size_t>(r.rows) * row_bytes);
  for (int64_t row = 0; row < r.rows; ++row) {
    uint8_t* dst = r.bytes.data() + row * row_bytes;
    quantize_row(type, x.data() + row * n_per_row, dst, n_per_row);
    if (want.size() == r.bytes.size() && std::memcmp(dst, want.data() + row * row_bytes, row_bytes) != 0) {
      if (r.first_bad_row < 0) r.first_bad_row = row;
      ++r.rows_differing;
    }
  }
  return r;
}

TEST(Golden, Q6_K_TokenEmbdDecodesExactly) {
  const gguf::TensorInfo& t = model("hy-tiny-q2_0c.gguf").tensor("token_embd.weight");
  ASSERT_EQ(t.type.id, TypeId::kQ6_K);
  const std::vector<float> golden = read_dequant("hy-tiny-q2_0c.token_embd.dequant.f32");
  expect_bits_equal(decode(t), golden, "q6_K token_embd");
}

TEST(Golden, Q4_0_AttnQDecodesExactly) {
  const gguf::TensorInfo& t = model("hy-tiny-q4_0.gguf").tensor("blk.0.attn_q.weight");
  ASSERT_EQ(t.type.id, TypeId::kQ4_0);
  const std::vector<float> golden = read_dequant("hy-tiny-q4_0.blk.0.attn_q.dequant.f32");
  expect_bits_equal(decode(t), golden, "q4_0 attn_q");
}

TEST(Golden, Q8_0_AttnQDecodesExactly) {
  const gguf::TensorInfo& t = model("hy-tiny-q8_0.gguf").tensor("blk.0.attn_q.weight");
  ASSERT_EQ(t.type.id, TypeId::kQ8_0);
  const std::vector<float> golden = read_dequant("hy-tiny-q8_0.blk.0.attn_q.dequant.f32");
  expect_bits_equal(decode(t), golden, "q8_0 attn_q");
}

// Every q2_0c tensor: quantize_row over the f16 weights gives the file's
// bytes, and every row is reported exact by q2_0c_row_fit (QDQ weights).
TEST(Golden, Q2_0C_TensorsMatchThePullRequestsQuantizer) {
  int n_tensors = 0;
  for (const gguf::TensorInfo& t : model("hy-tiny-q2_0c.gguf").file->tensors()) {
    if (t.type.id != TypeId::kQ2_0C) continue;
    ++n_tensors;
    const std::string name(t.name);
    const std::vector<uint8_t> want(t.data.begin(), t.data.end());
    const RequantResult r = requantize(name, TypeId::kQ2_0C, want);
    ASSERT_EQ(r.bytes.size(), want.size()) << name;
    EXPECT_EQ(r.rows_differing, 0) << name << ": first differing row " << r.first_bad_row;

    const std::vector<float> x = decode(model("hy-tiny-f16.gguf").tensor(name));
    const int64_t n = t.ne[0];
    const size_t row_bytes = want.size() / static_cast<size_t>(t.n_rows());
    for (int64_t row = 0; row < t.n_rows(); ++row) {
      const RowFit fit = q2_0c_row_fit(x.data() + row * n, want.data() + row * row_bytes, n);
      ASSERT_TRUE(fit.exact) << name << " row " << row << " max error " << fit.max_abs_error;
    }
  }
  EXPECT_EQ(n_tensors, 14) << "2 layers x 7 linear weights";
}

// Mainline llama-quantize (no imatrix) uses ggml's *_ref quantizers for
// Q8_0, Q4_0 and Q6_K: every such tensor of the q8_0 and q4_0 files must
// come out byte for byte from the f16 weights.
TEST(Golden, MainlineQuantizedTensorsMatchByteForByte) {
  int n_checked = 0;
  for (const char* file : {"hy-tiny-q8_0.gguf", "hy-tiny-q4_0.gguf"}) {
    for (const gguf::TensorInfo& t : model(file).file->tensors()) {
      const TypeId type = t.type.id;
      if (type != TypeId::kQ8_0 && type != TypeId::kQ4_0 && type != TypeId::kQ6_K) continue;
      const std::string name(t.name);
      const std::vector<uint8_t> want(t.data.begin(), t.data.end());
      const RequantResult r = requantize(name, type, want);
      ASSERT_EQ(r.bytes.size(), want.size()) << file << " " << name;
      EXPECT_EQ(r.rows_differing, 0) << file << " " << name << " (" << t.type.name << "): "
                                     << r.rows_differing << " of " << r.rows
                                     << " rows differ, first " << r.first_bad_row;
      ++n_checked;
    }
  }
  EXPECT_GE(n_checked, 30);
}

// The q2_0c file's Q6_K token_embd (made by the PR's llama-quantize): our
// encoder must reproduce it byte for byte, and in any case must not have a
// worse round-trip RMSE against the f16 embedding.
TEST(Golden, Q6_K_TokenEmbdOfTheQ2_0CFile) {
  const gguf::TensorInfo& stored = model("hy-tiny-q2_0c.gguf").tensor("token_embd.weight");
  ASSERT_EQ(stored.type.id, TypeId::kQ6_K);
  const std::vector<uint8_t> want(stored.data.begin(), stored.data.end());
  const RequantResult r = requantize("token_embd.weight", TypeId::kQ6_K, want);
  ASSERT_EQ(r.bytes.size(), want.size());
  EXPECT_EQ(r.rows_differing, 0) << r.rows_differing << " of " << r.rows << " rows differ, first "
                                 << r.first_bad_row;

  const std::vector<float> x = decode(model("hy-tiny-f16.gguf").tensor("token_embd.weight"));
  const std::vector<float> theirs = decode(stored);
  std::vector<float> ours(x.size());
  dequantize(TypeId::kQ6_K, r.bytes.data(), ours.data(), static_cast<int64_t>(x.size()));
  double err_ours = 0.0;
  double err_theirs = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    err_ours += (ours[i] - x[i]) * static_cast<double>(ours[i] - x[i]);
    err_theirs += (theirs[i] - x[i]) * static_cast<double>(theirs[i] - x[i]);
  }
  const double rmse_ours = std::sqrt(err_ours / static_cast<double>(x.size()));
  const double rmse_theirs = std::sqrt(err_theirs / static_cast<double>(x.size()));
  EXPECT_LE(rmse_ours, rmse_theirs) << "ours " << rmse_ours << ", llama.cpp " << rmse_theirs;
}

}  // namespace
}  // namespace hy2bit::formats
