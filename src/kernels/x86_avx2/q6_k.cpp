// AVX2 Q6_K GEMM. Layout (packed_layouts.h, R = 8): per tile and 256-block a
// head (8 fp16 d, int8 scales[16 groups][8 rows]) and 16 groups of three
// 32-byte vectors (low nibbles for j = 0,1 and 2,3, high 2-bit pairs) for
// k = 16g + 4j + m at byte m of row r's dword. On plain AVX2 pairs of q6 * q are
// <= 16002, so two add in int16; vpmaddwd widens to the row lane. Per group:
// (dot - 32 * sum16(q)) * scale, summed per block, then
// acc = fma(d * d_act, isum, acc), exactly as scalar.
#include "kernels/simd/packed_kernels.h"
#include "kernels/x86_avx2/tile_loop.h"

namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE {
namespace {

constexpr int kTokenTile = 3;

template <int NT>
void tile_tokens(const Q6_KTiles& w, const ActsQ8& acts, int64_t tile, int64_t t0, float* y,
                 int64_t ldy, int valid_rows) {
  const int64_t n_cols = acts.n_cols;
  const int64_t n_groups_row = n_cols / 16;
  const __m256i low4 = _mm256_set1_epi8(0x0F), high2 = _mm256_set1_epi8(0x30);
  const PackedQ6_KHead<kRows>* heads = w.heads + tile * w.n_blocks;
  const PackedQ6_K<kRows>* blocks = w.blocks + tile * w.n_blocks;

  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < w.n_blocks; ++i) {
    const __m256 d = load_f16x8(heads[i].d);
    __m256i isum[NT];
    for (int t = 0; t < NT; ++t) isum[t] = _mm256_setzero_si256();
    for (int g = 0; g < 16; ++g) {
      const __m256i* grp = reinterpret_cast<const __m256i*>(blocks[i].groups[g][0]);
      const __m256i lo01 = _mm256_load_si256(grp);
      const __m256i lo23 = _mm256_load_si256(grp + 1);
      const __m256i hi = _mm256_load_si256(grp + 2);
      const __m256i q0 = _mm256_or_si256(_mm256_and_si256(lo01, low4),
                                         _mm256_and_si256(_mm256_slli_epi16(hi, 4), high2));
      const __m256i q1 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lo01, 4), low4),
                                         _mm256_and_si256(_mm256_slli_epi16(hi, 2), high2));
      const __m256i q2 = _mm256_or_si256(_mm256_and_si256(lo23, low4), _mm256_and_si256(hi, high2));
      const __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(lo23, 4), low4),
                                         _mm256_and_si256(_mm256_srli_epi16(hi, 2), high2));
      int64_t scale_bits;
      __builtin_memcpy(&scale_bits, heads[i].scales[g], 8);
      const __m256i scale = _mm256_cvtepi8_epi32(_mm_cvtsi64_si128(scale_bits));
      for (int t = 0; t < NT; ++t) {
        const int8_t* qg = acts.qs + (t0 + t) * n_cols + 256 * i + 16 * g;
        const __m256i zero = _mm256_setzero_si256();
        const __m256i p01 = products_add(products_add(zero, q0, broadcast_dword(qg)), q1,
                                         broadcast_dword(qg + 4));
        const __m256i p23 = products_add(products_add(zero, q2, broadcast_dword(qg + 8)), q3,
                                         broadcast_dword(qg + 12));
        const int32_t sum16 = acts.sums16[(t0 + t) * n_groups_row + 16 * i + g];
        const __m256i dot =
            _mm256_sub_epi32(_mm256_add_epi32(products_to_int32(p01), products_to_int32(p23)),
                             _mm256_set1_epi32(32 * sum16));
        isum[t] = _mm256_add_epi32(isum[t], _mm256_mullo_epi32(dot, scale));
      }
    }
    for (int t = 0; t < NT; ++t) {
      const float act_d = acts.d[(t0 + t) * w.n_blocks + i];
      const __m256 s = _mm256_mul_ps(d, _mm256_set1_ps(act_d));
      acc[t] = _mm256_fmadd_ps(s, _mm256_cvtepi32_ps(isum[t]), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) store_rows(y + (t0 + t) * ldy + tile * kRows, acc[t], valid_rows);
}

}  // namespace

void gemm_q6_k(const Q6_KTiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end, float* y,
               int64_t ldy) {
  for_each_tile<kTokenTile>(row_begin, row_end, acts.n_tokens,
                            [&]<int NT>(int64_t tile, int64_t t0, int valid_rows) {
                              tile_tokens<NT>(w, acts, tile, t0, y, ldy, valid_rows);
                            });
}

TypeKernels q6_k_kernels() {
  using Head = PackedQ6_KHead<kRows>;
  using Block = PackedQ6_K<kRows>;
  const RepackFn repack = [](const WeightView& v, std::span<uint8_t> out) {
    repack_q6_k(v, kRows, out);
  };
  return simd::packed_kernels<kRows, Head, Block, gemm_q6_k>(
      quantize_acts_q8k, kActBlockQ8K, 0, repack);
}

}  // namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE
