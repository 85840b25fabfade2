// What every AVX2 GEMM shares: the walk over token blocks, row tiles and
// token groups (kernels/simd/tile_schedule.h) bound to this path's kRows,
// and the register helpers: partial-tile stores, broadcasts, fp16 loads and
// the u8 x s8 products. Internal linkage (built with AVX2 flags).
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>

#include "kernels/simd/tile_schedule.h"
#include "kernels/x86_avx2/avx2_kernels.h"
#include "kernels/x86_simd.h"

namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE {
namespace {

using simd::call_with_token_count;
using simd::kTokenBlock;

// The shared walk (kernels/simd/tile_schedule.h) over this path's row tiles.
template <int kTokenTile, typename Fn>
void for_each_tile(int64_t row_begin, int64_t row_end, int64_t n_tokens, Fn&& fn) {
  simd::for_each_row_tile<kRows, kTokenTile>(row_begin, row_end, n_tokens, std::forward<Fn>(fn));
}

// Stores one token's 8 row results (only the valid rows of a partial tile).
inline void store_rows(float* y, __m256 v, int valid_rows) {
  if (valid_rows == kRows) return _mm256_storeu_ps(y, v);
  alignas(32) float tmp[kRows];
  _mm256_store_ps(tmp, v);
  for (int r = 0; r < valid_rows; ++r) y[r] = tmp[r];
}

inline __m256i broadcast_dword(const int8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

inline __m256 load_f16x8(const formats::f16_bits* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// u8 x s8 products, 4 per 32-bit row lane, into a running sum that
// products_to_int32 turns into int32 lanes. AVX2: int16 pair sums
// (vpmaddubsw) added in int16, so each kernel bounds how many it adds before
// widening (vpmaddwd); AVX-VNNI: vpdpbusd adds straight into int32 and the
// widening is free. Both give the same exact sums.
inline __m256i products_add(__m256i sum, __m256i u8, __m256i s8) {
#if defined(HY2BIT_AVX_VNNI)
  return _mm256_dpbusd_avx_epi32(sum, u8, s8);
#else
  return _mm256_add_epi16(sum, _mm256_maddubs_epi16(u8, s8));
#endif
}

inline __m256i products_to_int32(__m256i sum) {
#if defined(HY2BIT_AVX_VNNI)
  return sum;
#else
  return _mm256_madd_epi16(sum, _mm256_set1_epi16(1));
#endif
}

// acc (int32 lanes) += the products of u8 and s8, where a single vpmaddubsw
// pair sum may already need widening (Q8_0's |w| * q reach 2 * 128 * 127).
inline __m256i int32_add_products(__m256i acc, __m256i u8, __m256i s8) {
#if defined(HY2BIT_AVX_VNNI)
  return _mm256_dpbusd_avx_epi32(acc, u8, s8);
#else
  return _mm256_add_epi32(acc, products_to_int32(_mm256_maddubs_epi16(u8, s8)));
#endif
}

}  // namespace
}  // namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE
