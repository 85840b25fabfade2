// NEON Q4_0 GEMM. Layout (packed_layouts.h, R = 8): per tile and 32-block,
// 8 fp16 d and 4 groups of 32 bytes (rows 0-3, rows 4-7); byte m of row r's
// dword holds the nibble of k = 8g + m (low) and k = 8g + 4 + m (high).
// Nibbles 0..15 are valid s8, so sdot by element (or smmla, zipping a group's
// low and high nibbles into 2 rows x 8 k) gives sum(n * q) exactly;
// isum = dot - 8 * sum(q), acc = fma(d * d_act, isum, acc), as scalar.
#include "kernels/arm_neon/tile_loop.h"
#include "kernels/simd/packed_kernels.h"

namespace hy2bit::kernels::neon {
namespace {

constexpr int kDotTokenTile = 4;
constexpr int kMmlaTokenTile = 8;

// Low and high nibbles of one 16-byte group vector (k = 8g + m, 8g + 4 + m).
struct Nibbles {
  int8x16_t low, high;
};
inline Nibbles unpack_4bit(const uint8_t* p) {
  const uint8x16_t v = vld1q_u8(p);
  return {vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(0x0F))), vreinterpretq_s8_u8(vshrq_n_u8(v, 4))};
}

template <int NT>
void dot_tile(const Q4_0Tiles& w, const ActsQ8& acts, int64_t tile, int64_t t0, float* y,
              int64_t ldy, int valid_rows) {
  constexpr int kSplit = NT == 1 ? 2 : 1;
  const int64_t n_cols = acts.n_cols;
  const PackedD<kRows>* heads = w.heads + tile * w.n_blocks;
  const PackedQ4_0<kRows>* blocks = w.blocks + tile * w.n_blocks;

  F32x8 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
  for (int64_t i = 0; i < w.n_blocks; ++i) {
    const F32x8 d = load_f16x8(heads[i].d);
    int32x4_t dot[NT][2][kSplit];
    for (int t = 0; t < NT; ++t)
      for (int h = 0; h < 2; ++h)
        for (int s = 0; s < kSplit; ++s) dot[t][h][s] = vdupq_n_s32(0);
    for (int u = 0; u < 2; ++u) {  // k = 16u .. 16u + 15: groups 2u, 2u + 1
      Quad quad[2];                // rows 0-3, rows 4-7
      for (int h = 0; h < 2; ++h) {
        const Nibbles n0 = unpack_4bit(blocks[i].qs[2 * u] + 16 * h);
        const Nibbles n1 = unpack_4bit(blocks[i].qs[2 * u + 1] + 16 * h);
        quad[h] = {{n0.low, n0.high, n1.low, n1.high}};
      }
      for (int t = 0; t < NT; ++t) {
        const int8x16_t a = vld1q_s8(acts.qs + (t0 + t) * n_cols + 32 * i + 16 * u);
        dot_quad<kSplit>(dot[t][0], quad[0], a);
        dot_quad<kSplit>(dot[t][1], quad[1], a);
      }
    }
    for (int t = 0; t < NT; ++t) {
      const int64_t ab = (t0 + t) * w.n_blocks + i;
      const float32x4_t act_d = vdupq_n_f32(acts.d[ab]);
      const int32x4_t sum8 = vdupq_n_s32(8 * acts.sums[ab]);
      const int32x4_t isum_lo = vsubq_s32(sum_split<kSplit>(dot[t][0]), sum8);
      const int32x4_t isum_hi = vsubq_s32(sum_split<kSplit>(dot[t][1]), sum8);
      acc[t].lo = vfmaq_f32(acc[t].lo, vmulq_f32(d.lo, act_d), vcvtq_f32_s32(isum_lo));
      acc[t].hi = vfmaq_f32(acc[t].hi, vmulq_f32(d.hi, act_d), vcvtq_f32_s32(isum_hi));
    }
  }
  for (int t = 0; t < NT; ++t) store_rows(y + (t0 + t) * ldy + tile * kRows, acc[t], valid_rows);
}

// Token pairs with smmla (result lanes as in q2_0c.cpp's mmla_tile).
template <int NP>
void mmla_tile(const Q4_0Tiles& w, const ActsQ8& acts, int64_t tile, int64_t t0, float* y,
               int64_t ldy, int valid_rows) {
  const int64_t n_cols = acts.n_cols;
  const PackedD<kRows>* heads = w.heads + tile * w.n_blocks;
  const PackedQ4_0<kRows>* blocks = w.blocks + tile * w.n_blocks;

  float32x4_t acc[NP][4];
  for (int p = 0; p < NP; ++p)
    for (int rp = 0; rp < 4; ++rp) acc[p][rp] = vdupq_n_f32(0.0f);
  for (int64_t i = 0; i < w.n_blocks; ++i) {
    const F32x8 d = load_f16x8(heads[i].d);
    float32x4_t d_pair[4];
    row_pairs(d.lo, d_pair);
    row_pairs(d.hi, d_pair + 2);
    int32x4_t dot[NP][4];
    for (int p = 0; p < NP; ++p)
      for (int rp = 0; rp < 4; ++rp) dot[p][rp] = vdupq_n_s32(0);
    for (int u = 0; u < 2; ++u) {  // k = 16u .. 16u + 15: groups 2u, 2u + 1
      // wk[rp][e]: rows 2rp, 2rp+1 x k = 8(2u + e) .. +7 (a group's low then high nibbles).
      int8x16_t wk[4][2];
      for (int e = 0; e < 2; ++e)
        for (int h = 0; h < 2; ++h) {
          const Nibbles n = unpack_4bit(blocks[i].qs[2 * u + e] + 16 * h);
          wk[2 * h][e] = rows_01(n.low, n.high);
          wk[2 * h + 1][e] = rows_23(n.low, n.high);
        }
      for (int p = 0; p < NP; ++p) {
        const int8_t* q0 = acts.qs + (t0 + 2 * p) * n_cols + 32 * i + 16 * u;
        const ActPair a = act_pair(q0, q0 + n_cols);
        for (int rp = 0; rp < 4; ++rp) {
          dot[p][rp] = vmmlaq_s32(dot[p][rp], wk[rp][0], a.lo);
          dot[p][rp] = vmmlaq_s32(dot[p][rp], wk[rp][1], a.hi);
        }
      }
    }
    for (int p = 0; p < NP; ++p) {
      const int64_t ab0 = (t0 + 2 * p) * w.n_blocks + i, ab1 = ab0 + w.n_blocks;
      const float32x4_t act_d = token_pair(acts.d[ab0], acts.d[ab1]);
      const int32x4_t sum8 = token_pair(8 * acts.sums[ab0], 8 * acts.sums[ab1]);
      for (int rp = 0; rp < 4; ++rp)
        acc[p][rp] = vfmaq_f32(acc[p][rp], vmulq_f32(d_pair[rp], act_d),
                               vcvtq_f32_s32(vsubq_s32(dot[p][rp], sum8)));
    }
  }
  for (int p = 0; p < NP; ++p) {
    float* y0 = y + (t0 + 2 * p) * ldy + tile * kRows;
    store_token_pair(y0, y0 + ldy, acc[p], valid_rows);
  }
}

}  // namespace

void gemm_q4_0(const Q4_0Tiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end, float* y,
               int64_t ldy) {
  for_each_tile<kDotTokenTile>(row_begin, row_end, acts.n_tokens,
                               [&]<int NT>(int64_t tile, int64_t t0, int valid_rows) {
                                 dot_tile<NT>(w, acts, tile, t0, y, ldy, valid_rows);
                               });
}

void gemm_q4_0_i8mm(const Q4_0Tiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end,
                    float* y, int64_t ldy) {
  for_each_tile<kMmlaTokenTile>(row_begin, row_end, acts.n_tokens,
                                [&]<int NT>(int64_t tile, int64_t t0, int valid_rows) {
                                  if constexpr (NT >= 2)
                                    mmla_tile<NT / 2>(w, acts, tile, t0, y, ldy, valid_rows);
                                  if constexpr (NT % 2 == 1)
                                    dot_tile<1>(w, acts, tile, t0 + NT - 1, y, ldy, valid_rows);
                                });
}

TypeKernels q4_0_kernels(bool use_i8mm) {
  using Head = PackedD<kRows>;
  using Block = PackedQ4_0<kRows>;
  const RepackFn repack = [](const WeightView& v, std::span<uint8_t> out) {
    repack_q4_0(v, kRows, out);
  };
  if (use_i8mm)
    return simd::packed_kernels<kRows, Head, Block, gemm_q4_0_i8mm>(
        quantize_acts_q8_0, kActBlockQ8_0, 0, repack);
  return simd::packed_kernels<kRows, Head, Block, gemm_q4_0>(
      quantize_acts_q8_0, kActBlockQ8_0, 0, repack);
}

}  // namespace hy2bit::kernels::neon
