// Q8_0, Q4_0 and Q6_K on synthetic data: round-trip error bounds derived
// from each format's step size, exact round trips of on-grid blocks, zero
// blocks, and the byte-level entry points (aligned and not).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "formats/convert.h"
#include "formats/float_types.h"
#include "formats/q4_0.h"
#include "formats/q6_k.h"
#include "formats/q8_0.h"

namespace hy2bit::formats {
namespace {

std::vector<float> gaussian(int n, float sigma, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

float block_amax(const float* x, int n) {
  float amax = 0.0f;
  for (int i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));
  return amax;
}

// Quantizes through the byte API at a given byte offset, decodes back.
std::vector<float> round_trip(TypeId type, const std::vector<float>& x, int offset) {
  const TypeInfo info = *type_info(type);
  const uint64_t n_bytes = *bytes_for_elems(info, x.size());
  std::vector<uint8_t> bytes(n_bytes + offset);
  quantize_row(type, x.data(), bytes.data() + offset, static_cast<int64_t>(x.size()));
  std::vector<float> y(x.size());
  dequantize(type, bytes.data() + offset, y.data(), static_cast<int64_t>(x.size()));
  return y;
}

TEST(Q8_0, RoundTripErrorWithinHalfAStep) {
  const std::vector<float> x = gaussian(32 * 64, 0.05f, 1);
  for (int offset : {0, 1}) {
    const std::vector<float> y = round_trip(TypeId::kQ8_0, x, offset);
    for (size_t b = 0; b < x.size() / 32; ++b) {
      // q = round(x/d) is within d/2; the f16 store of d adds up to 127 * d * 2^-11.
      const float d = block_amax(&x[32 * b], 32) / 127.0f;
      for (size_t j = 32 * b; j < 32 * b + 32; ++j)
        ASSERT_LE(std::fabs(x[j] - y[j]), d * (0.5f + 127.0f / 2048.0f)) << j;
    }
  }
}

TEST(Q8_0, OnGridBlocksRoundTripExactly) {
  std::mt19937 rng(2);
  std::vector<BlockQ8_0> blocks(16);
  for (BlockQ8_0& b : blocks) {
    b.d = f32_to_f16(std::ldexp(1.0f + static_cast<float>(rng() % 1024) / 1024.0f, -10));
    for (int8_t& q : b.qs) q = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
    b.qs[rng() % 32] = (rng() & 1) ? 127 : -127;  // amax = 127 d
  }
  std::vector<float> x(16 * 32);
  dequantize_q8_0(blocks, x.data());
  std::vector<BlockQ8_0> again(16);
  quantize_q8_0(x.data(), again);
  EXPECT_EQ(std::memcmp(again.data(), blocks.data(), blocks.size() * sizeof(BlockQ8_0)), 0);
}

TEST(Q8_0, ZeroBlockIsAllZero) {
  std::vector<float> x(32, 0.0f);
  std::vector<BlockQ8_0> b(1);
  std::memset(b.data(), 0x5a, sizeof(BlockQ8_0));
  quantize_q8_0(x.data(), b);
  EXPECT_EQ(b[0].d, 0);
  for (int8_t q : b[0].qs) EXPECT_EQ(q, 0);
}

TEST(Q8_0, RoundsHalfwayAwayFromZero) {
  // amax 127 gives d = 1, so x * (1/d) = x: roundf sends 2.5 to 3, -0.5 to -1.
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;
  x[1] = 2.5f;
  x[2] = -0.5f;
  x[3] = 1.5f;
  std::vector<BlockQ8_0> b(1);
  quantize_q8_0(x.data(), b);
  EXPECT_EQ(b[0].qs[0], 127);
  EXPECT_EQ(b[0].qs[1], 3);
  EXPECT_EQ(b[0].qs[2], -1);
  EXPECT_EQ(b[0].qs[3], 2);
}

TEST(Q4_0, RoundTripErrorWithinOneStep) {
  const std::vector<float> x = gaussian(32 * 64, 0.05f, 3);
  for (int offset : {0, 1}) {
    const std::vector<float> y = round_trip(TypeId::kQ4_0, x, offset);
    for (size_t b = 0; b < x.size() / 32; ++b) {
      // Step d = amax/8. Values are within d/2 of a level except on the side
      // opposite the extreme value, where level +8 is clamped to +7 (error up to d).
      const float d = block_amax(&x[32 * b], 32) / 8.0f;
      for (size_t j = 32 * b; j < 32 * b + 32; ++j)
        ASSERT_LE(std::fabs(x[j] - y[j]), d * (1.0f + 8.0f / 2048.0f)) << j;
    }
  }
}

TEST(Q4_0, OnGridBlocksRoundTripExactly) {
  std::mt19937 rng(4);
  std::vector<BlockQ4_0> blocks(16);
  for (BlockQ4_0& b : blocks) {
    b.d = f32_to_f16(std::ldexp(1.0f + static_cast<float>(rng() % 1024) / 1024.0f, -8));
    // Nibble 0 (level -8) must be present and be the unique largest magnitude.
    for (uint8_t& q : b.qs) q = static_cast<uint8_t>((1 + rng() % 15) | ((1 + rng() % 15) << 4));
    b.qs[rng() % 16] &= 0xf0;
  }
  std::vector<float> x(16 * 32);
  dequantize_q4_0(blocks, x.data());
  std::vector<BlockQ4_0> again(16);
  quantize_q4_0(x.data(), again);
  EXPECT_EQ(std::memcmp(again.data(), blocks.data(), blocks.size() * sizeof(BlockQ4_0)), 0);
}

TEST(Q4_0, NibbleOrderAndSign) {
  // The extreme value -8 (at weight 20, a high nibble) gives d = 1.
  std::vector<float> x(32, 0.0f);
  x[20] = -8.0f;
  x[0] = 7.0f;
  x[31] = 3.0f;
  std::vector<BlockQ4_0> b(1);
  quantize_q4_0(x.data(), b);
  EXPECT_EQ(f16_to_f32(b[0].d), 1.0f);
  EXPECT_EQ(b[0].qs[4] >> 4, 0);     // weight 20: n = -8 + 8
  EXPECT_EQ(b[0].qs[0] & 0xf, 15);   // weight 0: n = 7 + 8
  EXPECT_EQ(b[0].qs[15] >> 4, 11);   // weight 31
  EXPECT_EQ(b[0].qs[1] & 0xf, 8);    // zero
}

TEST(Q6_K, RoundTripErrorIsSmall) {
  const std::vector<float> x = gaussian(256 * 64, 0.05f, 5);
  for (int offset : {0, 1}) {
    const std::vector<float> y = round_trip(TypeId::kQ6_K, x, offset);
    double err2 = 0.0;
    double sig2 = 0.0;
    for (size_t g = 0; g < x.size() / 16; ++g) {
      // Per group of 16 the step is about amax/32; allow a full step (scale
      // quantization and the [-32, 31] clamp can cost more than half).
      const float step = block_amax(&x[16 * g], 16) / 32.0f;
      for (size_t j = 16 * g; j < 16 * g + 16; ++j) {
        const double e = x[j] - y[j];
        err2 += e * e;
        sig2 += static_cast<double>(x[j]) * x[j];
        ASSERT_LE(std::fabs(e), 1.2 * step) << j;
      }
    }
    // 6-bit grids: relative RMSE is about 1.5% on Gaussian data.
    EXPECT_LT(std::sqrt(err2 / sig2), 0.025);
  }
}

TEST(Q6_K, ZeroBlockIsAllZeroAndTinyGroupsDecodeToZero) {
  std::vector<float> x(512, 0.0f);
  // Block 1: one large group and one group 1000x smaller (its int8 scale
  // rounds to 0, so its codes come from the group fit, and decode to 0).
  for (int i = 0; i < 16; ++i) x[256 + i] = 0.01f * static_cast<float>(i - 8);
  for (int i = 0; i < 16; ++i) x[256 + 16 + i] = 1e-5f * static_cast<float>(i - 8);
  std::vector<BlockQ6_K> b(2);
  std::memset(b.data(), 0x77, 2 * sizeof(BlockQ6_K));
  quantize_q6_k(x.data(), b);
  const auto* bytes = reinterpret_cast<const uint8_t*>(&b[0]);
  for (size_t i = 0; i < sizeof(BlockQ6_K); ++i) ASSERT_EQ(bytes[i], 0) << i;
  EXPECT_EQ(b[1].scales[0], -128);  // the group of largest scale maps to -128
  EXPECT_EQ(b[1].scales[1], 0);
  std::vector<float> y(512);
  dequantize_q6_k(b, y.data());
  for (int i = 0; i < 16; ++i) EXPECT_NEAR(y[256 + i], x[256 + i], 0.0002f);
  for (int i = 16; i < 256; ++i) EXPECT_EQ(y[256 + i], 0.0f);
}

// Writes 256 distinct-ish 6-bit codes into ql/qh following the layout text
// of q2_0c.md (independently of the encoder's packer) and checks every
// weight's decoded position, scale and value.
TEST(Q6_K, DecodeFollowsTheDocumentedLayout) {
  BlockQ6_K b;
  std::memset(&b, 0, sizeof(b));
  b.d = f32_to_f16(0.5f);
  for (int g = 0; g < 16; ++g) b.scales[g] = static_cast<int8_t>(g % 2 ? -(g + 1) : g + 1);
  auto code_of = [](int i) { return (i * 37 + 11) % 64; };
  for (int half = 0; half < 2; ++half) {
    for (int l = 0; l < 32; ++l) {
      for (int k = 0; k < 4; ++k) {  // weight l + 32k of this half
        const int c = code_of(128 * half + l + 32 * k);
        const int ql_index = 64 * half + l + (k % 2 ? 32 : 0);
        const int nibble_shift = k < 2 ? 0 : 4;
        b.ql[ql_index] = static_cast<uint8_t>(b.ql[ql_index] | ((c & 0xf) << nibble_shift));
        b.qh[32 * half + l] = static_cast<uint8_t>(b.qh[32 * half + l] | ((c >> 4) << (2 * k)));
      }
    }
  }
  float y[256];
  dequantize_q6_k({&b, 1}, y);
  for (int i = 0; i < 256; ++i) {
    const int scale = b.scales[i / 16];
    EXPECT_EQ(y[i], 0.5f * static_cast<float>(scale) * static_cast<float>(code_of(i) - 32)) << i;
  }
  // And the encoder packs codes the same way: re-encoding the decoded
  // values lands each one within about a step (group amax / 32) of itself;
  // a packing mix-up would move values by whole groups.
  BlockQ6_K again;
  quantize_q6_k(y, {&again, 1});
  float z[256];
  dequantize_q6_k({&again, 1}, z);
  for (int i = 0; i < 256; ++i)
    EXPECT_LE(std::fabs(z[i] - y[i]), 1.2f * block_amax(&y[16 * (i / 16)], 16) / 32.0f) << i;
}

}  // namespace
}  // namespace hy2bit::formats
