// Q6_K (ggml k-quants): scalar reference decode/encode. Decoding is the
// oracle for the tied output head's kernels and the embedding lookup;
// encoding follows ggml's quantize_row_q6_K_ref (no importance matrix).
//
// Layout (BlockQ6_K in blocks.h, 210 bytes per 256 weights):
//   u8 ql[128]     low 4 bits of the 6-bit codes
//   u8 qh[64]      high 2 bits
//   i8 scales[16]  one per group of 16 weights
//   f16 d          block scale; weight = d * scales[g] * (q - 32)
// Each half h (weights 128h..128h+127) uses ql[64h..], qh[32h..],
// scales[8h..]. Within a half, for l < 32, weights l, l+32, l+64, l+96 take
// the low nibble of ql[l], low of ql[l+32], high of ql[l], high of ql[l+32],
// and bits 0-1, 2-3, 4-5, 6-7 of qh[l]; weight i of the half uses scale i/16.
#pragma once

#include <span>

#include "formats/blocks.h"

namespace hy2bit::formats {

// Decodes blocks.size() * 256 weights into dst.
void dequantize_q6_k(std::span<const BlockQ6_K> blocks, float* dst);

// Encodes blocks.size() * 256 floats: per group of 16, a least-squares scale
// (x^2-weighted, best of 19 trial grids); the 16 scales are then quantized to
// int8 against the block scale d = max_scale / -128 and every weight is
// re-rounded against its quantized group scale.
void quantize_q6_k(const float* src, std::span<BlockQ6_K> blocks);

}  // namespace hy2bit::formats
