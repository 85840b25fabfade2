// Q4_0 (ggml): scalar reference decode/encode, the oracle for Q4_0 kernels
// and what `quantize` writes. Encoding matches ggml's quantize_row_q4_0_ref.
//
// Layout (BlockQ4_0 in blocks.h, 18 bytes per 32 weights):
//   f16 d        scale = (value of largest magnitude) / -8
//   u8 qs[16]    weight j < 16 in the low nibble of qs[j], weight j + 16 in
//                its high nibble; weight = (n - 8) * d
#pragma once

#include <span>

#include "formats/blocks.h"

namespace hy2bit::formats {

// Decodes blocks.size() * 32 weights into dst.
void dequantize_q4_0(std::span<const BlockQ4_0> blocks, float* dst);

// Encodes blocks.size() * 32 floats: d = m / -8 where m is the signed value
// of largest magnitude (so m itself maps to nibble 0), n = min(15,
// trunc(x * (1/d) + 8.5)).
void quantize_q4_0(const float* src, std::span<BlockQ4_0> blocks);

}  // namespace hy2bit::formats
