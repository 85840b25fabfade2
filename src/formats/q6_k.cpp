// Q6_K reference decode and encode; see q6_k.h for the layout. The encoder
// reproduces ggml's arithmetic step for step (same f32 operations in the same
// order), because files are compared byte for byte with llama-quantize's.
#include "formats/q6_k.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "formats/float_types.h"

// Byte identity with llama.cpp needs every multiply and add rounded on its
// own, as ggml-base (built without FMA flags) does: fusing them into FMAs
// changes about 7% of Q6_K rows. Keep contraction off whatever the flags.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace hy2bit::formats {
namespace {

constexpr int kGroup = 16;                             // weights per int8 scale
constexpr int kGroups = BlockQ6_K::kElems / kGroup;    // 16 scales per block
constexpr int kLevels = 32;                            // codes are q + 32, q in [-32, 31]
constexpr float kTinyScale = 1e-15f;                   // below this a group counts as zero

// Round to nearest, ties to even, for |x| < 2^22: adding 1.5 * 2^23 puts the
// integer part in the low mantissa bits (ggml's nearest_int does the same, so
// out-of-range values also give the same bits).
int nearest_int(float x) {
  const float shifted = x + 12582912.0f;
  const auto bits = std::bit_cast<int32_t>(shifted);
  return (bits & 0x007fffff) - 0x00400000;
}

int clamp_level(int l) { return std::max(-kLevels, std::min(kLevels - 1, l)); }

// Least-squares scale for one group of 16 (ggml's make_qx_quants with nmax 32
// and weights x^2): rounds x against 19 trial grids around -32/max and keeps
// the one with the largest sum(w x l)^2 / sum(w l^2). Writes codes l + 32
// to `codes` and returns the scale (negative when max is positive).
float fit_group_scale(const float* x, int8_t* codes) {
  float amax = 0.0f;
  float max = 0.0f;  // signed value of largest magnitude; first one wins ties
  for (int i = 0; i < kGroup; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kTinyScale) {
    std::fill(codes, codes + kGroup, int8_t{0});
    return 0.0f;
  }

  // Sums for one trial inverse scale; the weight of x is x^2.
  auto sums = [&](float iscale, float& sumlx, float& suml2) {
    sumlx = 0.0f;
    suml2 = 0.0f;
    for (int i = 0; i < kGroup; ++i) {
      const auto l = static_cast<float>(clamp_level(nearest_int(iscale * x[i])));
      const float w = x[i] * x[i];
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
  };
  auto write_codes = [&](float iscale) {
    for (int i = 0; i < kGroup; ++i)
      codes[i] = static_cast<int8_t>(clamp_level(nearest_int(iscale * x[i])) + kLevels);
  };

  float iscale = -static_cast<float>(kLevels) / max;
  float sumlx = 0.0f;
  float suml2 = 0.0f;
  sums(iscale, sumlx, suml2);
  write_codes(iscale);
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int step = -9; step <= 9; ++step) {
    if (step == 0) continue;
    iscale = -(static_cast<float>(kLevels) + 0.1f * static_cast<float>(step)) / max;
    sums(iscale, sumlx, suml2);
    if (suml2 > 0.0f && sumlx * sumlx > best * suml2) {
      write_codes(iscale);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// Packs 256 codes (0..63) into ql/qh as described in q6_k.h.
void pack_codes(const int8_t* codes, BlockQ6_K& block) {
  for (int half = 0; half < 2; ++half) {
    const int8_t* c = codes + 128 * half;
    uint8_t* ql = block.ql + 64 * half;
    uint8_t* qh = block.qh + 32 * half;
    for (int l = 0; l < 32; ++l) {
      const auto q0 = static_cast<uint8_t>(c[l]);
      const auto q1 = static_cast<uint8_t>(c[l + 32]);
      const auto q2 = static_cast<uint8_t>(c[l + 64]);
      const auto q3 = static_cast<uint8_t>(c[l + 96]);
      ql[l] = static_cast<uint8_t>((q0 & 0x0f) | ((q2 & 0x0f) << 4));
      ql[l + 32] = static_cast<uint8_t>((q1 & 0x0f) | ((q3 & 0x0f) << 4));
      qh[l] = static_cast<uint8_t>((q0 >> 4) | ((q1 >> 4) << 2) | ((q2 >> 4) << 4) | ((q3 >> 4) << 6));
    }
  }
}

}  // namespace

void dequantize_q6_k(std::span<const BlockQ6_K> blocks, float* dst) {
  for (const BlockQ6_K& block : blocks) {
    const float d = f16_to_f32(block.d);
    for (int half = 0; half < 2; ++half) {
      const uint8_t* ql = block.ql + 64 * half;
      const uint8_t* qh = block.qh + 32 * half;
      const int8_t* sc = block.scales + 8 * half;
      float* y = dst + 128 * half;
      for (int l = 0; l < 32; ++l) {
        const int g = l / 16;
        const int q0 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q1 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q2 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q3 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        // (d * scale) * q in this order, as ggml computes it: bit-exact output.
        y[l] = d * static_cast<float>(sc[g + 0]) * static_cast<float>(q0);
        y[l + 32] = d * static_cast<float>(sc[g + 2]) * static_cast<float>(q1);
        y[l + 64] = d * static_cast<float>(sc[g + 4]) * static_cast<float>(q2);
        y[l + 96] = d * static_cast<float>(sc[g + 6]) * static_cast<float>(q3);
      }
    }
    dst += BlockQ6_K::kElems;
  }
}

void quantize_q6_k(const float* src, std::span<BlockQ6_K> blocks) {
  int8_t codes[BlockQ6_K::kElems];
  float scales[kGroups];
  for (BlockQ6_K& block : blocks) {
    // 1. A float scale per group; remember the one of largest magnitude.
    float max_scale = 0.0f;
    float max_abs_scale = 0.0f;
    for (int g = 0; g < kGroups; ++g) {
      scales[g] = fit_group_scale(src + kGroup * g, codes + kGroup * g);
      const float abs_scale = std::fabs(scales[g]);
      if (abs_scale > max_abs_scale) {
        max_abs_scale = abs_scale;
        max_scale = scales[g];
      }
    }
    if (max_abs_scale < kTinyScale) {
      std::memset(&block, 0, sizeof(block));
      src += BlockQ6_K::kElems;
      continue;
    }

    // 2. Group scales as int8 against d = max_scale / -128 (the largest maps
    //    to -128; others of opposite sign may round up to 128, capped at 127).
    const float iscale = -128.0f / max_scale;
    block.d = f32_to_f16(1.0f / iscale);
    for (int g = 0; g < kGroups; ++g)
      block.scales[g] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[g])));

    // 3. Re-round every weight against its quantized group scale. A group
    //    whose scale quantized to 0 keeps the codes from step 1.
    const float d_block = f16_to_f32(block.d);
    for (int g = 0; g < kGroups; ++g) {
      const float d = d_block * static_cast<float>(block.scales[g]);
      if (d == 0.0f) continue;
      for (int i = 0; i < kGroup; ++i) {
        const int l = clamp_level(nearest_int(src[kGroup * g + i] / d));
        codes[kGroup * g + i] = static_cast<int8_t>(l + kLevels);
      }
    }

    pack_codes(codes, block);
    src += BlockQ6_K::kElems;
  }
}

}  // namespace hy2bit::formats
