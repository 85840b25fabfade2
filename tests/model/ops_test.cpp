// The fused and vectorised element-wise ops of the forward pass equal their
// plain references: RoPE + per-head RMSNorm in one pass vs rope_neox then
// rmsnorm, the f16 row conversions vs formats' scalar conversions (every f16
// value, and f32 values around every rounding boundary).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "formats/convert.h"
#include "model/kv_cache.h"
#include "model/ops.h"

namespace hy2bit::model {
namespace {

TEST(OpsTest, FusedRopeThenHeadNormEqualsRopeThenRmsnorm) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  const int64_t n_heads = 4, head_dim = 128, n_rot = 128;
  std::vector<float> weight(head_dim);
  for (float& w : weight) w = normal(rng);
  for (int64_t pos : {0, 1, 7, 511, 2047, 100000}) {
    std::vector<float> x(n_heads * head_dim);
    for (float& v : x) v = normal(rng);
    std::vector<float> want = x, got = x;
    rope_neox(want.data(), n_heads, head_dim, n_rot, pos, 10000.0f, 1.0f);
    for (int64_t h = 0; h < n_heads; ++h)
      rmsnorm(&want[h * head_dim], &want[h * head_dim], weight.data(), head_dim, 1e-5f);
    std::vector<float> angles(n_rot);
    rope_angles(angles.data(), n_rot, pos, 10000.0f, 1.0f);
    rope_then_head_norm(got.data(), n_heads, head_dim, n_rot, angles.data(), weight.data(), 1e-5f);
    EXPECT_EQ(want, got) << "pos " << pos;
  }
}

TEST(OpsTest, F16RowToF32MatchesScalarForEveryValue) {
  std::vector<uint16_t> all(65536);
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint16_t>(i);
  std::vector<float> got(all.size());
  f16_row_to_f32(all.data(), got.data(), static_cast<int64_t>(all.size()));
  for (size_t i = 0; i < all.size(); ++i) {
    const float want = formats::f16_to_f32(all[i]);
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got[i])) << i;
    } else {
      EXPECT_EQ(std::memcmp(&want, &got[i], 4), 0) << "f16 bits " << i;
    }
  }
}

TEST(OpsTest, F32RowToF16MatchesScalarRounding) {
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
  std::vector<uint16_t> got(values.size());
  f32_row_to_f16(values.data(), got.data(), static_cast<int64_t>(values.size()));
  for (size_t i = 0; i < values.size(); ++i)
    EXPECT_EQ(got[i], formats::f32_to_f16(values[i])) << "value " << values[i];
}

// softmax and SwiGLU use a vectorisable exp: within 1e-6 relative of the
// same maths in double precision, and sane at the extremes.
TEST(OpsTest, SoftmaxAndSwigluMatchDoublePrecision) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 8.0f);
  for (int64_t n : {1, 7, 16, 100, 1024}) {
    std::vector<float> x(n);
    for (float& v : x) v = normal(rng);
    x[0] = -1000.0f;  // far below the max: exp underflows to (almost) 0
    std::vector<float> got = x;
    softmax(got.data(), n);
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
  swiglu(got.data(), up.data(), static_cast<int64_t>(got.size()));
  for (size_t i = 0; i < gate.size(); ++i) {
    const double g = gate[i];
    const double want = g / (1.0 + std::exp(-g)) * up[i];
    EXPECT_NEAR(got[i], want, 1e-6 * std::fabs(want) + 1e-30) << "gate " << g;
  }
}

}  // namespace
}  // namespace hy2bit::model
