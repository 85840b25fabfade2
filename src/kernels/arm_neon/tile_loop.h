// What every NEON GEMM shares: the walk over token blocks, row tiles and
// token groups (kernels/simd/tile_schedule.h) bound to kRows, and the small
// register helpers the kernels share: partial-tile stores, fp16 loads, sdot
// by element over four code vectors, smmla operand building. Internal
// linkage (built with NEON flags).
#pragma once

#include <arm_neon.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "kernels/arm_neon/neon_kernels.h"
#include "kernels/simd/tile_schedule.h"

namespace hy2bit::kernels::neon {
namespace {

using simd::call_with_token_count;
using simd::kTokenBlock;

// The shared walk (kernels/simd/tile_schedule.h) over this path's row tiles.
template <int kTokenTile, typename Fn>
void for_each_tile(int64_t row_begin, int64_t row_end, int64_t n_tokens, Fn&& fn) {
  simd::for_each_row_tile<kRows, kTokenTile>(row_begin, row_end, n_tokens, std::forward<Fn>(fn));
}

// 8 row values of one token: rows 0-3 in lo, rows 4-7 in hi.
struct F32x8 {
  float32x4_t lo, hi;
};

// Stores one token's 8 row results (only the valid rows of a partial tile).
inline void store_rows(float* y, F32x8 v, int valid_rows) {
  if (valid_rows == kRows) {
    vst1q_f32(y, v.lo);
    vst1q_f32(y + 4, v.hi);
    return;
  }
  float tmp[kRows];
  vst1q_f32(tmp, v.lo);
  vst1q_f32(tmp + 4, v.hi);
  for (int r = 0; r < valid_rows; ++r) y[r] = tmp[r];
}

// 8 fp16 values widened exactly to f32 (fcvtl).
inline F32x8 load_f16x8(const formats::f16_bits* p) {
  const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(p));
  return {vcvt_f32_f16(vget_low_f16(h)), vcvt_high_f32_f16(h)};
}

// Four code vectors of 4 rows each; vector j holds, per row lane, the codes
// of the 4 k that activation dword j (bytes 4j..4j+3 of a 16-byte load) holds.
struct Quad {
  int8x16_t v[4];
};

// The 2-bit fields at bits 2j of every byte as vector j (codes 0..3).
inline Quad unpack_2bit(uint8x16_t v) {
  const uint8x16_t mask3 = vdupq_n_u8(3);
  return {{vreinterpretq_s8_u8(vandq_u8(v, mask3)),
           vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v, 2), mask3)),
           vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v, 4), mask3)),
           vreinterpretq_s8_u8(vshrq_n_u8(v, 6))}};
}

// acc[j % kSplit] += per row lane, codes q.v[j] . activation dword j of a
// (sdot by element; kSplit independent chains hide the sdot latency).
template <int kSplit>
inline void dot_quad(int32x4_t* acc, const Quad& q, int8x16_t a) {
  acc[0] = vdotq_laneq_s32(acc[0], q.v[0], a, 0);
  acc[1 % kSplit] = vdotq_laneq_s32(acc[1 % kSplit], q.v[1], a, 1);
  acc[2 % kSplit] = vdotq_laneq_s32(acc[2 % kSplit], q.v[2], a, 2);
  acc[3 % kSplit] = vdotq_laneq_s32(acc[3 % kSplit], q.v[3], a, 3);
}

template <int kSplit>
inline int32x4_t sum_split(const int32x4_t* acc) {
  int32x4_t s = acc[0];
  for (int i = 1; i < kSplit; ++i) s = vaddq_s32(s, acc[i]);
  return s;
}

// smmla weight operands from two 4-row dword vectors x (k0..k0+3) and y
// (k0+4..k0+7): rows 0,1 (first) or rows 2,3 (second) x 8 consecutive k,
// one row per 8-byte half.
inline int8x16_t rows_01(int8x16_t x, int8x16_t y) {
  return vreinterpretq_s8_s32(vzip1q_s32(vreinterpretq_s32_s8(x), vreinterpretq_s32_s8(y)));
}
inline int8x16_t rows_23(int8x16_t x, int8x16_t y) {
  return vreinterpretq_s8_s32(vzip2q_s32(vreinterpretq_s32_s8(x), vreinterpretq_s32_s8(y)));
}

// smmla activation operands of a token pair: 16 k at a (token 0) and b
// (token 1) become lo = [a k0..7 | b k0..7] and hi = [a k8..15 | b k8..15].
struct ActPair {
  int8x16_t lo, hi;
};
inline ActPair act_pair(const int8_t* a, const int8_t* b) {
  const int64x2_t va = vreinterpretq_s64_s8(vld1q_s8(a)), vb = vreinterpretq_s64_s8(vld1q_s8(b));
  return {vreinterpretq_s8_s64(vzip1q_s64(va, vb)), vreinterpretq_s8_s64(vzip2q_s64(va, vb))};
}

// Per-lane values for smmla results [r0 t0, r0 t1, r1 t0, r1 t1]: the token
// pair's (a, b) as [a, b, a, b].
inline float32x4_t token_pair(float a, float b) {
  const float32x2_t ab = vset_lane_f32(b, vdup_n_f32(a), 1);
  return vcombine_f32(ab, ab);
}
inline int32x4_t token_pair(int32_t a, int32_t b) {
  const int32x2_t ab = vset_lane_s32(b, vdup_n_s32(a), 1);
  return vcombine_s32(ab, ab);
}

// The f32 outputs of one token pair, 8 rows: acc[rp] holds rows (2rp, 2rp+1)
// in smmla order; the even lanes are the first token, the odd the second.
inline void store_token_pair(float* y0, float* y1, const float32x4_t acc[4], int valid_rows) {
  store_rows(y0, {vuzp1q_f32(acc[0], acc[1]), vuzp1q_f32(acc[2], acc[3])}, valid_rows);
  store_rows(y1, {vuzp2q_f32(acc[0], acc[1]), vuzp2q_f32(acc[2], acc[3])}, valid_rows);
}

// Row scales of one 4-row vector spread over two smmla row pairs.
inline void row_pairs(float32x4_t v, float32x4_t* out) {
  out[0] = vzip1q_f32(v, v);
  out[1] = vzip2q_f32(v, v);
}
inline void row_pairs(int32x4_t v, int32x4_t* out) {
  out[0] = vzip1q_s32(v, v);
  out[1] = vzip2q_s32(v, v);
}

}  // namespace
}  // namespace hy2bit::kernels::neon
