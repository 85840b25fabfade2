// The loop every AVX-512 GEMM shares: blocks of tokens, then row tiles of
// kRows in the thread's range, then the block's tokens in groups of
// kTokenTile (a template constant, so each group's accumulators live in
// registers); the last group takes a smaller instantiation.
// Internal linkage (built with AVX-512 flags).
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/x86_avx512/avx512_kernels.h"
#include "kernels/x86_simd.h"

namespace hy2bit::kernels::avx512 {
namespace {

// Calls fn.template operator()<NT>(tile, t0, valid_rows) for NT == max_nt,
// or for the largest NT < max_nt not above n when n < max_nt.
template <int kMaxNT, typename Fn>
void call_with_token_count(int64_t n, Fn& fn, int64_t tile, int64_t t0, int valid_rows) {
  if constexpr (kMaxNT > 1) {
    if (n < kMaxNT) return call_with_token_count<kMaxNT - 1>(n, fn, tile, t0, valid_rows);
  }
  fn.template operator()<kMaxNT>(tile, t0, valid_rows);
}

// Tokens per block: the outer loop, so a block's activations (kTokenBlock x
// n_cols int8, <= 384 KiB at n_cols 6144) stay in L2 while every row tile of
// the thread streams past them.
constexpr int64_t kTokenBlock = 48;

template <int kTokenTile, typename Fn>
void for_each_tile(int64_t row_begin, int64_t row_end, int64_t n_tokens, Fn&& fn) {
  static_assert(kTokenBlock % kTokenTile == 0);
  for (int64_t block = 0; block < n_tokens; block += kTokenBlock) {
    const int64_t block_end = std::min(n_tokens, block + kTokenBlock);
    for (int64_t tile = row_begin / kRows; tile * kRows < row_end; ++tile) {
      const int valid_rows = static_cast<int>(std::min<int64_t>(kRows, row_end - tile * kRows));
      int64_t t0 = block;
      for (; t0 + kTokenTile <= block_end; t0 += kTokenTile)
        fn.template operator()<kTokenTile>(tile, t0, valid_rows);
      if (t0 < block_end)
        call_with_token_count<kTokenTile - 1>(block_end - t0, fn, tile, t0, valid_rows);
    }
  }
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
