// f16 and bf16 conversions done on the bit patterns, so every platform and
// compiler gives the same bits as ggml (F16C hardware or its generic C path).
#include "formats/float_types.h"

#include <bit>

namespace hy2bit::formats {
namespace {

// float32 fields.
constexpr uint32_t kF32SignMask = 0x80000000u;
constexpr uint32_t kF32AbsMask = 0x7fffffffu;
constexpr uint32_t kF32Inf = 0x7f800000u;
constexpr uint32_t kF32QuietBit = 0x00400000u;

// Thresholds on |f| as float32 bits for the conversion to f16:
// 65520 = 0x477ff000 is halfway between the largest half (65504) and 2^16;
// ties go to even, which is 2^16, i.e. inf. 2^-14 = 0x38800000 is the smallest
// normal half; 2^-25 = 0x33000000 is half the smallest subnormal (ties to 0).
constexpr uint32_t kF16OverflowAbs = 0x477ff000u;
constexpr uint32_t kF16MinNormalAbs = 0x38800000u;
constexpr uint32_t kF16HalfMinSubnormalAbs = 0x33000000u;

// Rounds `value >> shift` to nearest, ties to even.
uint32_t shift_right_round_even(uint32_t value, int shift) {
  const uint32_t kept = value >> shift;
  const uint32_t rest = value & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1);
  return (rest > half || (rest == half && (kept & 1u))) ? kept + 1u : kept;
}

}  // namespace

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) {
    // inf keeps its sign; nan keeps its payload and becomes quiet, as F16C does.
    const uint32_t quiet = mantissa != 0 ? kF32QuietBit : 0u;
    return std::bit_cast<float>(sign | kF32Inf | quiet | (mantissa << 13));
  }
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in float32.
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return std::bit_cast<float>(sign | std::bit_cast<uint32_t>(magnitude));
  }
  // Normal: rebias the exponent from 15 to 127.
  return std::bit_cast<float>(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

uint16_t f32_to_f16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((bits & kF32SignMask) >> 16);
  const uint32_t abs_bits = bits & kF32AbsMask;
  if (abs_bits > kF32Inf) {
    // nan: quiet, top payload bits kept (what F16C's vcvtps2ph gives).
    return static_cast<uint16_t>(sign | 0x7e00u | ((abs_bits >> 13) & 0x3ffu));
  }
  if (abs_bits >= kF16OverflowAbs) return static_cast<uint16_t>(sign | 0x7c00u);
  if (abs_bits >= kF16MinNormalAbs) {
    // Normal half: rebias 127 -> 15 and round the 13 dropped mantissa bits.
    // A carry out of the mantissa correctly bumps the exponent.
    const uint32_t rebased = abs_bits - (112u << 23);
    return static_cast<uint16_t>(sign | shift_right_round_even(rebased, 13));
  }
  if (abs_bits <= kF16HalfMinSubnormalAbs) return sign;  // rounds to (signed) zero
  // Subnormal half: value = m * 2^(e - 150) with the implicit bit in m; in
  // units of 2^-24 that is m >> (126 - e). e is 102..112 here, so the shift is
  // 14..24. Rounding up from the largest subnormal gives the smallest normal.
  const uint32_t exponent = abs_bits >> 23;
  const uint32_t mantissa = (abs_bits & 0x7fffffu) | 0x800000u;
  const int shift = 126 - static_cast<int>(exponent);
  return static_cast<uint16_t>(sign | shift_right_round_even(mantissa, shift));
}

float bf16_to_f32(uint16_t h) {
  return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
}

uint16_t f32_to_bf16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  if ((bits & kF32AbsMask) > kF32Inf) {
    // nan: keep sign and top payload, set the quiet bit (bit 6 of the bf16).
    return static_cast<uint16_t>((bits >> 16) | 0x40u);
  }
  // Round to nearest even on the 16 dropped bits; overflow carries into inf.
  const uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

void dequantize_f16(std::span<const f16_bits> src, float* dst) {
  for (size_t i = 0; i < src.size(); ++i) dst[i] = f16_to_f32(src[i]);
}

void quantize_f16(const float* src, std::span<f16_bits> dst) {
  for (size_t i = 0; i < dst.size(); ++i) dst[i] = f32_to_f16(src[i]);
}

void dequantize_bf16(std::span<const bf16_bits> src, float* dst) {
  for (size_t i = 0; i < src.size(); ++i) dst[i] = bf16_to_f32(src[i]);
}

void quantize_bf16(const float* src, std::span<bf16_bits> dst) {
  for (size_t i = 0; i < dst.size(); ++i) dst[i] = f32_to_bf16(src[i]);
}

}  // namespace hy2bit::formats
