// The float GEMM of the SIMD paths (F32, F16 and BF16 weights). Layout
// (packed_layouts.h): [tile][k][kRows rows], so one load (widened to f32)
// holds weight k of a tile's rows and an fma with x[t][k] broadcast updates
// those rows' sums: an outer product, no horizontal sums. Decode splits the
// k loop over 4 accumulators; prefill reuses each load for 8 tokens.
// float_tile is written against a path's vector traits V (the x86 paths'
// FloatVec in float_gemm.h): V::F, V::kRows, zero, set1, fmadd, add and
// store. NEON keeps its own tile (an fma by lane) and shares the rest.
// Internal linkage, so each path's copy is compiled with its own flags.
#pragma once

#include <cstdint>
#include <span>

#include "kernels/kernel_table.h"
#include "kernels/packed_layouts.h"
#include "kernels/simd/tile_schedule.h"

namespace hy2bit::kernels::simd {
namespace {

constexpr int kFloatTokenTile = 8;

template <typename V, int NT, typename T, typename Load>
void float_tile(const PackedFloat<T>& w, const float* x, int64_t tile, int64_t t0, float* y,
                int64_t ldy, int valid_rows, Load load) {
  using F = typename V::F;
  constexpr int kRows = V::kRows;
  constexpr int kSplit = NT == 1 ? 4 : (NT == 2 ? 2 : 1);
  const int64_t n_cols = w.n_cols;
  const T* p = w.data + tile * n_cols * kRows;
  const float* xt[NT];
  for (int t = 0; t < NT; ++t) xt[t] = x + (t0 + t) * n_cols;
  F acc[NT][kSplit];
  for (int t = 0; t < NT; ++t)
    for (int s = 0; s < kSplit; ++s) acc[t][s] = V::zero();
  int64_t k = 0;
  for (; k + kSplit <= n_cols; k += kSplit)
    for (int s = 0; s < kSplit; ++s) {
      const F wv = load(p + (k + s) * kRows);
      for (int t = 0; t < NT; ++t) acc[t][s] = V::fmadd(wv, V::set1(xt[t][k + s]), acc[t][s]);
    }
  for (; k < n_cols; ++k) {
    const F wv = load(p + k * kRows);
    for (int t = 0; t < NT; ++t) acc[t][0] = V::fmadd(wv, V::set1(xt[t][k]), acc[t][0]);
  }
  for (int t = 0; t < NT; ++t) {
    F sum = acc[t][0];
    for (int s = 1; s < kSplit; ++s) sum = V::add(sum, acc[t][s]);
    V::store(y + (t0 + t) * ldy + tile * kRows, sum, valid_rows);
  }
}

template <typename V, typename T, typename Load>
void float_gemm(const PackedFloat<T>& w, const float* x, int64_t n_tokens, int64_t row_begin,
                int64_t row_end, float* y, int64_t ldy, Load load) {
  for_each_row_tile<V::kRows, kFloatTokenTile>(
      row_begin, row_end, n_tokens, [&]<int NT>(int64_t tile, int64_t t0, int valid_rows) {
        float_tile<V, NT>(w, x, tile, t0, y, ldy, valid_rows, load);
      });
}

// The table entry of a float type with element T (repacked as raw bits) on
// a path with kRows rows per tile.
template <int kRows, typename T,
          void (*Gemm)(const PackedFloat<T>&, const float*, int64_t, int64_t, int64_t, float*,
                       int64_t)>
TypeKernels float_kernels() {
  TypeKernels k;
  k.row_tile = kRows;
  k.repacked_bytes = [](int64_t n_rows, int64_t n_cols) {
    return packed_float_bytes(n_rows, n_cols, kRows, sizeof(T));
  };
  k.repack = [](const WeightView& v, std::span<uint8_t> out) {
    repack_float(v, kRows, sizeof(T), out);
  };
  k.gemm = [](const GemmArgs& a, int64_t row_begin, int64_t row_end) {
    Gemm(packed_float_view<T, kRows>(*a.w), a.x, a.n_tokens, row_begin, row_end, a.y, a.ldy);
  };
  return k;
}

}  // namespace
}  // namespace hy2bit::kernels::simd
