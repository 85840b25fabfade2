// AVX2 Q4_0 GEMM. Layout (packed_layouts.h, R = 8): per tile and 32-block,
// 8 fp16 d and 4 groups of 32 bytes; byte m of row r's dword holds the nibble
// of k = 8g + m (low) and k = 8g + 4 + m (high). On plain AVX2 the pairs of n * q
// are <= 3810, so a block's 8 products per pair-lane add in int16 (<= 30480)
// before one vpmaddwd. isum = dot - 8 * sum(q); acc = fma(d * d_act, isum, acc).
#include "kernels/simd/packed_kernels.h"
#include "kernels/x86_avx2/tile_loop.h"

namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE {
namespace {

constexpr int kTokenTile = 4;

template <int NT>
void tile_tokens(const Q4_0Tiles& w, const ActsQ8& acts, int64_t tile, int64_t t0, float* y,
                 int64_t ldy, int valid_rows) {
  const int64_t n_cols = acts.n_cols;
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  const PackedD<kRows>* heads = w.heads + tile * w.n_blocks;
  const PackedQ4_0<kRows>* blocks = w.blocks + tile * w.n_blocks;

  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < w.n_blocks; ++i) {
    const __m256 d = load_f16x8(heads[i].d);
    __m256i pairs[NT];
    for (int t = 0; t < NT; ++t) pairs[t] = _mm256_setzero_si256();
    for (int g = 0; g < 4; ++g) {
      const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(blocks[i].qs[g]));
      const __m256i lo = _mm256_and_si256(v, low4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
      for (int t = 0; t < NT; ++t) {
        const int8_t* qg = acts.qs + (t0 + t) * n_cols + 32 * i + 8 * g;
        pairs[t] = products_add(pairs[t], lo, broadcast_dword(qg));
        pairs[t] = products_add(pairs[t], hi, broadcast_dword(qg + 4));
      }
    }
    for (int t = 0; t < NT; ++t) {
      const int64_t ab = (t0 + t) * w.n_blocks + i;
      const __m256i isum =
          _mm256_sub_epi32(products_to_int32(pairs[t]), _mm256_set1_epi32(8 * acts.sums[ab]));
      const __m256 scale = _mm256_mul_ps(d, _mm256_set1_ps(acts.d[ab]));
      acc[t] = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(isum), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) store_rows(y + (t0 + t) * ldy + tile * kRows, acc[t], valid_rows);
}

}  // namespace

void gemm_q4_0(const Q4_0Tiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end, float* y,
               int64_t ldy) {
  for_each_tile<kTokenTile>(row_begin, row_end, acts.n_tokens,
                            [&]<int NT>(int64_t tile, int64_t t0, int valid_rows) {
                              tile_tokens<NT>(w, acts, tile, t0, y, ldy, valid_rows);
                            });
}

TypeKernels q4_0_kernels() {
  using Head = PackedD<kRows>;
  using Block = PackedQ4_0<kRows>;
  const RepackFn repack = [](const WeightView& v, std::span<uint8_t> out) {
    repack_q4_0(v, kRows, out);
  };
  return simd::packed_kernels<kRows, Head, Block, gemm_q4_0>(
      quantize_acts_q8_0, kActBlockQ8_0, 0, repack);
}

}  // namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE
