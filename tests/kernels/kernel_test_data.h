// Test data for the kernel tests: random and extreme weight matrices of every
// type as raw GGUF bytes, activations, and a float reference GEMM built on
// formats::dequantize.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "formats/blocks.h"
#include "formats/convert.h"
#include "formats/type_id.h"
#include "kernels/matmul.h"

namespace hy2bit::kernels::test {

using formats::TypeId;

inline constexpr TypeId kAllTypes[] = {TypeId::kQ2_0C, TypeId::kQ6_K, TypeId::kQ8_0, TypeId::kQ4_0,
                                       TypeId::kF16,   TypeId::kBF16, TypeId::kF32};

inline bool is_float_type(TypeId t) {
  return t == TypeId::kF32 || t == TypeId::kF16 || t == TypeId::kBF16;
}

inline formats::TypeInfo info_of(TypeId t) { return *formats::type_info(t); }

// How a weight matrix is filled.
enum class WeightFill {
  kRandom,     // random codes, random scales
  kEqualRows,  // every row a copy of row 0
  kZeroScale,  // random codes, but every third row has scale 0
  kCodesLow,   // every code at its minimum (q2_0c 0, Q6_K 0, Q8_0 -128, Q4_0 0)
  kCodesHigh,  // every code at its maximum (q2_0c 3, Q6_K 63, Q8_0 127, Q4_0 15)
};

inline const char* fill_name(WeightFill f) {
  switch (f) {
    case WeightFill::kRandom:
      return "random";
    case WeightFill::kEqualRows:
      return "equal-rows";
    case WeightFill::kZeroScale:
      return "zero-scale";
    case WeightFill::kCodesLow:
      return "codes-low";
    case WeightFill::kCodesHigh:
      return "codes-high";
  }
  return "?";
}

// Offset of the fp16 scale inside a block, or -1 for float types.
inline int64_t scale_offset(TypeId t) {
  switch (t) {
    case TypeId::kQ2_0C:
    case TypeId::kQ8_0:
    case TypeId::kQ4_0:
      return 0;
    case TypeId::kQ6_K:
      return offsetof(formats::BlockQ6_K, d);
    default:
      return -1;
  }
}

// Byte value that sets every code of a block body to its min or max.
inline uint8_t extreme_code_byte(TypeId t, bool high) {
  if (t == TypeId::kQ8_0) return high ? 0x7F : 0x80;
  return high ? 0xFF : 0x00;
}

inline std::vector<uint8_t> make_weights(TypeId type, int64_t n_rows, int64_t n_cols,
                                         WeightFill fill, std::mt19937& rng) {
  const formats::TypeInfo info = info_of(type);
  const size_t row_bytes = static_cast<size_t>(*formats::bytes_for_elems(info, n_cols));
  std::vector<uint8_t> bytes(row_bytes * static_cast<size_t>(n_rows));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(0.002f, 0.05f);
  const int64_t rows_to_fill = fill == WeightFill::kEqualRows ? 1 : n_rows;
  for (int64_t r = 0; r < rows_to_fill; ++r) {
    uint8_t* row = bytes.data() + r * row_bytes;
    if (is_float_type(type)) {
      for (int64_t k = 0; k < n_cols; ++k) {
        const float v = fill == WeightFill::kZeroScale && r % 3 == 0 ? 0.0f : normal(rng) * 0.1f;
        if (type == TypeId::kF32) std::memcpy(row + 4 * k, &v, 4);
        const uint16_t h = type == TypeId::kF16 ? formats::f32_to_f16(v) : formats::f32_to_bf16(v);
        if (type != TypeId::kF32) std::memcpy(row + 2 * k, &h, 2);
      }
      continue;
    }
    const bool extreme = fill == WeightFill::kCodesLow || fill == WeightFill::kCodesHigh;
    for (size_t i = 0; i < row_bytes; ++i)
      row[i] = extreme ? extreme_code_byte(type, fill == WeightFill::kCodesHigh)
                       : static_cast<uint8_t>(byte(rng));
    // Q6_K's int8 scales sit between codes and d: keep them random but nonzero-ish.
    const int64_t n_blocks = n_cols / info.block_elems;
    for (int64_t b = 0; b < n_blocks; ++b) {
      uint8_t* block = row + b * info.block_bytes;
      if (type == TypeId::kQ6_K)
        for (int g = 0; g < 16; ++g)
          block[offsetof(formats::BlockQ6_K, scales) + g] =
              extreme ? (fill == WeightFill::kCodesHigh ? 127 : 0x80) : byte(rng);
      const float d = fill == WeightFill::kZeroScale && r % 3 == 0 ? 0.0f
                      : extreme                                    ? 0.03f
                                : (byte(rng) & 1 ? 1.0f : -1.0f) * scale(rng);
      const uint16_t h = formats::f32_to_f16(d);
      std::memcpy(block + scale_offset(type), &h, 2);
    }
  }
  for (int64_t r = rows_to_fill; r < n_rows; ++r)
    std::memcpy(bytes.data() + r * row_bytes, bytes.data(), row_bytes);
  return bytes;
}

// How activations are filled.
enum class ActFill { kNormal, kZeros, kLarge, kOutliers };

inline const char* act_fill_name(ActFill f) {
  switch (f) {
    case ActFill::kNormal:
      return "normal";
    case ActFill::kZeros:
      return "zeros";
    case ActFill::kLarge:
      return "+-large";
    case ActFill::kOutliers:
      return "outliers";
  }
  return "?";
}

inline std::vector<float> make_acts(int64_t n_tokens, int64_t n_cols, ActFill fill,
                                    std::mt19937& rng) {
  std::vector<float> x(static_cast<size_t>(n_tokens * n_cols));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> coin(0, 1);
  std::uniform_int_distribution<int> rare(0, 99);
  for (float& v : x) {
    switch (fill) {
      case ActFill::kNormal:
        v = normal(rng);
        break;
      case ActFill::kZeros:
        v = 0.0f;
        break;
      case ActFill::kLarge:
        v = coin(rng) ? 3.0e4f : -3.0e4f;
        break;
      case ActFill::kOutliers:
        v = rare(rng) == 0 ? 200.0f * normal(rng) : normal(rng);
        break;
    }
  }
  return x;
}

// Dequantized weights [n_rows][n_cols] via the formats reference.
inline std::vector<float> dequantize_all(TypeId type, const std::vector<uint8_t>& bytes,
                                         int64_t n_rows, int64_t n_cols) {
  std::vector<float> w(static_cast<size_t>(n_rows * n_cols));
  formats::dequantize(type, bytes.data(), w.data(), n_rows * n_cols);
  return w;
}

inline WeightView make_view(TypeId type, const std::vector<uint8_t>& bytes, int64_t n_rows,
                            int64_t n_cols) {
  WeightView v;
  v.type = info_of(type);
  v.n_rows = n_rows;
  v.n_cols = n_cols;
  v.data = bytes;
  return v;
}

// The worst |actual - expected| relative to a per-element tolerance.
struct Mismatch {
  bool ok = true;
  int64_t index = -1;
  double expected = 0, actual = 0, tolerance = 0;
  std::string describe(int64_t n_rows) const {
    return "worst at token " + std::to_string(index / n_rows) + " row " +
           std::to_string(index % n_rows) + ": expected " + std::to_string(expected) + " actual " +
           std::to_string(actual) + " tolerance " + std::to_string(tolerance);
  }
};

// Finds the element with the largest |actual - expected| / tolerance
// (tolerance 0 means bit-exact); ok when every element is within tolerance.
template <typename Tolerance>
inline Mismatch compare(const std::vector<float>& expected, const std::vector<float>& actual,
                        Tolerance tolerance_at) {
  Mismatch m;
  double worst = -1;
  for (size_t i = 0; i < expected.size(); ++i) {
    const double tol = tolerance_at(i);
    const double diff = std::fabs(static_cast<double>(expected[i]) - actual[i]);
    double score = 0;
    if (std::isnan(expected[i]) || std::isnan(actual[i]))
      score = std::isnan(expected[i]) && std::isnan(actual[i]) ? 0 : INFINITY;
    else if (diff > tol)
      score = tol > 0 ? diff / tol : INFINITY;
    else
      score = tol > 0 ? diff / tol : 0;
    if (score > worst) {
      worst = score;
      m.index = static_cast<int64_t>(i);
      m.expected = expected[i];
      m.actual = actual[i];
      m.tolerance = tol;
    }
  }
  m.ok = worst <= 1.0;
  return m;
}

}  // namespace hy2bit::kernels::test
