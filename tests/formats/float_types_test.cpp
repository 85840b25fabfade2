// f16 and bf16 conversions: every 16-bit pattern round-trips, and every
// rounding boundary (the midpoint between two neighbouring values and the
// floats just beside it) rounds to nearest, ties to even, including
// subnormals, the subnormal/normal seam and overflow to inf.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "formats/convert.h"
#include "formats/float_types.h"

namespace hy2bit::formats {
namespace {

bool is_f16_nan(uint16_t h) { return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0; }
bool is_bf16_nan(uint16_t h) { return (h & 0x7f80u) == 0x7f80u && (h & 0x7fu) != 0; }
float from_bits(uint32_t bits) { return std::bit_cast<float>(bits); }
uint32_t to_bits(float f) { return std::bit_cast<uint32_t>(f); }

TEST(F16, EveryPatternRoundTrips) {
  for (uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<uint16_t>(i);
    const float f = f16_to_f32(h);
    if (is_f16_nan(h)) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << h;
      const uint16_t back = f32_to_f16(f);
      ASSERT_TRUE(is_f16_nan(back)) << std::hex << h;
      EXPECT_EQ(back & 0x8000u, h & 0x8000u) << std::hex << h;
      EXPECT_EQ(back, h | 0x200u) << "nan payload kept, made quiet: " << std::hex << h;
      continue;
    }
    ASSERT_EQ(f32_to_f16(f), h) << std::hex << h << " -> " << f;
  }
}

TEST(F16, KnownValues) {
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);
  EXPECT_EQ(f16_to_f32(0x0400), 0x1p-14f);           // smallest normal
  EXPECT_EQ(f16_to_f32(0x0001), 0x1p-24f);           // smallest subnormal
  EXPECT_EQ(f16_to_f32(0x03ff), 1023.0f * 0x1p-24f); // largest subnormal
  EXPECT_EQ(f16_to_f32(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(f16_to_f32(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::signbit(f16_to_f32(0x8000)));
  EXPECT_EQ(f16_to_f32(0x8000), 0.0f);
  EXPECT_EQ(f16_to_f32(0x3555), 0x1.554p-2f);
}

TEST(F16, SelectedRounding) {
  EXPECT_EQ(f32_to_f16(1.0f + 0x1p-11f), 0x3c00);              // tie -> even (down)
  EXPECT_EQ(f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02);          // tie -> even (up)
  EXPECT_EQ(f32_to_f16(1.0f + 0x1p-11f + 0x1p-20f), 0x3c01);   // above the tie
  EXPECT_EQ(f32_to_f16(-(1.0f + 0x1p-11f)), 0xbc00);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(65519.996f), 0x7bff);                   // just below the tie
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);                     // tie -> even = inf
  EXPECT_EQ(f32_to_f16(-1e10f), 0xfc00);
  EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::max()), 0x7c00);
  EXPECT_EQ(f32_to_f16(0x1p-25f), 0x0000);                      // tie -> 0
  EXPECT_EQ(f32_to_f16(-0x1p-25f), 0x8000);
  EXPECT_EQ(f32_to_f16(std::nextafter(0x1p-25f, 1.0f)), 0x0001);
  EXPECT_EQ(f32_to_f16(3 * 0x1p-25f), 0x0002);                  // 1.5 units -> 2
  EXPECT_EQ(f32_to_f16(5 * 0x1p-25f), 0x0002);                  // 2.5 units -> 2
  EXPECT_EQ(f32_to_f16(1023.5f * 0x1p-24f), 0x0400);            // into the normals
  EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(f32_to_f16(-0.0f), 0x8000);
  EXPECT_TRUE(is_f16_nan(f32_to_f16(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_TRUE(is_f16_nan(f32_to_f16(from_bits(0x7f800001u))));  // low-payload snan stays nan
  EXPECT_EQ(f32_to_f16(from_bits(0xffc00000u)), 0xfe00);
}

// For every pair of neighbouring finite halves lo < hi of the same sign, the
// float midpoint rounds to the even one and its float neighbours to the
// nearer one. The midpoint is exact in float32 (13 spare mantissa bits).
TEST(F16, EveryMidpointRoundsToNearestEven) {
  for (uint32_t sign : {0x0000u, 0x8000u}) {
    for (uint32_t m = 0; m < 0x7c00u; ++m) {
      const auto lo = static_cast<uint16_t>(sign | m);
      const auto hi = static_cast<uint16_t>(sign | (m + 1));  // 0x7bff + 1 is inf
      const float a = f16_to_f32(lo);
      const float b = m + 1 == 0x7c00u ? (sign ? -65536.0f : 65536.0f) : f16_to_f32(hi);
      const float mid = (a + b) / 2;
      const uint16_t even = (m & 1u) ? hi : lo;
      ASSERT_EQ(f32_to_f16(mid), even) << std::hex << lo;
      ASSERT_EQ(f32_to_f16(std::nextafter(mid, a)), lo) << std::hex << lo;
      ASSERT_EQ(f32_to_f16(std::nextafter(mid, b)), hi) << std::hex << lo;
    }
  }
}

#if defined(__FLT16_MAX__)
// GCC 12 defines __FLT16_MAX__ on aarch64 but has _Float16 only in C there;
// Arm's __fp16 (IEEE binary16 on aarch64) converts from float the same way.
#if defined(__aarch64__) && !defined(__clang__) && __GNUC__ < 13
using CompilerF16 = __fp16;
#else
using CompilerF16 = _Float16;
#endif

// The compiler's own float -> _Float16 conversion (correctly rounded) as an
// independent oracle on random float bit patterns of every magnitude.
TEST(F16, MatchesCompilerConversionOnRandomFloats) {
  std::mt19937 rng(1234);
  for (int i = 0; i < 1 << 20; ++i) {
    const auto r = static_cast<uint32_t>(rng());
    float f = from_bits(r);
    if (i % 2) {
      // Half the cases near the f16 range: mantissa in [0.5, 1), exponent -30..17.
      const float mantissa = from_bits(0x3f000000u | (r & 0x7fffffu));
      f = std::ldexp(r & 0x80000000u ? -mantissa : mantissa, static_cast<int>(rng() % 48) - 30);
    }
    if (std::isnan(f)) {
      ASSERT_TRUE(is_f16_nan(f32_to_f16(f)));
      continue;
    }
    const auto ref_bits = std::bit_cast<uint16_t>(static_cast<CompilerF16>(f));
    ASSERT_EQ(f32_to_f16(f), ref_bits) << std::hexfloat << f;
  }
}
#endif

TEST(BF16, EveryPatternRoundTrips) {
  for (uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<uint16_t>(i);
    const float f = bf16_to_f32(h);
    ASSERT_EQ(to_bits(f), i << 16);
    if (is_bf16_nan(h)) {
      EXPECT_EQ(f32_to_bf16(f), h | 0x40u) << "nan made quiet: " << std::hex << h;
      continue;
    }
    ASSERT_EQ(f32_to_bf16(f), h) << std::hex << h;
  }
}

TEST(BF16, SelectedRounding) {
  EXPECT_EQ(f32_to_bf16(from_bits(0x3f808000u)), 0x3f80);  // tie -> even (down)
  EXPECT_EQ(f32_to_bf16(from_bits(0x3f818000u)), 0x3f82);  // tie -> even (up)
  EXPECT_EQ(f32_to_bf16(from_bits(0x3f808001u)), 0x3f81);
  EXPECT_EQ(f32_to_bf16(from_bits(0x3f807fffu)), 0x3f80);
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::max()), 0x7f80);  // overflow -> inf
  EXPECT_EQ(f32_to_bf16(-std::numeric_limits<float>::infinity()), 0xff80);
  EXPECT_EQ(f32_to_bf16(from_bits(0x00008000u)), 0x0000);  // subnormal tie -> even
  EXPECT_EQ(f32_to_bf16(from_bits(0x00018000u)), 0x0002);  // subnormals are not flushed
  EXPECT_EQ(f32_to_bf16(from_bits(0x00010000u)), 0x0001);
  EXPECT_EQ(f32_to_bf16(from_bits(0x7f800001u)), 0x7fc0);  // snan -> quiet nan
  EXPECT_EQ(f32_to_bf16(from_bits(0xff800001u)), 0xffc0);
  EXPECT_EQ(f32_to_bf16(-0.0f), 0x8000);
}

// Every bf16 neighbour pair: the midpoint (bits h<<16 | 0x8000) goes to the
// even one, one float ulp either side to the nearer one.
TEST(BF16, EveryMidpointRoundsToNearestEven) {
  for (uint32_t sign : {0x0000u, 0x8000u}) {
    for (uint32_t m = 0; m < 0x7f80u; ++m) {
      const uint32_t lo = sign | m;
      const uint32_t mid = (lo << 16) | 0x8000u;
      const uint32_t hi = lo + 1;  // may be inf: correct for the largest finite
      ASSERT_EQ(f32_to_bf16(from_bits(mid)), (m & 1u) ? hi : lo) << std::hex << lo;
      ASSERT_EQ(f32_to_bf16(from_bits(mid - 1)), lo) << std::hex << lo;
      ASSERT_EQ(f32_to_bf16(from_bits(mid + 1)), hi) << std::hex << lo;
    }
  }
}

TEST(F16, ByteLevelDispatchMatchesScalar) {
  const float values[4] = {1.0f, -0.333f, 65504.0f, 1e-6f};
  uint8_t bytes[9] = {};
  // Offset 1: the unaligned path must give the same bytes.
  quantize_row(TypeId::kF16, values, bytes + 1, 4);
  float back[4];
  dequantize(TypeId::kF16, bytes + 1, back, 4);
  for (int i = 0; i < 4; ++i) {
    uint16_t h = 0;
    __builtin_memcpy(&h, bytes + 1 + 2 * i, 2);
    EXPECT_EQ(h, f32_to_f16(values[i]));
    EXPECT_EQ(back[i], f16_to_f32(f32_to_f16(values[i])));
  }
  quantize_row(TypeId::kBF16, values, bytes, 4);
  dequantize(TypeId::kBF16, bytes, back, 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(back[i], bf16_to_f32(f32_to_bf16(values[i])));
  quantize_row(TypeId::kF32, values, bytes + 1, 2);
  dequantize(TypeId::kF32, bytes + 1, back, 2);
  EXPECT_EQ(back[0], values[0]);
  EXPECT_EQ(back[1], values[1]);
}

}  // namespace
}  // namespace hy2bit::formats
