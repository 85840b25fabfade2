// Every kernel path's FloatOps (kernels/float_ops.h) against the scalar
// path's plain loops and against exact references: the f16 conversions are
// exact on every path (every f16 value; f32 values around every rounding
// boundary), softmax and SwiGLU within 1e-6 of double precision, and the
// attention blocks within float rounding of scalar (they sum in another
// order only where lanes are totalled).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "formats/convert.h"
#include "kernels/dispatch.h"
#include "kernels/kernel_table.h"

namespace hy2bit::kernels {
namespace {

class FloatOpsTest : public ::testing::TestWithParam<std::string> {
 protected:
  const FloatOps& ops() const { return kernels_for_isa(GetParam())->ops; }
  const FloatOps& scalar() const { return kernels_for_isa("scalar")->ops; }
};

TEST_P(FloatOpsTest, F16RowsToF32IsExactForEveryValue) {
  std::vector<uint16_t> all(65536);
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint16_t>(i);
  // As 256 rows of 250 (a tail past the vector width) out of rows of 256.
  std::vector<float> got(all.size(), -1.0f);
  ops().f16_rows_to_f32(all.data(), 256, 256, 250, got.data(), 256);
  for (size_t i = 0; i < all.size(); ++i) {
    if (i % 256 >= 250) {
      EXPECT_EQ(got[i], -1.0f) << "wrote past n at " << i;
      continue;
    }
    const float want = formats::f16_to_f32(all[i]);
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got[i])) << i;
    } else {
      EXPECT_EQ(std::memcmp(&want, &got[i], 4), 0) << "f16 bits " << i;
    }
  }
}

TEST_P(FloatOpsTest, F32ToF16RoundsAsTheScalarConversion) {
  std::vector<float> values = {0.0f, -0.0f, 1.0f, -1.0f, 65504.0f, 65520.0f, 1e9f, -1e9f,
                               std::numeric_limits<float>::infinity(), 1e-8f, 6e-8f, 3e-8f};
  // Every f16 value and the points halfway to its neighbours (ties round to even).
  for (uint32_t h = 0; h < 0x7C00; ++h) {
    const float a = formats::f16_to_f32(static_cast<uint16_t>(h));
    const float b = formats::f16_to_f32(static_cast<uint16_t>(h + 1));
    values.push_back(a);
    values.push_back(-a);
    values.push_back(0.5f * (a + b));
    values.push_back(std::nextafter(0.5f * (a + b), b));
  }
  values.push_back(0.75f);  // an odd count: a tail past the vector width
  std::vector<uint16_t> got(values.size());
  ops().f32_to_f16(values.data(), got.data(), static_cast<int64_t>(values.size()));
  for (size_t i = 0; i < values.size(); ++i)
    EXPECT_EQ(got[i], formats::f32_to_f16(values[i])) << "value " << values[i];
}

TEST_P(FloatOpsTest, SoftmaxAndSwigluMatchDoublePrecision) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 8.0f);
  for (int64_t n : {1, 7, 16, 100, 1024}) {
    std::vector<float> x(n);
    for (float& v : x) v = normal(rng);
    x[0] = -1000.0f;  // far below the max: exp underflows to (almost) 0
    std::vector<float> got = x;
    ops().softmax(got.data(), n);
    // The shift by the max is done in float, as in softmax; the rest in double.
    const float max_value = *std::max_element(x.begin(), x.end());
    double sum = 0.0;
    for (float v : x) sum += std::exp(static_cast<double>(v - max_value));
    for (int64_t i = 0; i < n; ++i) {
      const double want = std::exp(static_cast<double>(x[i] - max_value)) / sum;
      EXPECT_NEAR(got[i], want, 1e-6 * want + 1e-30) << "n " << n << " i " << i;
    }
  }
  std::vector<float> gate = {-200.0f, -30.0f, -1.0f, -1e-3f, 0.0f, 1e-3f, 0.5f, 3.0f, 30.0f, 200.0f};
  std::vector<float> up(gate.size());
  for (size_t i = 0; i < up.size(); ++i) up[i] = 0.25f * static_cast<float>(i) - 1.0f;
  std::vector<float> got = gate;
  ops().swiglu(got.data(), up.data(), static_cast<int64_t>(got.size()));
  for (size_t i = 0; i < gate.size(); ++i) {
    const double g = gate[i];
    const double want = g / (1.0 + std::exp(-g)) * up[i];
    EXPECT_NEAR(got[i], want, 1e-6 * std::fabs(want) + 1e-30) << "gate " << g;
  }
}

// kAttnHeadBlock rows of `width` floats, and pointers to them.
struct Rows {
  Rows(int64_t width, std::mt19937& rng) : data(kAttnHeadBlock * width) {
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    for (float& v : data) v = uniform(rng);
    for (int r = 0; r < kAttnHeadBlock; ++r) ptr[r] = data.data() + r * width;
  }
  std::vector<float> data;
  float* ptr[kAttnHeadBlock];
};

void expect_close(const std::vector<float>& want, const std::vector<float>& got, const char* what) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(got[i], want[i], 1e-5f * (1.0f + std::fabs(want[i]))) << what << " at " << i;
}

// Every block at a head_dim with whole vectors (128) and one with a tail
// (72), over position ranges with wide blocks, 16-blocks and a remainder.
TEST_P(FloatOpsTest, AttentionBlocksMatchScalar) {
  std::mt19937 rng(5);
  for (int64_t head_dim : {128, 72}) {
    const int64_t n_pos = 64 + 16 + 5, stride = n_pos + 11;
    Rows q(head_dim, rng);
    std::vector<float> keys_t(head_dim * stride), values(n_pos * head_dim);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    for (float& v : keys_t) v = uniform(rng);
    for (float& v : values) v = uniform(rng);
    const float scale = 0.125f;
    const auto q_rows = const_cast<const float* const*>(q.ptr);

    Rows want_att(n_pos, rng), got_att = want_att;
    for (int r = 0; r < kAttnHeadBlock; ++r) got_att.ptr[r] = got_att.data.data() + r * n_pos;
    scalar().scores_rows(q_rows, keys_t.data(), stride, 3, n_pos, head_dim, scale, want_att.ptr);
    ops().scores_rows(q_rows, keys_t.data(), stride, 3, n_pos, head_dim, scale, got_att.ptr);
    expect_close(want_att.data, got_att.data, "scores_rows");

    Rows want_out(head_dim, rng), got_out = want_out;
    for (int r = 0; r < kAttnHeadBlock; ++r) got_out.ptr[r] = got_out.data.data() + r * head_dim;
    const auto att_rows = const_cast<const float* const*>(want_att.ptr);
    scalar().weighted_sums(att_rows, values.data(), 2, n_pos, head_dim, want_out.ptr);
    ops().weighted_sums(att_rows, values.data(), 2, n_pos, head_dim, got_out.ptr);
    expect_close(want_out.data, got_out.data, "weighted_sums");

    // Decode: key and value rows one after another (the values' first 17).
    scalar().dot_rows16(q_rows, values.data(), head_dim, scale, 16, want_att.ptr);
    ops().dot_rows16(q_rows, values.data(), head_dim, scale, 16, got_att.ptr);
    scalar().dot_rows(q_rows, values.data() + 16 * head_dim, head_dim, scale, 40, want_att.ptr);
    ops().dot_rows(q_rows, values.data() + 16 * head_dim, head_dim, scale, 40, got_att.ptr);
    expect_close(want_att.data, got_att.data, "dot_rows16 / dot_rows");

    scalar().add_scaled_rows16(want_att.ptr, 16, values.data(), head_dim, want_out.ptr);
    ops().add_scaled_rows16(want_att.ptr, 16, values.data(), head_dim, got_out.ptr);
    scalar().add_scaled_rows(want_att.ptr, 40, values.data() + 16 * head_dim, head_dim, want_out.ptr);
    ops().add_scaled_rows(want_att.ptr, 40, values.data() + 16 * head_dim, head_dim, got_out.ptr);
    expect_close(want_out.data, got_out.data, "add_scaled_rows16 / add_scaled_rows");
  }
}

std::vector<std::string> every_path() {
  std::vector<std::string> names;
  for (std::string_view isa : available_isas()) names.emplace_back(isa);
  return names;
}

INSTANTIATE_TEST_SUITE_P(EveryPath, FloatOpsTest, ::testing::ValuesIn(every_path()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace hy2bit::kernels
