// What every AVX-512 GEMM shares: the walk over token blocks, row tiles and
// token groups (kernels/simd/tile_schedule.h) bound to this path's kRows,
// and the register helpers: partial-tile stores, broadcasts, fp16 loads and
// the u8 x s8 products. Internal linkage (built with AVX-512 flags).
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>

#include "kernels/simd/tile_schedule.h"
#include "kernels/x86_avx512/avx512_kernels.h"
#include "kernels/x86_simd.h"

namespace hy2bit::kernels::avx512 {
namespace {

using simd::call_with_token_count;
using simd::kTokenBlock;

// The shared walk (kernels/simd/tile_schedule.h) over this path's row tiles.
template <int kTokenTile, typename Fn>
void for_each_tile(int64_t row_begin, int64_t row_end, int64_t n_tokens, Fn&& fn) {
  simd::for_each_row_tile<kRows, kTokenTile>(row_begin, row_end, n_tokens, std::forward<Fn>(fn));
}

// Stores one token's 16 row results (only the valid rows of a partial tile).
inline void store_rows(float* y, __m512 v, int valid_rows) {
  _mm512_mask_storeu_ps(y, static_cast<__mmask16>((1u << valid_rows) - 1), v);
}

// A 4-byte load that may alias the int8 activations it reads.
typedef int32_t unaligned_dword __attribute__((aligned(1), may_alias));

inline __m512i broadcast_dword(const int8_t* p) {
  return _mm512_set1_epi32(*reinterpret_cast<const unaligned_dword*>(p));
}

// acc += u8 x (the s8 dword at p, broadcast): vpdpbusd with an embedded
// {1to16} memory broadcast, one fused uop (GCC does not fold the broadcast).
inline __m512i dpbusd_broadcast(__m512i acc, __m512i u8, const int8_t* p) {
  __asm__("vpdpbusd %2%{1to16%}, %1, %0"
          : "+v"(acc)
          : "v"(u8), "m"(*reinterpret_cast<const unaligned_dword*>(p)));
  return acc;
}

inline __m512 load_f16x16(const formats::f16_bits* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

}  // namespace
}  // namespace hy2bit::kernels::avx512
