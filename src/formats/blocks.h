// Byte layouts of the quantized block types, exactly as GGUF stores them.
// Each struct is packed and its size asserted, so a span of blocks can be
// read straight from the mapped file. Scalar code for each type lives in its
// own file beside this one (q2_0c.h, q6_k.h, q8_0.h, q4_0.h, float_types.h).
#pragma once

#include <cstdint>

namespace hy2bit::formats {

// IEEE half and bfloat16 as stored; convert with the helpers in float_types.h.
using f16_bits = uint16_t;
using bf16_bits = uint16_t;

// q2_0c (llama.cpp PR 19357): 512 weights, one fp16 scale d (the same in
// every block of a row), 2-bit codes c; weight j = (2c - 3) * d with c in
// qs[j/4] at bit 2*(j%4). 130 bytes.
struct BlockQ2_0C {
  static constexpr int kElems = 512;
  f16_bits d;
  uint8_t qs[kElems / 4];
};
static_assert(sizeof(BlockQ2_0C) == 130);

// Q8_0: 32 weights, fp16 scale, int8 values; weight j = qs[j] * d. 34 bytes.
struct BlockQ8_0 {
  static constexpr int kElems = 32;
  f16_bits d;
  int8_t qs[kElems];
};
static_assert(sizeof(BlockQ8_0) == 34);

// Q4_0: 32 weights, fp16 scale, nibbles; weights 0-15 are the low nibbles of
// qs[0..15], 16-31 the high nibbles; weight = (n - 8) * d. 18 bytes.
struct BlockQ4_0 {
  static constexpr int kElems = 32;
  f16_bits d;
  uint8_t qs[kElems / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

// Q6_K: 256 weights in 16 groups of 16, each with an int8 scale; 6-bit q
// split into low 4 bits (ql) and high 2 bits (qh); weight = d * scale * (q - 32).
// Within each half of 128 weights, weights l, l+32, l+64, l+96 (l < 32) take
// ql[l] low, ql[l+32] low, ql[l] high, ql[l+32] high nibble and qh[l] bits
// 0-1, 2-3, 4-5, 6-7; their scale index is l/16 + 0, 2, 4, 6. 210 bytes.
struct BlockQ6_K {
  static constexpr int kElems = 256;
  uint8_t ql[128];
  uint8_t qh[64];
  int8_t scales[16];
  f16_bits d;
};
static_assert(sizeof(BlockQ6_K) == 210);

}  // namespace hy2bit::formats
