// AVX2 q2_0c GEMM. Layout (packed_layouts.h, R = 8): per tile of 8 rows and
// 512-block, 32 groups of 32 bytes; byte m of row r's dword holds at bits 2j
// the code of k = 16g + 4j + m. Shifts of 0/2/4/6 and a mask give four u8
// code vectors; vpmaddubsw with a broadcast activation dword gives int16 pair
// sums (|c * q| pairs <= 762), 32 of which (<= 24384) add up in int16 before
// one vpmaddwd widens them to the row's int32 lane. Per 256-block of
// activations: isum = 2 * dot - 3 * sum(q), acc = fma(d * d_act, isum, acc).
#include "kernels/x86_avx2/tile_loop.h"

namespace hy2bit::kernels::avx2 {
namespace {

constexpr int kTokenTile = 4;  // 16 ymm registers: 3 per token plus the codes

template <int NT>
void tile_tokens(const Q2_0CTiles& w, const ActsQ8& acts, int64_t tile, int64_t t0, float* y,
                 int64_t ldy, int valid_rows) {
  const int64_t n_cols = acts.n_cols;
  const int64_t n_act_blocks = n_cols / kActBlockQ8K;
  const __m256i mask3 = _mm256_set1_epi8(3);
  const PackedD<kRows>* heads = w.heads + tile * w.n_blocks;
  const PackedQ2_0C<kRows>* blocks = w.blocks + tile * w.n_blocks;

  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < w.n_blocks; ++i) {
    const __m256 d = load_f16x8(heads[i].d);
    for (int half = 0; half < 2; ++half) {
      const int64_t b = 2 * i + half;
      const int8_t* q[NT];
      for (int t = 0; t < NT; ++t) q[t] = acts.qs + (t0 + t) * n_cols + b * kActBlockQ8K;
      __m256i dot[NT];
      for (int t = 0; t < NT; ++t) dot[t] = _mm256_setzero_si256();
      for (int part = 0; part < 2; ++part) {  // 8 groups per int16 accumulation
        __m256i pairs[NT];
        for (int t = 0; t < NT; ++t) pairs[t] = _mm256_setzero_si256();
        for (int g = 8 * part; g < 8 * part + 8; ++g) {
          const __m256i v =
              _mm256_load_si256(reinterpret_cast<const __m256i*>(blocks[i].qs[16 * half + g]));
          const __m256i c0 = _mm256_and_si256(v, mask3);
          const __m256i c1 = _mm256_and_si256(_mm256_srli_epi16(v, 2), mask3);
          const __m256i c2 = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask3);
          const __m256i c3 = _mm256_and_si256(_mm256_srli_epi16(v, 6), mask3);
          for (int t = 0; t < NT; ++t) {
            const int8_t* qg = q[t] + 16 * g;
            const __m256i p01 = _mm256_add_epi16(_mm256_maddubs_epi16(c0, broadcast_dword(qg)),
                                                 _mm256_maddubs_epi16(c1, broadcast_dword(qg + 4)));
            const __m256i p23 =
                _mm256_add_epi16(_mm256_maddubs_epi16(c2, broadcast_dword(qg + 8)),
                                 _mm256_maddubs_epi16(c3, broadcast_dword(qg + 12)));
            pairs[t] = _mm256_add_epi16(pairs[t], _mm256_add_epi16(p01, p23));
          }
        }
        for (int t = 0; t < NT; ++t) dot[t] = _mm256_add_epi32(dot[t], widen_pairs(pairs[t]));
      }
      for (int t = 0; t < NT; ++t) {
        const int64_t ab = (t0 + t) * n_act_blocks + b;
        const __m256i isum =
            _mm256_sub_epi32(_mm256_slli_epi32(dot[t], 1), _mm256_set1_epi32(3 * acts.sums[ab]));
        const __m256 scale = _mm256_mul_ps(d, _mm256_set1_ps(acts.d[ab]));
        acc[t] = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(isum), acc[t]);
      }
    }
  }
  for (int t = 0; t < NT; ++t) store_rows(y + (t0 + t) * ldy + tile * kRows, acc[t], valid_rows);
}

}  // namespace

void gemm_q2_0c(const Q2_0CTiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end,
                float* y, int64_t ldy) {
  for_each_tile<kTokenTile>(row_begin, row_end, acts.n_tokens,
                            [&]<int NT>(int64_t tile, int64_t t0, int valid_rows) {
                              tile_tokens<NT>(w, acts, tile, t0, y, ldy, valid_rows);
                            });
}

TypeKernels q2_0c_kernels() {
  using Head = PackedD<kRows>;
  using Block = PackedQ2_0C<kRows>;
  TypeKernels k;
  k.quantize = quantize_acts_q8k;
  k.act_block = kActBlockQ8K;
  k.row_tile = kRows;
  k.repacked_bytes = [](int64_t n_rows, int64_t n_cols) {
    return packed_bytes(n_rows, n_cols, kRows, Block::kElems, sizeof(Head), sizeof(Block));
  };
  k.repack = [](const WeightView& v, std::span<uint8_t> out) { repack_q2_0c(v, kRows, out); };
  k.gemm = [](const GemmArgs& a, int64_t row_begin, int64_t row_end) {
    gemm_q2_0c(packed_view<Head, Block, kRows>(*a.w), *a.acts, row_begin, row_end, a.y, a.ldy);
  };
  return k;
}

}  // namespace hy2bit::kernels::avx2
