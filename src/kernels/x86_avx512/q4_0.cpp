// AVX-512 VNNI Q4_0 GEMM. Layout (packed_layouts.h, R = 16): per tile and
// 32-block, 16 fp16 d and 4 groups of 64 bytes; byte m of row r's dword holds
// the nibble of k = 8g + m (low) and k = 8g + 4 + m (high). Each nibble vector
// meets a broadcast activation dword in vpdpbusd; isum = dot - 8 * sum(q),
// then acc = fma(d * d_act, isum, acc), exactly as scalar.
#include "kernels/simd/packed_kernels.h"
#include "kernels/x86_avx512/tile_loop.h"

namespace hy2bit::kernels::avx512 {
namespace {

// Tokens per prefill pass: one tile of ActsQ8::qs_tiled. 8 integer and 8 f32
// accumulators fit in registers beside the codes (the f32 sums are updated
// every 32 k, too often to keep in memory).
constexpr int kTileTokens = 8;
constexpr int64_t kDwordStride = 4 * kTileTokens;  // bytes between a token's dwords in a tile

// Activation dword c of token t0 + t: row-major for one token (decode and
// tails), else from the token-interleaved tile starting at t0.
template <int NT>
inline const int8_t* act_dword(const ActsQ8& acts, int64_t t0, int t, int64_t c) {
  if constexpr (NT == 1) return acts.qs + (t0 + t) * acts.n_cols + 4 * c;
  return acts.qs_tiled + t0 * acts.n_cols + c * kDwordStride + 4 * t;
}

template <int NT>
void tile_tokens(const Q4_0Tiles& w, const ActsQ8& acts, int64_t tile, int64_t t0, float* y,
                 int64_t ldy, int valid_rows) {
  constexpr int kSplit = NT == 1 ? 4 : (NT == 2 ? 2 : 1);
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  const PackedD<kRows>* heads = w.heads + tile * w.n_blocks;
  const PackedQ4_0<kRows>* blocks = w.blocks + tile * w.n_blocks;

  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t i = 0; i < w.n_blocks; ++i) {
    const __m512 d = load_f16x16(heads[i].d);
    __m512i dot[NT][kSplit];
    for (int t = 0; t < NT; ++t)
      for (int s = 0; s < kSplit; ++s) dot[t][s] = _mm512_setzero_si512();
    for (int g = 0; g < 4; ++g) {
      const __m512i v = _mm512_load_si512(blocks[i].qs[g]);
      const __m512i lo = _mm512_and_si512(v, low4);
      const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low4);
      for (int t = 0; t < NT; ++t) {
        const int s0 = (2 * g) % kSplit, s1 = (2 * g + 1) % kSplit;
        dot[t][s0] = dpbusd_broadcast(dot[t][s0], lo, act_dword<NT>(acts, t0, t, 8 * i + 2 * g));
        dot[t][s1] =
            dpbusd_broadcast(dot[t][s1], hi, act_dword<NT>(acts, t0, t, 8 * i + 2 * g + 1));
      }
    }
    for (int t = 0; t < NT; ++t) {
      __m512i sum = dot[t][0];
      for (int s = 1; s < kSplit; ++s) sum = _mm512_add_epi32(sum, dot[t][s]);
      const int64_t ab = (t0 + t) * w.n_blocks + i;
      const __m512i isum = _mm512_sub_epi32(sum, _mm512_set1_epi32(8 * acts.sums[ab]));
      const __m512 scale = _mm512_mul_ps(d, _mm512_set1_ps(acts.d[ab]));
      acc[t] = _mm512_fmadd_ps(scale, _mm512_cvtepi32_ps(isum), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) store_rows(y + (t0 + t) * ldy + tile * kRows, acc[t], valid_rows);
}

}  // namespace

void gemm_q4_0(const Q4_0Tiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end, float* y,
               int64_t ldy) {
  for_each_tile<kTileTokens>(row_begin, row_end, acts.n_tokens,
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
      quantize_acts_q8_0, kActBlockQ8_0, kTileTokens, repack);
}

}  // namespace hy2bit::kernels::avx512
