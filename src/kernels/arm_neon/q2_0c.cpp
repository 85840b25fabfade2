// NEON q2_0c GEMM. Layout (packed_layouts.h, R = 8): per tile of 8 rows and
// 512-block, 32 groups of 32 bytes (rows 0-3, rows 4-7); byte m of row r's
// dword holds at bits 2j the code of k = 16g + 4j + m. Shifts by 0/2/4/6 and
// a mask give four code vectors (codes 0..3, valid s8), each matching one
// activation dword of a 16-byte load. Per 256-block of activations:
// isum = 2 * dot - 3 * sum(q), acc = fma(d * d_act, isum, acc), as scalar.
// sdot by element for single tokens (and all tokens on "neon"); smmla on
// token pairs for "neon_i8mm" prefill (see neon_kernels.h).
#include "kernels/arm_neon/tile_loop.h"
#include "kernels/simd/packed_kernels.h"

namespace hy2bit::kernels::neon {
namespace {

// sdot kernel: 2 x NT x kSplit integer accumulators, 2 x NT f32 sums and 8
// code vectors fit the 32 q registers up to 4 tokens.
constexpr int kDotTokenTile = 4;
// smmla kernel: 4 token pairs x 4 row pairs integer accumulators and 8
// weight operands; the f32 sums (touched once per 256 k) may live in L1.
constexpr int kMmlaTokenTile = 8;

// Tokens [t0, t0 + NT) against one tile of 8 rows with sdot by element.
template <int NT>
void dot_tile(const Q2_0CTiles& w, const ActsQ8& acts, int64_t tile, int64_t t0, float* y,
              int64_t ldy, int valid_rows) {
  constexpr int kSplit = NT == 1 ? 4 : (NT == 2 ? 2 : 1);  // chains per row half
  const int64_t n_cols = acts.n_cols;
  const int64_t n_act_blocks = n_cols / kActBlockQ8K;
  const PackedD<kRows>* heads = w.heads + tile * w.n_blocks;
  const PackedQ2_0C<kRows>* blocks = w.blocks + tile * w.n_blocks;

  F32x8 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
  for (int64_t i = 0; i < w.n_blocks; ++i) {
    const F32x8 d = load_f16x8(heads[i].d);
    for (int half = 0; half < 2; ++half) {
      const int64_t b = 2 * i + half;  // activation block
      const int8_t* q[NT];
      for (int t = 0; t < NT; ++t) q[t] = acts.qs + (t0 + t) * n_cols + b * kActBlockQ8K;
      int32x4_t dot[NT][2][kSplit];
      for (int t = 0; t < NT; ++t)
        for (int h = 0; h < 2; ++h)
          for (int s = 0; s < kSplit; ++s) dot[t][h][s] = vdupq_n_s32(0);
      for (int g = 0; g < 16; ++g) {
        const uint8_t* codes = blocks[i].qs[16 * half + g];
        const Quad lo = unpack_2bit(vld1q_u8(codes));       // rows 0-3
        const Quad hi = unpack_2bit(vld1q_u8(codes + 16));  // rows 4-7
        for (int t = 0; t < NT; ++t) {
          const int8x16_t a = vld1q_s8(q[t] + 16 * g);  // k = 16g .. 16g + 15 of this block
          dot_quad<kSplit>(dot[t][0], lo, a);
          dot_quad<kSplit>(dot[t][1], hi, a);
        }
      }
      for (int t = 0; t < NT; ++t) {
        const int64_t ab = (t0 + t) * n_act_blocks + b;
        const float32x4_t act_d = vdupq_n_f32(acts.d[ab]);
        const int32x4_t sum3 = vdupq_n_s32(3 * acts.sums[ab]);
        const int32x4_t isum_lo = vsubq_s32(vshlq_n_s32(sum_split<kSplit>(dot[t][0]), 1), sum3);
        const int32x4_t isum_hi = vsubq_s32(vshlq_n_s32(sum_split<kSplit>(dot[t][1]), 1), sum3);
        acc[t].lo = vfmaq_f32(acc[t].lo, vmulq_f32(d.lo, act_d), vcvtq_f32_s32(isum_lo));
        acc[t].hi = vfmaq_f32(acc[t].hi, vmulq_f32(d.hi, act_d), vcvtq_f32_s32(isum_hi));
      }
    }
  }
  for (int t = 0; t < NT; ++t) store_rows(y + (t0 + t) * ldy + tile * kRows, acc[t], valid_rows);
}

// Token pairs [t0 + 2p, t0 + 2p + 1], p < NP, against one tile of 8 rows with
// smmla. dot[p][rp] holds [r0 t0, r0 t1, r1 t0, r1 t1] for rows 2rp, 2rp + 1.
template <int NP>
void mmla_tile(const Q2_0CTiles& w, const ActsQ8& acts, int64_t tile, int64_t t0, float* y,
               int64_t ldy, int valid_rows) {
  const int64_t n_cols = acts.n_cols;
  const int64_t n_act_blocks = n_cols / kActBlockQ8K;
  const PackedD<kRows>* heads = w.heads + tile * w.n_blocks;
  const PackedQ2_0C<kRows>* blocks = w.blocks + tile * w.n_blocks;

  float32x4_t acc[NP][4];
  for (int p = 0; p < NP; ++p)
    for (int rp = 0; rp < 4; ++rp) acc[p][rp] = vdupq_n_f32(0.0f);
  for (int64_t i = 0; i < w.n_blocks; ++i) {
    const F32x8 d = load_f16x8(heads[i].d);
    float32x4_t d_pair[4];  // [d_r0, d_r0, d_r1, d_r1] per row pair
    row_pairs(d.lo, d_pair);
    row_pairs(d.hi, d_pair + 2);
    for (int half = 0; half < 2; ++half) {
      const int64_t b = 2 * i + half;  // activation block
      const int8_t* q[2 * NP];
      for (int t = 0; t < 2 * NP; ++t) q[t] = acts.qs + (t0 + t) * n_cols + b * kActBlockQ8K;
      int32x4_t dot[NP][4];
      for (int p = 0; p < NP; ++p)
        for (int rp = 0; rp < 4; ++rp) dot[p][rp] = vdupq_n_s32(0);
      for (int g = 0; g < 16; ++g) {
        const uint8_t* codes = blocks[i].qs[16 * half + g];
        const Quad lo = unpack_2bit(vld1q_u8(codes));
        const Quad hi = unpack_2bit(vld1q_u8(codes + 16));
        // wk[rp][0]: rows 2rp, 2rp+1 x k = 16g .. +7; wk[rp][1]: k = 16g + 8 .. +15.
        const int8x16_t wk[4][2] = {{rows_01(lo.v[0], lo.v[1]), rows_01(lo.v[2], lo.v[3])},
                                    {rows_23(lo.v[0], lo.v[1]), rows_23(lo.v[2], lo.v[3])},
                                    {rows_01(hi.v[0], hi.v[1]), rows_01(hi.v[2], hi.v[3])},
                                    {rows_23(hi.v[0], hi.v[1]), rows_23(hi.v[2], hi.v[3])}};
        for (int p = 0; p < NP; ++p) {
          const ActPair a = act_pair(q[2 * p] + 16 * g, q[2 * p + 1] + 16 * g);
          for (int rp = 0; rp < 4; ++rp) {
            dot[p][rp] = vmmlaq_s32(dot[p][rp], wk[rp][0], a.lo);
            dot[p][rp] = vmmlaq_s32(dot[p][rp], wk[rp][1], a.hi);
          }
        }
      }
      for (int p = 0; p < NP; ++p) {
        const int64_t ab0 = (t0 + 2 * p) * n_act_blocks + b, ab1 = ab0 + n_act_blocks;
        const float32x4_t act_d = token_pair(acts.d[ab0], acts.d[ab1]);
        const int32x4_t sum3 = token_pair(3 * acts.sums[ab0], 3 * acts.sums[ab1]);
        for (int rp = 0; rp < 4; ++rp) {
          const int32x4_t isum = vsubq_s32(vshlq_n_s32(dot[p][rp], 1), sum3);
          acc[p][rp] = vfmaq_f32(acc[p][rp], vmulq_f32(d_pair[rp], act_d), vcvtq_f32_s32(isum));
        }
      }
    }
  }
  for (int p = 0; p < NP; ++p) {
    float* y0 = y + (t0 + 2 * p) * ldy + tile * kRows;
    store_token_pair(y0, y0 + ldy, acc[p], valid_rows);
  }
}

}  // namespace

void gemm_q2_0c(const Q2_0CTiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end,
                float* y, int64_t ldy) {
  for_each_tile<kDotTokenTile>(row_begin, row_end, acts.n_tokens,
                               [&]<int NT>(int64_t tile, int64_t t0, int valid_rows) {
                                 dot_tile<NT>(w, acts, tile, t0, y, ldy, valid_rows);
                               });
}

void gemm_q2_0c_i8mm(const Q2_0CTiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end,
                     float* y, int64_t ldy) {
  for_each_tile<kMmlaTokenTile>(row_begin, row_end, acts.n_tokens,
                                [&]<int NT>(int64_t tile, int64_t t0, int valid_rows) {
                                  if constexpr (NT >= 2)
                                    mmla_tile<NT / 2>(w, acts, tile, t0, y, ldy, valid_rows);
                                  if constexpr (NT % 2 == 1)
                                    dot_tile<1>(w, acts, tile, t0 + NT - 1, y, ldy, valid_rows);
                                });
}

TypeKernels q2_0c_kernels(bool use_i8mm) {
  using Head = PackedD<kRows>;
  using Block = PackedQ2_0C<kRows>;
  const RepackFn repack = [](const WeightView& v, std::span<uint8_t> out) {
    repack_q2_0c(v, kRows, out);
  };
  if (use_i8mm)
    return simd::packed_kernels<kRows, Head, Block, gemm_q2_0c_i8mm>(
        quantize_acts_q8k, kActBlockQ8K, 0, repack);
  return simd::packed_kernels<kRows, Head, Block, gemm_q2_0c>(
      quantize_acts_q8k, kActBlockQ8K, 0, repack);
}

}  // namespace hy2bit::kernels::neon
