// AVX2 q2_0c GEMM. Layout (packed_layouts.h, R = 8): per tile of 8 rows and
// 512-block, 32 groups of 32 bytes; byte m of row r's dword holds at bits 2j
// the code of k = 16g + 4j + m. Shifts of 0/2/4/6 and a mask give four u8
// code vectors; each meets a broadcast activation dword (products_add in
// tile_loop.h). On plain AVX2 the int16 pair sums (|c * q| pairs <= 762) of
// 8 groups (32 pairs, <= 24384) add up in int16 before one vpmaddwd widens
// them to the row's int32 lane. Per 256-block of activations:
// isum = 2 * dot - 3 * sum(q), acc = fma(d * d_act, isum, acc).
#include "kernels/simd/packed_kernels.h"
#include "kernels/x86_avx2/tile_loop.h"

namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE {
namespace {

constexpr int kTokenTile = 4;  // 16 ymm registers: 3 per token plus the codes

// dot[t] = sum of code * q over one 256-block: codes of 16 groups of 32
// bytes against the activations q[t].
#if defined(HY2BIT_AVX_VNNI)
// Even and odd groups sum apart, two independent vpdpbusd chains per token:
// one chain would wait on vpdpbusd's latency at every step.
template <int NT>
void half_block_dots(const uint8_t (*codes)[32], const int8_t* const (&q)[NT], __m256i (&dot)[NT]) {
  const __m256i mask3 = _mm256_set1_epi8(3);
  __m256i sums[2][NT];
  for (auto& per_parity : sums)
    for (__m256i& v : per_parity) v = _mm256_setzero_si256();
#pragma GCC unroll 16
  for (int g = 0; g < 16; ++g) {
    const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(codes[g]));
    for (int j = 0; j < 4; ++j) {
      const __m256i c = _mm256_and_si256(j == 0 ? v : _mm256_srli_epi16(v, 2 * j), mask3);
      for (int t = 0; t < NT; ++t)
        sums[g % 2][t] = products_add(sums[g % 2][t], c, broadcast_dword(q[t] + 16 * g + 4 * j));
    }
  }
  for (int t = 0; t < NT; ++t) dot[t] = _mm256_add_epi32(sums[0][t], sums[1][t]);
}
#else
// Int16 pair sums of 8 groups at a time, then widened.
template <int NT>
void half_block_dots(const uint8_t (*codes)[32], const int8_t* const (&q)[NT], __m256i (&dot)[NT]) {
  const __m256i mask3 = _mm256_set1_epi8(3);
  for (int t = 0; t < NT; ++t) dot[t] = _mm256_setzero_si256();
  for (int part = 0; part < 2; ++part) {
    __m256i pairs[NT];
    for (int t = 0; t < NT; ++t) pairs[t] = _mm256_setzero_si256();
    for (int g = 8 * part; g < 8 * part + 8; ++g) {
      const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(codes[g]));
      const __m256i c0 = _mm256_and_si256(v, mask3);
      const __m256i c1 = _mm256_and_si256(_mm256_srli_epi16(v, 2), mask3);
      const __m256i c2 = _mm256_and_si256(_mm256_srli_epi16(v, 4), mask3);
      const __m256i c3 = _mm256_and_si256(_mm256_srli_epi16(v, 6), mask3);
      for (int t = 0; t < NT; ++t) {
        const int8_t* qg = q[t] + 16 * g;
        pairs[t] = products_add(pairs[t], c0, broadcast_dword(qg));
        pairs[t] = products_add(pairs[t], c1, broadcast_dword(qg + 4));
        pairs[t] = products_add(pairs[t], c2, broadcast_dword(qg + 8));
        pairs[t] = products_add(pairs[t], c3, broadcast_dword(qg + 12));
      }
    }
    for (int t = 0; t < NT; ++t) dot[t] = _mm256_add_epi32(dot[t], products_to_int32(pairs[t]));
  }
}
#endif

template <int NT>
void tile_tokens(const Q2_0CTiles& w, const ActsQ8& acts, int64_t tile, int64_t t0, float* y,
                 int64_t ldy, int valid_rows) {
  const int64_t n_cols = acts.n_cols;
  const int64_t n_act_blocks = n_cols / kActBlockQ8K;
  const PackedD<kRows>* heads = w.heads + tile * w.n_blocks;
  const PackedQ2_0C<kRows>* blocks = w.blocks + tile * w.n_blocks;

  __m256 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t i = 0; i < w.n_blocks; ++i) {
    const __m256 d = load_f16x8(heads[i].d);
    for (int half = 0; half < 2; ++half) {
      const int64_t b = 2 * i + half;
      const int8_t* q[NT];  // the tokens' activations of this block
      for (int t = 0; t < NT; ++t) q[t] = acts.qs + (t0 + t) * n_cols + b * kActBlockQ8K;
      __m256i dot[NT];
      half_block_dots<NT>(&blocks[i].qs[16 * half], q, dot);
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

#if defined(HY2BIT_AVX_VNNI)
// Decode (one token) with AVX-VNNI, as in the AVX-512 kernel: field j of
// every code byte stays in place, so (v & mask_j) is 4^j times the code;
// vpdpbusd sums it exactly in int32 (no int16 pairs to overflow) and the
// factor comes out once per block. NTILES tiles share each broadcast, and
// each (tile, field) has its own accumulator, so no vpdpbusd waits for the
// previous one: 2 x 4 accumulators, 4 masks and a broadcast fit 16 ymm.
// How far ahead decode prefetches each tile's codes: without it the two
// streams ran at 15 GB/s, with 2 KiB at 20-22 (1 and 4 KiB were slower).
constexpr int kPrefetchBytes = 2048;

template <int NTILES>
void tiles_one_token(const Q2_0CTiles& w, const ActsQ8& acts, int64_t tile, float* y,
                     int valid_rows_last) {
  const __m256i mask[4] = {_mm256_set1_epi8(0x03), _mm256_set1_epi8(0x0C), _mm256_set1_epi8(0x30),
                           _mm256_set1_epi8(static_cast<char>(0xC0))};
  __m256 acc[NTILES];
  for (__m256& a : acc) a = _mm256_setzero_ps();
  for (int64_t i = 0; i < w.n_blocks; ++i) {
    for (int half = 0; half < 2; ++half) {
      const int64_t b = 2 * i + half;  // activation block
      const int8_t* qb = acts.qs + b * kActBlockQ8K;
      __m256i dot[NTILES][4];
      for (auto& per_tile : dot)
        for (__m256i& v : per_tile) v = _mm256_setzero_si256();
#pragma GCC unroll 16
      for (int g = 0; g < 16; ++g) {
        for (int j = 0; j < 4; ++j) {
          const __m256i a = broadcast_dword(qb + 16 * g + 4 * j);
          for (int n = 0; n < NTILES; ++n) {
            const uint8_t* codes = w.blocks[(tile + n) * w.n_blocks + i].qs[16 * half + g];
            if (j == 0 && g % 2 == 0)  // once per 64-byte line
              _mm_prefetch(reinterpret_cast<const char*>(codes) + kPrefetchBytes, _MM_HINT_T0);
            const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(codes));
            dot[n][j] = products_add(dot[n][j], _mm256_and_si256(v, mask[j]), a);
          }
        }
      }
      const __m256 act_scale = _mm256_set1_ps(acts.d[b]);
      const __m256i three_sum = _mm256_set1_epi32(3 * acts.sums[b]);
      for (int n = 0; n < NTILES; ++n) {
        // 2 * sum_j dot[j] / 4^j, each term exact.
        const __m256i twice_dot = _mm256_add_epi32(
            _mm256_add_epi32(_mm256_slli_epi32(dot[n][0], 1), _mm256_srai_epi32(dot[n][1], 1)),
            _mm256_add_epi32(_mm256_srai_epi32(dot[n][2], 3), _mm256_srai_epi32(dot[n][3], 5)));
        const __m256 d = load_f16x8(w.heads[(tile + n) * w.n_blocks + i].d);
        acc[n] = _mm256_fmadd_ps(_mm256_mul_ps(d, act_scale),
                                 _mm256_cvtepi32_ps(_mm256_sub_epi32(twice_dot, three_sum)), acc[n]);
      }
    }
  }
  for (int n = 0; n < NTILES; ++n)
    store_rows(y + (tile + n) * kRows, acc[n], n + 1 == NTILES ? valid_rows_last : kRows);
}
#endif

}  // namespace

void gemm_q2_0c(const Q2_0CTiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end,
                float* y, int64_t ldy) {
#if defined(HY2BIT_AVX_VNNI)
  if (acts.n_tokens == 1) {
    constexpr int kDecodeTiles = 2;
    const int64_t tile_end = (row_end + kRows - 1) / kRows;
    const int last_rows = static_cast<int>(row_end - (tile_end - 1) * kRows);
    int64_t tile = row_begin / kRows;
    for (; tile + kDecodeTiles <= tile_end; tile += kDecodeTiles)
      tiles_one_token<kDecodeTiles>(w, acts, tile, y,
                                    tile + kDecodeTiles == tile_end ? last_rows : kRows);
    for (; tile < tile_end; ++tile)
      tiles_one_token<1>(w, acts, tile, y, tile + 1 == tile_end ? last_rows : kRows);
    return;
  }
#endif
  for_each_tile<kTokenTile>(row_begin, row_end, acts.n_tokens,
                            [&]<int NT>(int64_t tile, int64_t t0, int valid_rows) {
                              tile_tokens<NT>(w, acts, tile, t0, y, ldy, valid_rows);
                            });
}

TypeKernels q2_0c_kernels() {
  using Head = PackedD<kRows>;
  using Block = PackedQ2_0C<kRows>;
  const RepackFn repack = [](const WeightView& v, std::span<uint8_t> out) {
    repack_q2_0c(v, kRows, out);
  };
  return simd::packed_kernels<kRows, Head, Block, gemm_q2_0c>(
      quantize_acts_q8k, kActBlockQ8K, 0, repack);
}

}  // namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE
