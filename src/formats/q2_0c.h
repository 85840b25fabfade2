// q2_0c (llama.cpp PR 19357): scalar reference decode/encode of the 2-bit
// per-row-scale format HY-1.8B-2Bit ships in. The oracle for the q2_0c
// kernels and the converter's quantizer. No ISA intrinsics here.
//
// Layout (BlockQ2_0C in blocks.h, 130 bytes per 512 weights):
//   f16 d        the row's scale, repeated in every block of the row
//   u8 qs[128]   weight j in qs[j/4] bits 2*(j%4)..+1 (low bits first)
// A code c in 0..3 stands for q = 2c - 3 in {-3, -1, +1, +3}; weight = q * d.
#pragma once

#include <cstdint>
#include <span>

#include "formats/blocks.h"
#include "formats/convert.h"

namespace hy2bit::formats {

// The integer level a code stands for: 2c - 3.
constexpr int q2_0c_level(uint8_t code) { return 2 * static_cast<int>(code & 3u) - 3; }

// The code the reference quantizer gives a rounded, clamped level i in -3..3:
// -3 -> 0; -2, -1, 0 -> 1; 1, 2 -> 2; 3 -> 3 (so 0 goes to level -1).
constexpr uint8_t q2_0c_code(int level) {
  if (level <= -3) return 0;
  if (level <= 0) return 1;
  if (level <= 2) return 2;
  return 3;
}

// Decodes blocks.size() * 512 weights into dst.
void dequantize_q2_0c(std::span<const BlockQ2_0C> blocks, float* dst);

// Encodes one whole row (row.size() * 512 weights, the unit that owns one
// scale) exactly as the PR's reference: d = (max - min) / 6 over the row,
// level = lrintf(x * (1/d)) clamped to [-3, 3], fp16 d in every block; a row
// with d == 0 becomes all-zero bytes.
void quantize_row_q2_0c(const float* src, std::span<BlockQ2_0C> row);

// Compares an encoded row with the floats it came from: exact when decoding
// gives back every value (a QDQ row), else the largest absolute error.
RowFit fit_row_q2_0c(const float* src, std::span<const BlockQ2_0C> row);

}  // namespace hy2bit::formats
