// AVX2 activation quantizers: the same bytes as the scalar ones (same f32
// multiply, round-to-nearest-even convert, clamp to [-127, 127]).
#include "kernels/acts_tiling.h"
#include "kernels/x86_avx2/tile_loop.h"

namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE {
namespace {

inline int32_t hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

inline float hmax_ps(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// One block of n (a multiple of 32) floats: q, its scale, and sums per 16.
float quantize_block(const float* x, int64_t n, int8_t* q, int32_t* sums16) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
  __m256 vmax = _mm256_setzero_ps();
  for (int64_t i = 0; i < n; i += 8)
    vmax = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + i), abs_mask), vmax);
  const float amax = hmax_ps(vmax);
  if (amax == 0.0f) {
    for (int64_t i = 0; i < n; i += 16) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i), _mm_setzero_si128());
      sums16[i / 16] = 0;
    }
    return 0.0f;
  }
  const __m256 inv_scale = _mm256_set1_ps(127.0f / amax);
  const __m256i lo = _mm256_set1_epi32(-127), hi = _mm256_set1_epi32(127);
  const __m256i unshuffle = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int64_t i = 0; i < n; i += 32) {
    __m256i v[4];
    for (int j = 0; j < 4; ++j) {
      v[j] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * j), inv_scale));
      v[j] = _mm256_min_epi32(_mm256_max_epi32(v[j], lo), hi);
    }
    sums16[i / 16] = hsum_epi32(_mm256_add_epi32(v[0], v[1]));
    sums16[i / 16 + 1] = hsum_epi32(_mm256_add_epi32(v[2], v[3]));
    // Packs interleave 128-bit lanes; the permute restores element order.
    const __m256i packed =
        _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + i),
                        _mm256_permutevar8x32_epi32(packed, unshuffle));
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

}  // namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE
