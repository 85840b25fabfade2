// NEON activation quantizers: the same bytes as the scalar ones (same f32
// multiply by 127 / amax, round-to-nearest-even convert (fcvtns), clamp to
// [-127, 127]); sums per 16 taken from the int32 values before narrowing.
#include <cstring>

#include "kernels/acts_tiling.h"
#include "kernels/arm_neon/tile_loop.h"

namespace hy2bit::kernels::neon {
namespace {

// One block of n (a multiple of 16) floats: q, its scale, and sums per 16.
float quantize_block(const float* x, int64_t n, int8_t* q, int32_t* sums16) {
  // fmaxnm skips NaN as the scalar std::max(amax, |x|) does.
  float32x4_t vmax = vdupq_n_f32(0.0f);
  for (int64_t i = 0; i < n; i += 4) vmax = vmaxnmq_f32(vmax, vabsq_f32(vld1q_f32(x + i)));
  const float amax = vmaxnmvq_f32(vmax);
  if (amax == 0.0f) {
    std::memset(q, 0, static_cast<size_t>(n));
    std::memset(sums16, 0, static_cast<size_t>(n / 16) * sizeof(int32_t));
    return 0.0f;
  }
  const float32x4_t inv_scale = vdupq_n_f32(127.0f / amax);
  const int32x4_t lo = vdupq_n_s32(-127), hi = vdupq_n_s32(127);
  for (int64_t i = 0; i < n; i += 16) {
    int32x4_t v[4];
    for (int j = 0; j < 4; ++j) {
      v[j] = vcvtnq_s32_f32(vmulq_f32(vld1q_f32(x + i + 4 * j), inv_scale));
      v[j] = vminq_s32(vmaxq_s32(v[j], lo), hi);
    }
    sums16[i / 16] = vaddvq_s32(vaddq_s32(vaddq_s32(v[0], v[1]), vaddq_s32(v[2], v[3])));
    // Values are within [-127, 127]: the narrowing moves are exact.
    const int16x8_t h0 = vcombine_s16(vmovn_s32(v[0]), vmovn_s32(v[1]));
    const int16x8_t h1 = vcombine_s16(vmovn_s32(v[2]), vmovn_s32(v[3]));
    vst1q_s8(q + i, vcombine_s8(vmovn_s16(h0), vmovn_s16(h1)));
  }
  return amax / 127.0f;
}

void quantize_tokens(const float* x, int64_t token_begin, int64_t token_end, const ActsQ8& acts) {
  const int64_t n_cols = acts.n_cols, block = acts.block;
  const int64_t n_blocks = n_cols / block;
  int32_t local16[kActBlockQ8K / 16];
  for (int64_t t = token_begin; t < token_end; ++t) {
    for (int64_t b = 0; b < n_blocks; ++b) {
      const int64_t k0 = b * block;
      int32_t* s16 = acts.sums16 ? acts.sums16 + (t * n_cols + k0) / 16 : local16;
      acts.d[t * n_blocks + b] =
          quantize_block(x + t * n_cols + k0, block, acts.qs + t * n_cols + k0, s16);
      int32_t sum = 0;
      for (int64_t g = 0; g < block / 16; ++g) sum += s16[g];
      acts.sums[t * n_blocks + b] = sum;
    }
    write_tiled_token(acts, t);
  }
}

}  // namespace

void quantize_acts_q8k(const float* x, int64_t token_begin, int64_t token_end, const ActsQ8& acts) {
  quantize_tokens(x, token_begin, token_end, acts);
}

void quantize_acts_q8_0(const float* x, int64_t token_begin, int64_t token_end,
                        const ActsQ8& acts) {
  quantize_tokens(x, token_begin, token_end, acts);
}

}  // namespace hy2bit::kernels::neon
