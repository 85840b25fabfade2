// Q4_0 reference decode and encode; see q4_0.h for the layout.
#include "formats/q4_0.h"

#include <algorithm>
#include <cmath>

#include "formats/float_types.h"

// Byte identity with llama.cpp needs x * id and the + 8.5 rounded separately,
// as ggml-base (built without FMA flags) does; a fused multiply-add could flip
// a truncation. Keep contraction off whatever the flags (see q6_k.cpp).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace hy2bit::formats {
namespace {

constexpr int kHalf = BlockQ4_0::kElems / 2;  // 16 weights per nibble plane

// ggml's (int8_t)(x * id + 8.5f) then MIN(15, .): truncation toward zero of a
// value in [0, 16.5] for finite input. Non-finite input maps to nibble 0
// (the conversion would otherwise be undefined).
uint8_t nibble_for(float scaled) {
  const float shifted = scaled + 8.5f;
  if (!(shifted >= 0.0f && shifted < 127.0f)) return shifted >= 127.0f ? 15 : 0;
  return static_cast<uint8_t>(std::min(15, static_cast<int>(shifted)));
}

}  // namespace

void dequantize_q4_0(std::span<const BlockQ4_0> blocks, float* dst) {
  for (const BlockQ4_0& block : blocks) {
    const float d = f16_to_f32(block.d);
    for (int j = 0; j < kHalf; ++j) {
      const int low = (block.qs[j] & 0x0f) - 8;
      const int high = (block.qs[j] >> 4) - 8;
      dst[j] = static_cast<float>(low) * d;
      dst[j + kHalf] = static_cast<float>(high) * d;
    }
    dst += BlockQ4_0::kElems;
  }
}

void quantize_q4_0(const float* src, std::span<BlockQ4_0> blocks) {
  for (BlockQ4_0& block : blocks) {
    // The signed value of largest magnitude; the first one wins a tie.
    float amax = 0.0f;
    float max = 0.0f;
    for (int j = 0; j < BlockQ4_0::kElems; ++j) {
      if (amax < std::fabs(src[j])) {
        amax = std::fabs(src[j]);
        max = src[j];
      }
    }
    const float d = max / -8.0f;
    const float inv_d = d != 0.0f ? 1.0f / d : 0.0f;
    block.d = f32_to_f16(d);
    for (int j = 0; j < kHalf; ++j) {
      const uint8_t low = nibble_for(src[j] * inv_d);
      const uint8_t high = nibble_for(src[j + kHalf] * inv_d);
      block.qs[j] = static_cast<uint8_t>(low | (high << 4));
    }
    src += BlockQ4_0::kElems;
  }
}

}  // namespace hy2bit::formats
