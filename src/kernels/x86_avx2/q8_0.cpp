// AVX2 Q8_0 GEMM. Layout (packed_layouts.h, R = 8, signed): per tile and
// 32-block, 8 fp16 d and 8 groups of 32 bytes, row r's dword holding the int8
// weights of k = 4g .. 4g + 3. u8 x s8 products need one unsigned operand,
// so they take |w| and q with w's sign (vpsignb); vpmaddubsw pairs stay
// <= 2 * 128 * 127 and are widened at once. isum = sum(w * q) exactly; acc = fma(d * d_act, isum, acc).
#include "kernels/simd/packed_kernels.h"
#include "kernels/x86_avx2/tile_loop.h"

namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE {
namespace {

constexpr int kTokenTile = 4;

template <int NT>
void tile_tokens(const Q8_0Tiles& w, const ActsQ8& acts, int64_t tile, int64_t t0, float* y,
                 int64_t ldy, int valid_rows) {
  const int64_t n_cols = acts.n_cols;
  const PackedD<kRows>* heads = w.heads + tile * w.n_blocks;
  const PackedQ8_0<kRows>* blocks = w.blocks + tile * w.n_blocks;

  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < w.n_blocks; ++i) {
    const __m256 d = load_f16x8(heads[i].d);
    __m256i dot[NT];
    for (int t = 0; t < NT; ++t) dot[t] = _mm256_setzero_si256();
    for (int g = 0; g < 8; ++g) {
      const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(blocks[i].qs[g]));
      const __m256i magnitude = _mm256_sign_epi8(v, v);
      for (int t = 0; t < NT; ++t) {
        const __m256i a = broadcast_dword(acts.qs + (t0 + t) * n_cols + 32 * i + 4 * g);
        dot[t] = int32_add_products(dot[t], magnitude, _mm256_sign_epi8(a, v));
      }
    }
    for (int t = 0; t < NT; ++t) {
      const int64_t ab = (t0 + t) * w.n_blocks + i;
      const __m256 scale = _mm256_mul_ps(d, _mm256_set1_ps(acts.d[ab]));
      acc[t] = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(dot[t]), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) store_rows(y + (t0 + t) * ldy + tile * kRows, acc[t], valid_rows);
}

}  // namespace

void gemm_q8_0(const Q8_0Tiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end, float* y,
               int64_t ldy) {
  for_each_tile<kTokenTile>(row_begin, row_end, acts.n_tokens,
                            [&]<int NT>(int64_t tile, int64_t t0, int valid_rows) {
                              tile_tokens<NT>(w, acts, tile, t0, y, ldy, valid_rows);
                            });
}

TypeKernels q8_0_kernels() {
  using Head = PackedD<kRows>;
  using Block = PackedQ8_0<kRows>;
  const RepackFn repack = [](const WeightView& v, std::span<uint8_t> out) {
    repack_q8_0(v, kRows, /*offset_binary=*/false, out);
  };
  return simd::packed_kernels<kRows, Head, Block, gemm_q8_0>(
      quantize_acts_q8_0, kActBlockQ8_0, 0, repack);
}

}  // namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE
