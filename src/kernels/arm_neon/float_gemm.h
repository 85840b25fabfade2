// The NEON float GEMM shared by the F32, F16 and BF16 files. Layout
// (packed_layouts.h, R = 8): [tile][k][8 rows], so one load (widened to f32)
// holds weight k of 8 rows (two q registers) and an fma by element with
// x[t][k] (lane k % 4 of a 4-float load) updates those rows' sums: an outer
// product, no horizontal sums. Decode splits the k loop over 4 accumulator
// pairs; prefill reuses each load for 8 tokens. The table entry is the
// shared one (kernels/simd/float_gemm.h). Internal linkage.
#pragma once

#include "kernels/arm_neon/tile_loop.h"
#include "kernels/simd/float_gemm.h"

namespace hy2bit::kernels::neon {
namespace {

constexpr int kFloatTokenTile = 8;  // 16 accumulators + 8 x vectors + 2 weights

template <int NT, typename T, typename Load>
void float_tile(const PackedFloat<T>& w, const float* x, int64_t tile, int64_t t0, float* y,
                int64_t ldy, int valid_rows, Load load) {
  constexpr int kSplit = NT == 1 ? 4 : (NT == 2 ? 2 : 1);
  const int64_t n_cols = w.n_cols;
  const T* p = w.data + tile * n_cols * kRows;
  const float* xt[NT];
  for (int t = 0; t < NT; ++t) xt[t] = x + (t0 + t) * n_cols;
  F32x8 acc[NT][kSplit];
  for (int t = 0; t < NT; ++t)
    for (int s = 0; s < kSplit; ++s) acc[t][s] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};

  int64_t k = 0;
  for (; k + 4 <= n_cols; k += 4) {
    float32x4_t xv[NT];
    for (int t = 0; t < NT; ++t) xv[t] = vld1q_f32(xt[t] + k);
    // Weight k + S times lane S of each token's x vector.
    const auto step = [&]<int S>() {
      const F32x8 wv = load(p + (k + S) * kRows);
      for (int t = 0; t < NT; ++t) {
        F32x8& a = acc[t][S % kSplit];
        a.lo = vfmaq_laneq_f32(a.lo, wv.lo, xv[t], S);
        a.hi = vfmaq_laneq_f32(a.hi, wv.hi, xv[t], S);
      }
    };
    step.template operator()<0>();
    step.template operator()<1>();
    step.template operator()<2>();
    step.template operator()<3>();
  }
  for (; k < n_cols; ++k) {
    const F32x8 wv = load(p + k * kRows);
    for (int t = 0; t < NT; ++t) {
      acc[t][0].lo = vfmaq_n_f32(acc[t][0].lo, wv.lo, xt[t][k]);
      acc[t][0].hi = vfmaq_n_f32(acc[t][0].hi, wv.hi, xt[t][k]);
    }
  }
  for (int t = 0; t < NT; ++t) {
    F32x8 sum = acc[t][0];
    for (int s = 1; s < kSplit; ++s) {
      sum.lo = vaddq_f32(sum.lo, acc[t][s].lo);
      sum.hi = vaddq_f32(sum.hi, acc[t][s].hi);
    }
    store_rows(y + (t0 + t) * ldy + tile * kRows, sum, valid_rows);
  }
}

template <typename T, typename Load>
void float_gemm(const PackedFloat<T>& w, const float* x, int64_t n_tokens, int64_t row_begin,
                int64_t row_end, float* y, int64_t ldy, Load load) {
  for_each_tile<kFloatTokenTile>(row_begin, row_end, n_tokens,
                                 [&]<int NT>(int64_t tile, int64_t t0, int valid_rows) {
                                   float_tile<NT>(w, x, tile, t0, y, ldy, valid_rows, load);
                                 });
}

}  // namespace
}  // namespace hy2bit::kernels::neon
