// q2_0c, exhaustively where the space is small: all 256 byte values decode
// to the right four codes; the code map and ties-to-even rounding of the
// reference quantizer; QDQ rows (the HY checkpoint's kind) encode losslessly;
// zero-range and one-signed rows; q2_0c_row_fit on exact and inexact rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "formats/convert.h"
#include "formats/float_types.h"
#include "formats/q2_0c.h"

namespace hy2bit::formats {
namespace {

constexpr int kBlock = BlockQ2_0C::kElems;
constexpr float kLevel[4] = {-3.0f, -1.0f, 1.0f, 3.0f};  // code c -> 2c - 3

// Code of weight j in an encoded row.
int code_at(const std::vector<BlockQ2_0C>& row, int j) {
  return (row[j / kBlock].qs[(j % kBlock) / 4] >> (2 * (j % 4))) & 3;
}

TEST(Q2_0C, LevelOfEachCode) {
  for (int c = 0; c < 4; ++c) EXPECT_EQ(q2_0c_level(static_cast<uint8_t>(c)), kLevel[c]);
}

// Two blocks hold the byte values 0..255 once each; every weight decodes to
// its 2-bit field's level times d.
TEST(Q2_0C, EveryByteDecodesToItsFourCodes) {
  std::vector<BlockQ2_0C> blocks(2);
  const float d = 0.3125f;  // exact in f16
  for (int b = 0; b < 256; ++b) {
    blocks[b / 128].d = f32_to_f16(d);
    blocks[b / 128].qs[b % 128] = static_cast<uint8_t>(b);
  }
  std::vector<float> out(2 * kBlock);
  dequantize_q2_0c(blocks, out.data());
  for (int b = 0; b < 256; ++b) {
    for (int k = 0; k < 4; ++k) {
      const int code = (b >> (2 * k)) & 3;
      ASSERT_EQ(out[4 * b + k], kLevel[code] * d) << "byte " << b << " field " << k;
    }
  }
}

TEST(Q2_0C, CodeMapOfTheReferenceQuantizer) {
  const int expected[7] = {0, 1, 1, 1, 2, 2, 3};  // levels -3..3 (q2_0c.md)
  for (int i = -3; i <= 3; ++i) EXPECT_EQ(q2_0c_code(i), expected[i + 3]) << "level " << i;
  EXPECT_EQ(q2_0c_code(-7), 0);  // clamped levels
  EXPECT_EQ(q2_0c_code(9), 3);
}

// A row spanning [-3, 3] has d = 1, so x * (1/d) = x: integers land on their
// level and halves show lrintf's ties-to-even (roundf would differ at 0.5,
// 2.5 and -2.5).
TEST(Q2_0C, QuantizerRoundsTiesToEvenThenMapsCodes) {
  const float probes[] = {-3, -2, -1, 0, 1, 2, 3, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, -2.51f, 2.51f};
  const int expected[] = {0, 1, 1, 1, 2, 2, 3, 1, 2, 2, 1, 1, 1, 0, 3};
  std::vector<float> row(kBlock, 0.0f);
  row[0] = -3.0f;
  row[1] = 3.0f;
  for (size_t p = 0; p < std::size(probes); ++p) row[10 + p] = probes[p];
  std::vector<BlockQ2_0C> encoded(1);
  quantize_row_q2_0c(row.data(), encoded);
  EXPECT_EQ(encoded[0].d, f32_to_f16(1.0f));
  for (size_t p = 0; p < std::size(probes); ++p)
    EXPECT_EQ(code_at(encoded, static_cast<int>(10 + p)), expected[p]) << "x = " << probes[p];
  EXPECT_EQ(code_at(encoded, 2), 1) << "0 maps to level -1";
}

// A QDQ row: weights s * {-0.75, -0.25, 0.25, 0.75}[c] with both ends present.
struct QdqRow {
  std::vector<float> values;
  std::vector<int> codes;
  float s = 0;
};

QdqRow make_qdq_row(std::mt19937& rng, int n) {
  QdqRow row;
  // s/4 is an f16 value, so d = s/4 survives the f16 store exactly.
  std::uniform_int_distribution<int> mantissa(0, 1023);
  std::uniform_int_distribution<int> exponent(-14, 4);
  const float d = std::ldexp(1.0f + static_cast<float>(mantissa(rng)) / 1024.0f, exponent(rng));
  row.s = (rng() & 1) ? 4 * d : -4 * d;
  std::uniform_int_distribution<int> code(0, 3);
  std::uniform_int_distribution<int> pos(0, n - 1);
  row.codes.resize(n);
  for (int& c : row.codes) c = code(rng);
  row.codes[pos(rng)] = 0;  // both ends present
  int top = pos(rng);
  while (row.codes[top] == 0 && n > 1) top = pos(rng);
  row.codes[top] = 3;
  row.values.resize(n);
  for (int j = 0; j < n; ++j) row.values[j] = row.s * kLevel[row.codes[j]] / 4;
  return row;
}

TEST(Q2_0C, QdqRowsEncodeLosslessly) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int n_blocks = 1 + trial % 4;
    const QdqRow row = make_qdq_row(rng, n_blocks * kBlock);
    std::vector<BlockQ2_0C> encoded(n_blocks);
    quantize_row_q2_0c(row.values.data(), encoded);
    const float d = std::fabs(row.s) / 4;
    for (const BlockQ2_0C& block : encoded) ASSERT_EQ(block.d, f32_to_f16(d)) << "trial " << trial;
    for (int j = 0; j < n_blocks * kBlock; ++j) {
      // A negative s mirrors the codes.
      const int want = row.s > 0 ? row.codes[j] : 3 - row.codes[j];
      ASSERT_EQ(code_at(encoded, j), want) << "trial " << trial << " weight " << j;
    }
    std::vector<float> decoded(n_blocks * kBlock);
    dequantize_q2_0c(encoded, decoded.data());
    ASSERT_EQ(decoded, row.values) << "trial " << trial;
    const RowFit fit = fit_row_q2_0c(row.values.data(), encoded);
    EXPECT_TRUE(fit.exact);
    EXPECT_EQ(fit.max_abs_error, 0.0f);
    // Re-encoding the decoded row gives the same bytes.
    std::vector<BlockQ2_0C> again(n_blocks);
    quantize_row_q2_0c(decoded.data(), again);
    ASSERT_EQ(std::memcmp(again.data(), encoded.data(), encoded.size() * sizeof(BlockQ2_0C)), 0);
  }
}

TEST(Q2_0C, ZeroRangeRowsBecomeAllZeroBytes) {
  for (float value : {0.0f, 0.37f, -12.5f}) {
    std::vector<float> row(2 * kBlock, value);
    std::vector<BlockQ2_0C> encoded(2);
    std::memset(encoded.data(), 0xab, encoded.size() * sizeof(BlockQ2_0C));
    quantize_row_q2_0c(row.data(), encoded);
    const auto* bytes = reinterpret_cast<const uint8_t*>(encoded.data());
    for (size_t i = 0; i < encoded.size() * sizeof(BlockQ2_0C); ++i) ASSERT_EQ(bytes[i], 0) << i;
    std::vector<float> decoded(2 * kBlock);
    dequantize_q2_0c(encoded, decoded.data());
    for (float x : decoded) ASSERT_EQ(x, 0.0f);
    const RowFit fit = fit_row_q2_0c(row.data(), encoded);
    EXPECT_EQ(fit.exact, value == 0.0f);
    EXPECT_EQ(fit.max_abs_error, std::fabs(value));
  }
}

// All weights in [-5, -1]: d = 4/6, x/d lies in [-7.5, -1.5], so only levels
// -3 (x/d < -2.5) and -1 (from -2 and the tie -2.5) occur.
TEST(Q2_0C, NegativeOnlyRows) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-5.0f, -1.0f);
  std::vector<float> row(kBlock);
  for (float& x : row) x = dist(rng);
  row[3] = -5.0f;
  row[100] = -1.0f;
  row[200] = -2.5f * (4.0f / 6.0f);  // close to the tie
  std::vector<BlockQ2_0C> encoded(1);
  quantize_row_q2_0c(row.data(), encoded);
  const float d = 4.0f / 6.0f;
  EXPECT_EQ(encoded[0].d, f32_to_f16(d));
  const float inv_d = 1.0f / d;
  for (int j = 0; j < kBlock; ++j) {
    const float scaled = row[j] * inv_d;
    const int want = scaled < -2.5f ? 0 : 1;
    ASSERT_EQ(code_at(encoded, j), want) << "x = " << row[j];
  }
  EXPECT_FALSE(fit_row_q2_0c(row.data(), encoded).exact);
}

TEST(Q2_0C, RowFitReportsTheLargestError) {
  std::mt19937 rng(3);
  QdqRow row = make_qdq_row(rng, 2 * kBlock);
  row.s = 1.0f;  // rebuild on d = 0.25 so the perturbations are exact
  for (size_t j = 0; j < row.values.size(); ++j) row.values[j] = kLevel[row.codes[j]] / 4;
  // Nudge two inner values; neither crosses a rounding boundary nor moves the range.
  int inner = 0;
  while (row.codes[inner] != 1) ++inner;  // value -0.25
  int other = static_cast<int>(row.values.size()) - 1;
  while (row.codes[other] != 2) --other;  // value 0.25
  row.values[inner] += 0.03125f;
  row.values[other] += 0.0625f;
  std::vector<uint8_t> encoded(2 * sizeof(BlockQ2_0C));
  quantize_row(TypeId::kQ2_0C, row.values.data(), encoded.data(), 2 * kBlock);
  const RowFit fit = q2_0c_row_fit(row.values.data(), encoded.data(), 2 * kBlock);
  EXPECT_FALSE(fit.exact);
  EXPECT_EQ(fit.max_abs_error, 0.0625f);
}

TEST(Q2_0C, ByteLevelEntryPointsMatchTypedOnes) {
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  std::vector<float> row(4 * kBlock);
  for (float& x : row) x = dist(rng);
  std::vector<BlockQ2_0C> typed(4);
  quantize_row_q2_0c(row.data(), typed);
  // Offset 1 exercises the unaligned fallback.
  std::vector<uint8_t> bytes(4 * sizeof(BlockQ2_0C) + 1);
  quantize_row(TypeId::kQ2_0C, row.data(), bytes.data() + 1, 4 * kBlock);
  ASSERT_EQ(std::memcmp(bytes.data() + 1, typed.data(), 4 * sizeof(BlockQ2_0C)), 0);
  std::vector<float> a(4 * kBlock), b(4 * kBlock);
  dequantize_q2_0c(typed, a.data());
  dequantize(TypeId::kQ2_0C, bytes.data() + 1, b.data(), 4 * kBlock);
  EXPECT_EQ(a, b);
  const RowFit fit = q2_0c_row_fit(row.data(), bytes.data() + 1, 4 * kBlock);
  EXPECT_FALSE(fit.exact);
  // Levels sit at +-d, +-3d. Inside [-3d, 3d] the worst case is a level 0
  // or a tie at -2.5 sent to -1 (up to 1.5d off); beyond, |x| - 3d.
  const float d = f16_to_f32(typed[0].d);
  float amax = 0.0f;
  for (float x : row) amax = std::max(amax, std::fabs(x));
  EXPECT_GT(fit.max_abs_error, 0.0f);
  EXPECT_LE(fit.max_abs_error, 1.01f * std::max(1.5f * d, amax - 3 * d));
}

}  // namespace
}  // namespace hy2bit::formats
