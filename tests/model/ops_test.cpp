// The fused per-head op of the forward pass equals its plain reference: RoPE
// + per-head RMSNorm in one pass vs rope_neox then rmsnorm. (SwiGLU, softmax
// and the f16 conversions are each kernel path's: tests/kernels/float_ops_test.cpp.)
#include <gtest/gtest.h>

#include <random>
#include <vector>

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

}  // namespace
}  // namespace hy2bit::model
