// AVX-512 activation quantizers: the same bytes as the scalar ones (same f32
// multiply, round-to-nearest-even convert, clamp to [-127, 127]).
#include <algorithm>
#include <cstring>

#include "kernels/acts_tiling.h"
#include "kernels/x86_avx512/avx512_kernels.h"
#include "kernels/x86_simd.h"

namespace hy2bit::kernels::avx512 {
namespace {

// Sums of each 16 of the n int8 values at q (n a multiple of 32): vpdpbusd
// with ones gives sums of 4 per lane, two in-lane shuffles sums of 16, and a
// compress packs the 128-bit lanes' results together.
void write_sums16(const int8_t* q, int64_t n, int32_t* sums16) {
  const __m512i ones = _mm512_set1_epi8(1);
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, _mm512_loadu_si512(q + i));
    s = _mm512_add_epi32(s, _mm512_shuffle_epi32(s, _MM_PERM_CDAB));
    s = _mm512_add_epi32(s, _mm512_shuffle_epi32(s, _MM_PERM_BADC));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(sums16 + i / 16),
                     _mm512_castsi512_si128(_mm512_maskz_compress_epi32(0x1111, s)));
  }
  if (i < n) {  // a block of 32
    __m256i s = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(1),
                                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + i)));
    s = _mm256_add_epi32(s, _mm256_shuffle_epi32(s, 0xB1));
    s = _mm256_add_epi32(s, _mm256_shuffle_epi32(s, 0x4E));
    sums16[i / 16] = _mm256_extract_epi32(s, 0);
    sums16[i / 16 + 1] = _mm256_extract_epi32(s, 4);
  }
}

// One block of n (a multiple of 32) floats: q, its scale, and sums per 16.
float quantize_block(const float* x, int64_t n, int8_t* q, int32_t* sums16) {
  __m512 vmax = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16)
    vmax = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i)), vmax);
  const float amax = _mm512_reduce_max_ps(vmax);
  if (amax == 0.0f) {
    for (int64_t i = 0; i < n; i += 16) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i), _mm_setzero_si128());
      sums16[i / 16] = 0;
    }
    return 0.0f;
  }
  const __m512 inv_scale = _mm512_set1_ps(127.0f / amax);
  const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127);
  for (int64_t i = 0; i < n; i += 16) {
    __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + i), inv_scale));
    v = _mm512_min_epi32(_mm512_max_epi32(v, lo), hi);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i), _mm512_cvtepi32_epi8(v));
  }
  write_sums16(q, n, sums16);
  return amax / 127.0f;
}

// Transposes 16 x 16 dwords in registers: r[t] holds dwords 0..15 of token
// t; afterwards r[c] holds dword c of tokens 0..15. Three rounds of in-lane
// unpacks and 128-bit lane shuffles.
void transpose_16x16(__m512i r[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {  // u[4i + e], lane L: tokens 4i..4i+3 of dword 4L + e
    u[4 * i + 0] = _mm512_unpacklo_epi64(t[4 * i + 0], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i + 0], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int e = 0; e < 4; ++e) {
    const __m512i v0 = _mm512_shuffle_i32x4(u[e], u[4 + e], 0x88);
    const __m512i v1 = _mm512_shuffle_i32x4(u[e], u[4 + e], 0xDD);
    const __m512i v2 = _mm512_shuffle_i32x4(u[8 + e], u[12 + e], 0x88);
    const __m512i v3 = _mm512_shuffle_i32x4(u[8 + e], u[12 + e], 0xDD);
    r[e] = _mm512_shuffle_i32x4(v0, v2, 0x88);
    r[8 + e] = _mm512_shuffle_i32x4(v0, v2, 0xDD);
    r[4 + e] = _mm512_shuffle_i32x4(v1, v3, 0x88);
    r[12 + e] = _mm512_shuffle_i32x4(v1, v3, 0xDD);
  }
}

// Builds qs_tiled for the token tiles starting in [token_begin, token_end)
// from the row-major qs, 16 tokens x 64 bytes per transpose.
void write_tiled(const ActsQ8& acts, int64_t token_begin, int64_t token_end) {
  const int64_t T = acts.tile_tokens, n_cols = acts.n_cols;
  for (int64_t t0 = token_begin; t0 < token_end; t0 += T) {
    if (T != 16 || t0 % T != 0) {  // not the layout the transpose makes: copy dwords
      for (int64_t t = t0; t < std::min(token_end, t0 + T); ++t) write_tiled_token(acts, t);
      continue;
    }
    const int64_t n_valid = std::min<int64_t>(16, acts.n_tokens - t0);
    int64_t c0 = 0;
    for (; 4 * c0 + 64 <= n_cols; c0 += 16) {
      __m512i r[16];
      for (int t = 0; t < 16; ++t)
        r[t] = t < n_valid ? _mm512_loadu_si512(acts.qs + (t0 + t) * n_cols + 4 * c0)
                           : _mm512_setzero_si512();
      transpose_16x16(r);
      int8_t* dst = acts.qs_tiled + tiled_dword_offset(acts, t0, c0);
      for (int c = 0; c < 16; ++c) _mm512_storeu_si512(dst + 64 * c, r[c]);
    }
    for (; 4 * c0 < n_cols; ++c0)  // columns past the last 64
      for (int64_t t = 0; t < n_valid; ++t)
        std::memcpy(acts.qs_tiled + tiled_dword_offset(acts, t0 + t, c0),
                    acts.qs + (t0 + t) * n_cols + 4 * c0, 4);
  }
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
  }
  if (acts.qs_tiled != nullptr) write_tiled(acts, token_begin, token_end);
}

}  // namespace

void quantize_acts_q8k(const float* x, int64_t token_begin, int64_t token_end, const ActsQ8& acts) {
  quantize_tokens(x, token_begin, token_end, acts);
}

void quantize_acts_q8_0(const float* x, int64_t token_begin, int64_t token_end,
                        const ActsQ8& acts) {
  quantize_tokens(x, token_begin, token_end, acts);
}

}  // namespace hy2bit::kernels::avx512
