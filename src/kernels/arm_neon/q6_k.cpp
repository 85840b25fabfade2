// NEON Q6_K GEMM. Layout (packed_layouts.h, R = 8): per tile and 256-block a
// head (8 fp16 d, int8 scales[16 groups][8 rows]) and 16 groups of three
// 32-byte vectors (each rows 0-3 then rows 4-7): low nibbles for j = 0,1 and
// j = 2,3, and the high 2-bit pairs, for k = 16g + 4j + m at byte m of row
// r's dword. Unpacked to four q6 code vectors (0..63, valid s8) that match
// the activation dwords of a 16-byte load. Per group:
// isum += scale * (dot - 32 * sum16(q)) (the dot starts from -32 * sum16),
// then per block acc = fma(d * d_act, isum, acc), exactly as scalar.
#include "kernels/arm_neon/tile_loop.h"
#include "kernels/simd/packed_kernels.h"

namespace hy2bit::kernels::neon {
namespace {

constexpr int kDotTokenTile = 4;
// 3 token pairs x 4 row pairs integer sums, 8 weight operands, 4 scale
// pairs and the activation operands fill the 32 q registers.
constexpr int kMmlaTokenTile = 6;

// The q6 codes of one group for 4 rows: p points at that row quad's bytes
// of the group's first vector (the others follow 32 and 64 bytes on).
inline Quad unpack_q6(const uint8_t* p) {
  const uint8x16_t lo01 = vld1q_u8(p), lo23 = vld1q_u8(p + 32), hi = vld1q_u8(p + 64);
  const uint8x16_t low6 = vdupq_n_u8(0x3F);
  // j = 0: low nibble of lo01, hi bits 0-1 at 4-5 (sli inserts hi << 4 above the nibble).
  const uint8x16_t q0 = vandq_u8(vsliq_n_u8(lo01, hi, 4), low6);
  // j = 1: high nibble of lo01 (sri), hi bits 2-3 at 4-5.
  const uint8x16_t q1 = vandq_u8(vsriq_n_u8(vshlq_n_u8(hi, 2), lo01, 4), low6);
  // j = 2: low nibble of lo23, hi bits 4-5 in place (bit select).
  const uint8x16_t q2 = vandq_u8(vbslq_u8(vdupq_n_u8(0x0F), lo23, hi), low6);
  // j = 3: high nibble of lo23, hi bits 6-7 at 4-5 (nothing above after >> 2).
  const uint8x16_t q3 = vsriq_n_u8(vshrq_n_u8(hi, 2), lo23, 4);
  return {{vreinterpretq_s8_u8(q0), vreinterpretq_s8_u8(q1), vreinterpretq_s8_u8(q2),
           vreinterpretq_s8_u8(q3)}};
}

// Group g's int8 scales of the 8 rows widened to int32 (rows 0-3, 4-7).
inline void load_scales(const PackedQ6_KHead<kRows>& head, int g, int32x4_t& lo, int32x4_t& hi) {
  const int16x8_t s = vmovl_s8(vld1_s8(head.scales[g]));
  lo = vmovl_s16(vget_low_s16(s));
  hi = vmovl_high_s16(s);
}

template <int NT>
void dot_tile(const Q6_KTiles& w, const ActsQ8& acts, int64_t tile, int64_t t0, float* y,
              int64_t ldy, int valid_rows) {
  const int64_t n_cols = acts.n_cols;
  const int64_t n_groups_row = n_cols / 16;
  const PackedQ6_KHead<kRows>* heads = w.heads + tile * w.n_blocks;
  const PackedQ6_K<kRows>* blocks = w.blocks + tile * w.n_blocks;

  F32x8 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
  for (int64_t i = 0; i < w.n_blocks; ++i) {
    int32x4_t isum[NT][2];
    for (int t = 0; t < NT; ++t) isum[t][0] = isum[t][1] = vdupq_n_s32(0);
    for (int g = 0; g < 16; ++g) {
      const uint8_t* grp = blocks[i].groups[g][0];
      const Quad lo = unpack_q6(grp), hi = unpack_q6(grp + 16);
      int32x4_t scale_lo, scale_hi;
      load_scales(heads[i], g, scale_lo, scale_hi);
      for (int t = 0; t < NT; ++t) {
        const int8x16_t a = vld1q_s8(acts.qs + (t0 + t) * n_cols + 256 * i + 16 * g);
        const int32x4_t bias = vdupq_n_s32(-32 * acts.sums16[(t0 + t) * n_groups_row + 16 * i + g]);
        int32x4_t dot_lo = bias, dot_hi = bias;
        dot_quad<1>(&dot_lo, lo, a);
        dot_quad<1>(&dot_hi, hi, a);
        isum[t][0] = vmlaq_s32(isum[t][0], dot_lo, scale_lo);
        isum[t][1] = vmlaq_s32(isum[t][1], dot_hi, scale_hi);
      }
    }
    const F32x8 d = load_f16x8(heads[i].d);
    for (int t = 0; t < NT; ++t) {
      const float32x4_t act_d = vdupq_n_f32(acts.d[(t0 + t) * w.n_blocks + i]);
      acc[t].lo = vfmaq_f32(acc[t].lo, vmulq_f32(d.lo, act_d), vcvtq_f32_s32(isum[t][0]));
      acc[t].hi = vfmaq_f32(acc[t].hi, vmulq_f32(d.hi, act_d), vcvtq_f32_s32(isum[t][1]));
    }
  }
  for (int t = 0; t < NT; ++t) store_rows(y + (t0 + t) * ldy + tile * kRows, acc[t], valid_rows);
}

// Token pairs with smmla (result lanes as in q2_0c.cpp's mmla_tile); each
// group's pair sum starts from [-32 sum16(t0), -32 sum16(t1), ...] and is
// scaled by [s_r0, s_r0, s_r1, s_r1] into the block's integer sum.
template <int NP>
void mmla_tile(const Q6_KTiles& w, const ActsQ8& acts, int64_t tile, int64_t t0, float* y,
               int64_t ldy, int valid_rows) {
  const int64_t n_cols = acts.n_cols;
  const int64_t n_groups_row = n_cols / 16;
  const PackedQ6_KHead<kRows>* heads = w.heads + tile * w.n_blocks;
  const PackedQ6_K<kRows>* blocks = w.blocks + tile * w.n_blocks;

  float32x4_t acc[NP][4];
  for (int p = 0; p < NP; ++p)
    for (int rp = 0; rp < 4; ++rp) acc[p][rp] = vdupq_n_f32(0.0f);
  for (int64_t i = 0; i < w.n_blocks; ++i) {
    int32x4_t isum[NP][4];
    for (int p = 0; p < NP; ++p)
      for (int rp = 0; rp < 4; ++rp) isum[p][rp] = vdupq_n_s32(0);
    for (int g = 0; g < 16; ++g) {
      const uint8_t* grp = blocks[i].groups[g][0];
      const Quad lo = unpack_q6(grp), hi = unpack_q6(grp + 16);
      // wk[rp][0]: rows 2rp, 2rp+1 x k = 16g .. +7; wk[rp][1]: k = 16g + 8 .. +15.
      const int8x16_t wk[4][2] = {{rows_01(lo.v[0], lo.v[1]), rows_01(lo.v[2], lo.v[3])},
                                  {rows_23(lo.v[0], lo.v[1]), rows_23(lo.v[2], lo.v[3])},
                                  {rows_01(hi.v[0], hi.v[1]), rows_01(hi.v[2], hi.v[3])},
                                  {rows_23(hi.v[0], hi.v[1]), rows_23(hi.v[2], hi.v[3])}};
      int32x4_t scale_lo, scale_hi, scale_pair[4];
      load_scales(heads[i], g, scale_lo, scale_hi);
      row_pairs(scale_lo, scale_pair);
      row_pairs(scale_hi, scale_pair + 2);
      for (int p = 0; p < NP; ++p) {
        const int64_t t = t0 + 2 * p;
        const int8_t* q0 = acts.qs + t * n_cols + 256 * i + 16 * g;
        const ActPair a = act_pair(q0, q0 + n_cols);
        const int32_t* s16 = acts.sums16 + t * n_groups_row + 16 * i + g;
        const int32x4_t bias = token_pair(-32 * s16[0], -32 * s16[n_groups_row]);
        for (int rp = 0; rp < 4; ++rp) {
          int32x4_t dot = vmmlaq_s32(bias, wk[rp][0], a.lo);
          dot = vmmlaq_s32(dot, wk[rp][1], a.hi);
          isum[p][rp] = vmlaq_s32(isum[p][rp], dot, scale_pair[rp]);
        }
      }
    }
    const F32x8 d = load_f16x8(heads[i].d);
    float32x4_t d_pair[4];
    row_pairs(d.lo, d_pair);
    row_pairs(d.hi, d_pair + 2);
    for (int p = 0; p < NP; ++p) {
      const int64_t ab0 = (t0 + 2 * p) * w.n_blocks + i;
      const float32x4_t act_d = token_pair(acts.d[ab0], acts.d[ab0 + w.n_blocks]);
      for (int rp = 0; rp < 4; ++rp)
        acc[p][rp] =
            vfmaq_f32(acc[p][rp], vmulq_f32(d_pair[rp], act_d), vcvtq_f32_s32(isum[p][rp]));
    }
  }
  for (int p = 0; p < NP; ++p) {
    float* y0 = y + (t0 + 2 * p) * ldy + tile * kRows;
    store_token_pair(y0, y0 + ldy, acc[p], valid_rows);
  }
}

}  // namespace

void gemm_q6_k(const Q6_KTiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end, float* y,
               int64_t ldy) {
  for_each_tile<kDotTokenTile>(row_begin, row_end, acts.n_tokens,
                               [&]<int NT>(int64_t tile, int64_t t0, int valid_rows) {
                                 dot_tile<NT>(w, acts, tile, t0, y, ldy, valid_rows);
                               });
}

void gemm_q6_k_i8mm(const Q6_KTiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end,
                    float* y, int64_t ldy) {
  for_each_tile<kMmlaTokenTile>(row_begin, row_end, acts.n_tokens,
                                [&]<int NT>(int64_t tile, int64_t t0, int valid_rows) {
                                  if constexpr (NT >= 2)
                                    mmla_tile<NT / 2>(w, acts, tile, t0, y, ldy, valid_rows);
                                  if constexpr (NT % 2 == 1)
                                    dot_tile<1>(w, acts, tile, t0 + NT - 1, y, ldy, valid_rows);
                                });
}

TypeKernels q6_k_kernels(bool use_i8mm) {
  using Head = PackedQ6_KHead<kRows>;
  using Block = PackedQ6_K<kRows>;
  const RepackFn repack = [](const WeightView& v, std::span<uint8_t> out) {
    repack_q6_k(v, kRows, out);
  };
  if (use_i8mm)
    return simd::packed_kernels<kRows, Head, Block, gemm_q6_k_i8mm>(
        quantize_acts_q8k, kActBlockQ8K, 0, repack);
  return simd::packed_kernels<kRows, Head, Block, gemm_q6_k>(
      quantize_acts_q8k, kActBlockQ8K, 0, repack);
}

}  // namespace hy2bit::kernels::neon
