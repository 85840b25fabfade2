// AVX-512 VNNI q2_0c GEMM. Layout (packed_layouts.h, R = 16): per tile of 16
// rows and 512-block, 32 groups of 64 bytes; byte m of row r's dword holds at
// bits 2j the code of k = 16g + 4j + m. One 64-byte load masked after shifts
// of 0/2/4/6 gives four u8 code vectors; each meets one broadcast activation
// dword in vpdpbusd, so lane r sums row r. Per 256-block of activations:
// isum = 2 * dot - 3 * sum(q), acc = fma(d * d_act, isum, acc), as scalar.
// Decode (1 token) reads 4 tiles at once and masks the fields in place (see
// tiles_one_token) with a software prefetch ahead; prefill makes each code
// vector serve kGroupTokens tokens read from the token-interleaved
// activations and each activation two tiles, so it is bound by vpdpbusd
// throughput, not by memory.
#include "kernels/simd/packed_kernels.h"
#include "kernels/x86_avx512/tile_loop.h"

namespace hy2bit::kernels::avx512 {
namespace {

// Tokens per pass over a tile's codes when prefilling: one activation tile of
// ActsQ8::qs_tiled. 16 integer accumulators + 4 code vectors fit the 32 zmm
// registers; the f32 sums (touched once per 256 k) stay in L1.
constexpr int kTileTokens = 16;
// Prefill passes run kGroupTiles tiles over kGroupTokens tokens, each
// broadcast activation dword meeting both tiles' code vectors: 2 x 8
// integer accumulators, 2 code and 2 field vectors. Measured against one
// tile over 16 tokens: +5% (700 -> 730 GOPS on one core, ~82% of the
// vpdpbusd peak); 4 x 4 and codes pinned in registers were no better.
constexpr int kGroupTiles = 2;
constexpr int kGroupTokens = 8;
// Tiles one decode pass reads together (see tiles_one_token).
constexpr int kDecodeTiles = 4;
// How far ahead of each tile's codes decode prefetches: the start of every
// call and of every tile group would otherwise wait for the hardware
// prefetchers to ramp up again (measured: 2 KiB ahead lifted attn_q from
// 72% to 91% of the read bandwidth on one thread).
constexpr int kPrefetchBytes = 2048;

// Decode: one token against NTILES adjacent tiles of 16 rows. Each
// broadcast activation dword meets the codes of every tile, so the loads per
// weight byte fall as NTILES grows (the load ports, not vpdpbusd, set the
// pace). Field j of every code byte is left in place: (v & mask_j) is 4^j
// times the code, so dot[j] collects 4^j times the true dot product, exactly,
// with no shifts in the inner loop; the factor comes out once per block.
// Reads row-major acts.qs.
template <int NTILES>
void tiles_one_token(const Q2_0CTiles& w, const ActsQ8& acts, int64_t tile, int64_t t, float* y,
                     int64_t ldy, int valid_rows_last) {
  const int64_t n_act_blocks = acts.n_cols / kActBlockQ8K;
  const __m512i mask[4] = {_mm512_set1_epi8(0x03), _mm512_set1_epi8(0x0C), _mm512_set1_epi8(0x30),
                           _mm512_set1_epi8(static_cast<char>(0xC0))};
  const int8_t* q = acts.qs + t * acts.n_cols;
  __m512 acc[NTILES];
  for (__m512& a : acc) a = _mm512_setzero_ps();
  for (int64_t i = 0; i < w.n_blocks; ++i) {
    for (int half = 0; half < 2; ++half) {
      const int64_t b = 2 * i + half;  // activation block
      const int8_t* qb = q + b * kActBlockQ8K;
      __m512i dot[NTILES][4];
      for (auto& per_tile : dot)
        for (__m512i& v : per_tile) v = _mm512_setzero_si512();
#pragma GCC unroll 16
      for (int g = 0; g < 16; ++g) {
        for (int j = 0; j < 4; ++j) {
          const __m512i a = broadcast_dword(qb + 16 * g + 4 * j);
          for (int n = 0; n < NTILES; ++n) {
            const uint8_t* codes = w.blocks[(tile + n) * w.n_blocks + i].qs[16 * half + g];
            if (j == 0) _mm_prefetch(reinterpret_cast<const char*>(codes) + kPrefetchBytes, _MM_HINT_T0);
            dot[n][j] = _mm512_dpbusd_epi32(
                dot[n][j], _mm512_and_si512(_mm512_load_si512(codes), mask[j]), a);
          }
        }
      }
      const int64_t ab = t * n_act_blocks + b;
      const __m512 act_scale = _mm512_set1_ps(acts.d[ab]);
      const __m512i three_sum = _mm512_set1_epi32(3 * acts.sums[ab]);
      for (int n = 0; n < NTILES; ++n) {
        // 2 * sum_j dot[j] / 4^j, each term exact.
        const __m512i twice_dot = _mm512_add_epi32(
            _mm512_add_epi32(_mm512_slli_epi32(dot[n][0], 1), _mm512_srai_epi32(dot[n][1], 1)),
            _mm512_add_epi32(_mm512_srai_epi32(dot[n][2], 3), _mm512_srai_epi32(dot[n][3], 5)));
        const __m512 d = load_f16x16(w.heads[(tile + n) * w.n_blocks + i].d);
        acc[n] = _mm512_fmadd_ps(_mm512_mul_ps(d, act_scale),
                                 _mm512_cvtepi32_ps(_mm512_sub_epi32(twice_dot, three_sum)), acc[n]);
      }
    }
  }
  for (int n = 0; n < NTILES; ++n)
    store_rows(y + t * ldy + (tile + n) * kRows, acc[n], n + 1 == NTILES ? valid_rows_last : kRows);
}

// Prefill: tokens [t0, t0 + NT) against NW adjacent tiles of 16 rows,
// reading the token-interleaved acts.qs_tiled (t0 % kTileTokens + NT <=
// kTileTokens): the NT dwords one code vector meets are adjacent. With one
// tile every activation dword is a folded {1to16} broadcast; with more,
// each broadcast register meets NW code vectors, halving the loads per
// vpdpbusd.
template <int NW, int NT>
void tiles_tokens(const Q2_0CTiles& w, const ActsQ8& acts, int64_t tile, int64_t t0, float* y,
                  int64_t ldy, int valid_rows_last) {
  constexpr int64_t kDwordStride = 4 * kTileTokens;  // bytes between dwords c and c + 1 of a token
  const int64_t n_cols = acts.n_cols;
  const int64_t n_act_blocks = n_cols / kActBlockQ8K;
  const __m512i mask3 = _mm512_set1_epi8(3);
  const int8_t* tiled = acts.qs_tiled + tiled_dword_offset(acts, t0, 0);

  alignas(64) float acc[NW][NT][kRows];
  for (auto& per_tile : acc)
    for (float* a : per_tile) _mm512_store_ps(a, _mm512_setzero_ps());
  for (int64_t i = 0; i < w.n_blocks; ++i) {
    __m512 d[NW];
    for (int n = 0; n < NW; ++n) d[n] = load_f16x16(w.heads[(tile + n) * w.n_blocks + i].d);
    for (int half = 0; half < 2; ++half) {
      const int64_t b = 2 * i + half;  // activation block
      const int8_t* a = tiled + b * (kActBlockQ8K / 4) * kDwordStride;
      __m512i dot[NW][NT];
      for (auto& per_tile : dot)
        for (__m512i& v : per_tile) v = _mm512_setzero_si512();
#pragma GCC unroll 16
      for (int g = 0; g < 16; ++g) {
        __m512i v[NW];
        for (int n = 0; n < NW; ++n)
          v[n] = _mm512_load_si512(w.blocks[(tile + n) * w.n_blocks + i].qs[16 * half + g]);
        const int8_t* ag = a + 4 * g * kDwordStride;
        for (int j = 0; j < 4; ++j) {
          __m512i c[NW];
          for (int n = 0; n < NW; ++n)
            c[n] = _mm512_and_si512(j == 0 ? v[n] : _mm512_srli_epi16(v[n], 2 * j), mask3);
          for (int t = 0; t < NT; ++t) {
            const int8_t* at = ag + j * kDwordStride + 4 * t;
            if constexpr (NW == 1) {
              dot[0][t] = dpbusd_broadcast(dot[0][t], c[0], at);
            } else {
              const __m512i bcast = broadcast_dword(at);
              for (int n = 0; n < NW; ++n) dot[n][t] = _mm512_dpbusd_epi32(dot[n][t], c[n], bcast);
            }
          }
        }
      }
      for (int t = 0; t < NT; ++t) {
        const int64_t ab = (t0 + t) * n_act_blocks + b;
        const __m512i three_sum = _mm512_set1_epi32(3 * acts.sums[ab]);
        const __m512 act_scale = _mm512_set1_ps(acts.d[ab]);
        for (int n = 0; n < NW; ++n) {
          const __m512i isum = _mm512_sub_epi32(_mm512_slli_epi32(dot[n][t], 1), three_sum);
          _mm512_store_ps(acc[n][t], _mm512_fmadd_ps(_mm512_mul_ps(d[n], act_scale),
                                                     _mm512_cvtepi32_ps(isum),
                                                     _mm512_load_ps(acc[n][t])));
        }
      }
    }
  }
  for (int n = 0; n < NW; ++n)
    for (int t = 0; t < NT; ++t)
      store_rows(y + (t0 + t) * ldy + (tile + n) * kRows, _mm512_load_ps(acc[n][t]),
                 n + 1 == NW ? valid_rows_last : kRows);
}

// tiles_tokens<NW, ...> over the tokens [t_begin, t_end), kStep at a time
// (t_begin a multiple of kStep); the rest in one smaller pass.
template <int NW, int kStep>
void tiles_over_tokens(const Q2_0CTiles& w, const ActsQ8& acts, int64_t tile, int64_t t_begin,
                       int64_t t_end, float* y, int64_t ldy, int valid_rows_last) {
  auto pass = [&]<int NT>(int64_t, int64_t t0, int) {
    tiles_tokens<NW, NT>(w, acts, tile, t0, y, ldy, valid_rows_last);
  };
  int64_t t0 = t_begin;
  for (; t0 + kStep <= t_end; t0 += kStep) pass.template operator()<kStep>(tile, t0, 0);
  if (t0 < t_end) call_with_token_count<kStep - 1>(t_end - t0, pass, tile, t0, 0);
}

}  // namespace

void gemm_q2_0c(const Q2_0CTiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end,
                float* y, int64_t ldy) {
  if (acts.n_tokens == 1 || acts.qs_tiled == nullptr) {  // decode (or no tiled copy given)
    const int64_t tile_end = (row_end + kRows - 1) / kRows;
    const int last_rows = static_cast<int>(row_end - (tile_end - 1) * kRows);
    for (int64_t t = 0; t < acts.n_tokens; ++t) {
      int64_t tile = row_begin / kRows;
      for (; tile + kDecodeTiles <= tile_end; tile += kDecodeTiles)
        tiles_one_token<kDecodeTiles>(w, acts, tile, t, y, ldy,
                                      tile + kDecodeTiles == tile_end ? last_rows : kRows);
      for (; tile < tile_end; ++tile)
        tiles_one_token<1>(w, acts, tile, t, y, ldy, tile + 1 == tile_end ? last_rows : kRows);
    }
    return;
  }
  // Prefill: per block of tokens, groups of kGroupTiles tiles, then a last
  // odd tile alone.
  const int64_t tile_end = (row_end + kRows - 1) / kRows;
  const int last_rows = static_cast<int>(row_end - (tile_end - 1) * kRows);
  for (int64_t block = 0; block < acts.n_tokens; block += kTokenBlock) {
    const int64_t block_end = std::min(acts.n_tokens, block + kTokenBlock);
    int64_t tile = row_begin / kRows;
    for (; tile + kGroupTiles <= tile_end; tile += kGroupTiles)
      tiles_over_tokens<kGroupTiles, kGroupTokens>(
          w, acts, tile, block, block_end, y, ldy,
          tile + kGroupTiles == tile_end ? last_rows : kRows);
    for (; tile < tile_end; ++tile)
      tiles_over_tokens<1, kTileTokens>(w, acts, tile, block, block_end, y, ldy,
                                        tile + 1 == tile_end ? last_rows : kRows);
  }
}

TypeKernels q2_0c_kernels() {
  using Head = PackedD<kRows>;
  using Block = PackedQ2_0C<kRows>;
  const RepackFn repack = [](const WeightView& v, std::span<uint8_t> out) {
    repack_q2_0c(v, kRows, out);
  };
  return simd::packed_kernels<kRows, Head, Block, gemm_q2_0c>(
      quantize_acts_q8k, kActBlockQ8K, kTileTokens, repack);
}

}  // namespace hy2bit::kernels::avx512
