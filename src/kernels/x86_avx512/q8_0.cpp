// AVX-512 VNNI Q8_0 GEMM. Layout (packed_layouts.h, R = 16, offset binary):
// per tile and 32-block, 16 fp16 d and 8 groups of 64 bytes, row r's dword
// holding w + 128 for k = 4g .. 4g + 3. vpdpbusd of those u8 with a broadcast
// activation dword gives sum((w + 128) * q); subtracting 128 * sum(q) leaves
// the scalar path's isum exactly; then acc = fma(d * d_act, isum, acc).
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
void tile_tokens(const Q8_0Tiles& w, const ActsQ8& acts, int64_t tile, int64_t t0, float* y,
                 int64_t ldy, int valid_rows) {
  constexpr int kSplit = NT == 1 ? 4 : (NT == 2 ? 2 : 1);
  const PackedD<kRows>* heads = w.heads + tile * w.n_blocks;
  const PackedQ8_0<kRows>* blocks = w.blocks + tile * w.n_blocks;

  __m512 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t i = 0; i < w.n_blocks; ++i) {
    const __m512 d = load_f16x16(heads[i].d);
    __m512i dot[NT][kSplit];
    for (int t = 0; t < NT; ++t)
      for (int s = 0; s < kSplit; ++s) dot[t][s] = _mm512_setzero_si512();
    for (int g = 0; g < 8; ++g) {
      const __m512i v = _mm512_load_si512(blocks[i].qs[g]);
      for (int t = 0; t < NT; ++t)
        dot[t][g % kSplit] =
            dpbusd_broadcast(dot[t][g % kSplit], v, act_dword<NT>(acts, t0, t, 8 * i + g));
    }
    for (int t = 0; t < NT; ++t) {
      __m512i sum = dot[t][0];
      for (int s = 1; s < kSplit; ++s) sum = _mm512_add_epi32(sum, dot[t][s]);
      const int64_t ab = (t0 + t) * w.n_blocks + i;
      const __m512i isum = _mm512_sub_epi32(sum, _mm512_set1_epi32(128 * acts.sums[ab]));
      const __m512 scale = _mm512_mul_ps(d, _mm512_set1_ps(acts.d[ab]));
      acc[t] = _mm512_fmadd_ps(scale, _mm512_cvtepi32_ps(isum), acc[t]);
    }
  }
  for (int t = 0; t < NT; ++t) store_rows(y + (t0 + t) * ldy + tile * kRows, acc[t], valid_rows);
}

}  // namespace

void gemm_q8_0(const Q8_0Tiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end, float* y,
               int64_t ldy) {
  for_each_tile<kTileTokens>(row_begin, row_end, acts.n_tokens,
                             [&]<int NT>(int64_t tile, int64_t t0, int valid_rows) {
                               tile_tokens<NT>(w, acts, tile, t0, y, ldy, valid_rows);
                             });
}

TypeKernels q8_0_kernels() {
  using Head = PackedD<kRows>;
  using Block = PackedQ8_0<kRows>;
  const RepackFn repack = [](const WeightView& v, std::span<uint8_t> out) {
    repack_q8_0(v, kRows, /*offset_binary=*/true, out);
  };
  return simd::packed_kernels<kRows, Head, Block, gemm_q8_0>(
      quantize_acts_q8_0, kActBlockQ8_0, kTileTokens, repack);
}

}  // namespace hy2bit::kernels::avx512
