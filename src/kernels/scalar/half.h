// Portable fp16 / bf16 -> f32 decoding for the scalar kernels (exact: every
// half and bfloat16 value is representable in f32). Internal linkage so no
// copy compiled under another ISA's flags is shared with these.
#pragma once

#include <cstdint>
#include <cstring>

namespace hy2bit::kernels::scalar {
namespace {

inline float bits_to_f32(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// IEEE half -> float, including subnormals, infinities and NaN.
inline float half_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1F;
  const uint32_t mantissa = h & 0x3FF;
  if (exponent == 0x1F) return bits_to_f32(sign | 0x7F800000u | (mantissa << 13));
  if (exponent != 0) return bits_to_f32(sign | ((exponent + 112) << 23) | (mantissa << 13));
  // Zero or subnormal: mantissa * 2^-24, exact in f32.
  const float magnitude = static_cast<float>(mantissa) * (1.0f / 16777216.0f);
  return sign ? -magnitude : magnitude;
}

inline float bf16_to_f32_bits(uint16_t h) { return bits_to_f32(static_cast<uint32_t>(h) << 16); }

}  // namespace
}  // namespace hy2bit::kernels::scalar
