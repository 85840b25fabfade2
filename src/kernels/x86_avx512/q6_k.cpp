// AVX-512 VNNI Q6_K GEMM. Layout (packed_layouts.h, R = 16): per tile and
// 256-block a head (16 fp16 d, int8 scales[16 groups][16 rows]) and 16 groups
// of three 64-byte vectors: two of low nibbles (j = 0,1 and 2,3) and one of
// high 2-bit pairs, for k = 16g + 4j + m at byte m of row r's dword. Unpacked
// to four u8 q6 vectors, each meets a broadcast activation dword in vpdpbusd;
// per group: (dot - 32 * sum16(q)) * scale (vpmulld, per row lane), summed
// over the block, then acc = fma(d * d_act, isum, acc), exactly as scalar.
// Prefill reads the token-interleaved activations, 16 tokens per code unpack.
#include "kernels/simd/packed_kernels.h"
#include "kernels/x86_avx512/tile_loop.h"

namespace hy2bit::kernels::avx512 {
namespace {

// Tokens per prefill pass: one tile of ActsQ8::qs_tiled (as for q2_0c).
constexpr int kTileTokens = 16;
// How far ahead of the codes decode prefetches (as for q2_0c).
constexpr int kPrefetchBytes = 2048;

// The four u8 q6 code vectors of group g (k = 16g + 4j + m at byte m of a
// row's dword, j = 0..3).
struct Q6Codes {
  __m512i q[4];
};

inline Q6Codes unpack_group(const uint8_t* grp) {
  const __m512i low4 = _mm512_set1_epi8(0x0F), high2 = _mm512_set1_epi8(0x30);
  const __m512i lo01 = _mm512_load_si512(grp);
  const __m512i lo23 = _mm512_load_si512(grp + 64);
  const __m512i hi = _mm512_load_si512(grp + 128);
  Q6Codes c;
  c.q[0] = _mm512_or_si512(_mm512_and_si512(lo01, low4),
                           _mm512_and_si512(_mm512_slli_epi16(hi, 4), high2));
  c.q[1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(lo01, 4), low4),
                           _mm512_and_si512(_mm512_slli_epi16(hi, 2), high2));
  c.q[2] = _mm512_or_si512(_mm512_and_si512(lo23, low4), _mm512_and_si512(hi, high2));
  c.q[3] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(lo23, 4), low4),
                           _mm512_and_si512(_mm512_srli_epi16(hi, 2), high2));
  return c;
}

inline __m512i group_scales(const PackedQ6_KHead<kRows>& head, int g) {
  return _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(head.scales[g])));
}

// Decode: one token against one tile of 16 rows, reading row-major acts.qs.
void tile_one_token(const Q6_KTiles& w, const ActsQ8& acts, int64_t tile, int64_t t, float* y,
                    int64_t ldy, int valid_rows) {
  const PackedQ6_KHead<kRows>* heads = w.heads + tile * w.n_blocks;
  const PackedQ6_K<kRows>* blocks = w.blocks + tile * w.n_blocks;
  const int8_t* q = acts.qs + t * acts.n_cols;
  const int32_t* sums16 = acts.sums16 + t * (acts.n_cols / 16);
  __m512 acc = _mm512_setzero_ps();
  for (int64_t i = 0; i < w.n_blocks; ++i) {
    __m512i isum = _mm512_setzero_si512();
#pragma GCC unroll 2
    for (int g = 0; g < 16; ++g) {
      const uint8_t* grp = blocks[i].groups[g][0];
      for (int line = 0; line < 3; ++line)
        _mm_prefetch(reinterpret_cast<const char*>(grp) + kPrefetchBytes + 64 * line, _MM_HINT_T0);
      const Q6Codes c = unpack_group(grp);
      const int8_t* qg = q + 256 * i + 16 * g;
      __m512i dot = _mm512_set1_epi32(-32 * sums16[16 * i + g]);
      dot = dpbusd_broadcast(dot, c.q[0], qg);
      dot = dpbusd_broadcast(dot, c.q[1], qg + 4);
      dot = dpbusd_broadcast(dot, c.q[2], qg + 8);
      dot = dpbusd_broadcast(dot, c.q[3], qg + 12);
      isum = _mm512_add_epi32(isum, _mm512_mullo_epi32(dot, group_scales(heads[i], g)));
    }
    const __m512 s =
        _mm512_mul_ps(load_f16x16(heads[i].d), _mm512_set1_ps(acts.d[t * w.n_blocks + i]));
    acc = _mm512_fmadd_ps(s, _mm512_cvtepi32_ps(isum), acc);
  }
  store_rows(y + t * ldy + tile * kRows, acc, valid_rows);
}

// Prefill: tokens [t0, t0 + NT) (t0 a multiple of kTileTokens) against one
// tile of 16 rows, reading the token-interleaved acts.qs_tiled. Each group's
// dot starts from -32 * sum16(q), so one vpmulld applies the group's scale.
template <int NT>
void tile_tokens(const Q6_KTiles& w, const ActsQ8& acts, int64_t tile, int64_t t0, float* y,
                 int64_t ldy, int valid_rows) {
  constexpr int64_t kDwordStride = 4 * kTileTokens;
  const int64_t n_cols = acts.n_cols;
  const int64_t n_groups_row = n_cols / 16;
  const PackedQ6_KHead<kRows>* heads = w.heads + tile * w.n_blocks;
  const PackedQ6_K<kRows>* blocks = w.blocks + tile * w.n_blocks;
  const int8_t* tiled = acts.qs_tiled + t0 * n_cols;

  alignas(64) float acc[NT][kRows];
  for (int t = 0; t < NT; ++t) _mm512_store_ps(acc[t], _mm512_setzero_ps());
  for (int64_t i = 0; i < w.n_blocks; ++i) {
    __m512i isum[NT];
    for (int t = 0; t < NT; ++t) isum[t] = _mm512_setzero_si512();
#pragma GCC unroll 2
    for (int g = 0; g < 16; ++g) {
      const Q6Codes c = unpack_group(blocks[i].groups[g][0]);
      const __m512i scale = group_scales(heads[i], g);
      const int8_t* ag = tiled + (64 * i + 4 * g) * kDwordStride;
      const int32_t* s16 = acts.sums16 + t0 * n_groups_row + 16 * i + g;
      for (int t = 0; t < NT; ++t) {
        __m512i dot = _mm512_set1_epi32(-32 * s16[t * n_groups_row]);
        dot = dpbusd_broadcast(dot, c.q[0], ag + 4 * t);
        dot = dpbusd_broadcast(dot, c.q[1], ag + kDwordStride + 4 * t);
        dot = dpbusd_broadcast(dot, c.q[2], ag + 2 * kDwordStride + 4 * t);
        dot = dpbusd_broadcast(dot, c.q[3], ag + 3 * kDwordStride + 4 * t);
        isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(dot, scale));
      }
    }
    const __m512 d = load_f16x16(heads[i].d);
    for (int t = 0; t < NT; ++t) {
      const __m512 s = _mm512_mul_ps(d, _mm512_set1_ps(acts.d[(t0 + t) * w.n_blocks + i]));
      _mm512_store_ps(acc[t],
                      _mm512_fmadd_ps(s, _mm512_cvtepi32_ps(isum[t]), _mm512_load_ps(acc[t])));
    }
  }
  for (int t = 0; t < NT; ++t)
    store_rows(y + (t0 + t) * ldy + tile * kRows, _mm512_load_ps(acc[t]), valid_rows);
}

}  // namespace

void gemm_q6_k(const Q6_KTiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end, float* y,
               int64_t ldy) {
  if (acts.n_tokens == 1 || acts.qs_tiled == nullptr) {  // decode (or no tiled copy given)
    for (int64_t tile = row_begin / kRows; tile * kRows < row_end; ++tile) {
      const int valid_rows = static_cast<int>(std::min<int64_t>(kRows, row_end - tile * kRows));
      for (int64_t t = 0; t < acts.n_tokens; ++t)
        tile_one_token(w, acts, tile, t, y, ldy, valid_rows);
    }
    return;
  }
  for_each_tile<kTileTokens>(row_begin, row_end, acts.n_tokens,
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
      quantize_acts_q8k, kActBlockQ8K, kTileTokens, repack);
}

}  // namespace hy2bit::kernels::avx512
