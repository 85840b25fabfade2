// Q8_0 (ggml): scalar reference decode/encode, the oracle for Q8_0 kernels
// and what `quantize` writes. Encoding matches ggml's quantize_row_q8_0_ref.
//
// Layout (BlockQ8_0 in blocks.h, 34 bytes per 32 weights):
//   f16 d        scale = max|x| / 127
//   i8 qs[32]    weight j = qs[j] * d
#pragma once

#include <span>

#include "formats/blocks.h"

namespace hy2bit::formats {

// Decodes blocks.size() * 32 weights into dst.
void dequantize_q8_0(std::span<const BlockQ8_0> blocks, float* dst);

// Encodes blocks.size() * 32 floats: d = amax / 127, q = roundf(x / d)
// computed as x * (1/d) in f32 (ties away from zero); an all-zero block
// gets d = 0 and q = 0.
void quantize_q8_0(const float* src, std::span<BlockQ8_0> blocks);

}  // namespace hy2bit::formats
