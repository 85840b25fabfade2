// IEEE half (f16) and bfloat16 <-> float32, bit-exact with ggml: f16 rounds to
// nearest even with subnormals, overflow to inf and quiet nans; bf16 rounds to
// nearest even as GGML_FP32_TO_BF16 does (no flush of subnormals, nan -> quiet
// nan). Plain integer code: no ISA intrinsics, no tables, no allocation.
#pragma once

#include <cstdint>
#include <span>

#include "formats/blocks.h"

namespace hy2bit::formats {

// One value (convert.h, the entry point most code uses, includes this file).
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
float bf16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float f);

// Runs of values: src.size() values from src into dst (dst holds as many).
void dequantize_f16(std::span<const f16_bits> src, float* dst);
void quantize_f16(const float* src, std::span<f16_bits> dst);
void dequantize_bf16(std::span<const bf16_bits> src, float* dst);
void quantize_bf16(const float* src, std::span<bf16_bits> dst);

}  // namespace hy2bit::formats
