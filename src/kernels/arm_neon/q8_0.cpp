// NEON Q8_0 GEMM. Layout (packed_layouts.h, R = 8, signed weights): per tile
// and 32-block, 8 fp16 d and 8 groups of 32 bytes (rows 0-3, rows 4-7), row
// r's dword holding the int8 weights of k = 4g .. 4g + 3. Groups 4u .. 4u + 3
// match activation dwords 0..3 of the 16-byte load at k = 16u, so sdot by
// element (or smmla after zipping groups 2v, 2v + 1) multiplies s8 x s8
// directly: isum = sum(w * q) exactly, then acc = fma(d * d_act, isum, acc).
#include "kernels/arm_neon/tile_loop.h"
#include "kernels/simd/packed_kernels.h"

namespace hy2bit::kernels::neon {
namespace {

constexpr int kDotTokenTile = 4;
constexpr int kMmlaTokenTile = 8;

// The two quads (rows 0-3, rows 4-7) of groups 4u .. 4u + 3 of a block.
inline void load_quads(const PackedQ8_0<kRows>& block, int u, Quad& lo, Quad& hi) {
  for (int j = 0; j < 4; ++j) {
    lo.v[j] = vld1q_s8(reinterpret_cast<const int8_t*>(block.qs[4 * u + j]));
    hi.v[j] = vld1q_s8(reinterpret_cast<const int8_t*>(block.qs[4 * u + j] + 16));
  }
}

template <int NT>
void dot_tile(const Q8_0Tiles& w, const ActsQ8& acts, int64_t tile, int64_t t0, float* y,
              int64_t ldy, int valid_rows) {
  constexpr int kSplit = NT == 1 ? 2 : 1;
  const int64_t n_cols = acts.n_cols;
  const PackedD<kRows>* heads = w.heads + tile * w.n_blocks;
  const PackedQ8_0<kRows>* blocks = w.blocks + tile * w.n_blocks;

  F32x8 acc[NT];
  for (int t = 0; t < NT; ++t) acc[t] = {vdupq_n_f32(0.0f), vdupq_n_f32(0.0f)};
  for (int64_t i = 0; i < w.n_blocks; ++i) {
    const F32x8 d = load_f16x8(heads[i].d);
    int32x4_t dot[NT][2][kSplit];
    for (int t = 0; t < NT; ++t)
      for (int h = 0; h < 2; ++h)
        for (int s = 0; s < kSplit; ++s) dot[t][h][s] = vdupq_n_s32(0);
    for (int u = 0; u < 2; ++u) {  // k = 16u .. 16u + 15 of the block
      Quad lo, hi;
      load_quads(blocks[i], u, lo, hi);
      for (int t = 0; t < NT; ++t) {
        const int8x16_t a = vld1q_s8(acts.qs + (t0 + t) * n_cols + 32 * i + 16 * u);
        dot_quad<kSplit>(dot[t][0], lo, a);
        dot_quad<kSplit>(dot[t][1], hi, a);
      }
    }
    for (int t = 0; t < NT; ++t) {
      const float32x4_t act_d = vdupq_n_f32(acts.d[(t0 + t) * w.n_blocks + i]);
      acc[t].lo = vfmaq_f32(acc[t].lo, vmulq_f32(d.lo, act_d),
                            vcvtq_f32_s32(sum_split<kSplit>(dot[t][0])));
      acc[t].hi = vfmaq_f32(acc[t].hi, vmulq_f32(d.hi, act_d),
                            vcvtq_f32_s32(sum_split<kSplit>(dot[t][1])));
    }
  }
  for (int t = 0; t < NT; ++t) store_rows(y + (t0 + t) * ldy + tile * kRows, acc[t], valid_rows);
}

// Token pairs with smmla (result lanes as in q2_0c.cpp's mmla_tile).
template <int NP>
void mmla_tile(const Q8_0Tiles& w, const ActsQ8& acts, int64_t tile, int64_t t0, float* y,
               int64_t ldy, int valid_rows) {
  const int64_t n_cols = acts.n_cols;
  const PackedD<kRows>* heads = w.heads + tile * w.n_blocks;
  const PackedQ8_0<kRows>* blocks = w.blocks + tile * w.n_blocks;

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
    for (int u = 0; u < 2; ++u) {
      Quad lo, hi;
      load_quads(blocks[i], u, lo, hi);
      // wk[rp][0]: rows 2rp, 2rp+1 x k = 16u .. +7; wk[rp][1]: k = 16u + 8 .. +15.
      const int8x16_t wk[4][2] = {{rows_01(lo.v[0], lo.v[1]), rows_01(lo.v[2], lo.v[3])},
                                  {rows_23(lo.v[0], lo.v[1]), rows_23(lo.v[2], lo.v[3])},
                                  {rows_01(hi.v[0], hi.v[1]), rows_01(hi.v[2], hi.v[3])},
                                  {rows_23(hi.v[0], hi.v[1]), rows_23(hi.v[2], hi.v[3])}};
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
      const int64_t ab0 = (t0 + 2 * p) * w.n_blocks + i;
      const float32x4_t act_d = token_pair(acts.d[ab0], acts.d[ab0 + w.n_blocks]);
      for (int rp = 0; rp < 4; ++rp)
        acc[p][rp] =
            vfmaq_f32(acc[p][rp], vmulq_f32(d_pair[rp], act_d), vcvtq_f32_s32(dot[p][rp]));
    }
  }
  for (int p = 0; p < NP; ++p) {
    float* y0 = y + (t0 + 2 * p) * ldy + tile * kRows;
    store_token_pair(y0, y0 + ldy, acc[p], valid_rows);
  }
}

}  // namespace

void gemm_q8_0(const Q8_0Tiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end, float* y,
               int64_t ldy) {
  for_each_tile<kDotTokenTile>(row_begin, row_end, acts.n_tokens,
                               [&]<int NT>(int64_t tile, int64_t t0, int valid_rows) {
                                 dot_tile<NT>(w, acts, tile, t0, y, ldy, valid_rows);
                               });
}

void gemm_q8_0_i8mm(const Q8_0Tiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end,
                    float* y, int64_t ldy) {
  for_each_tile<kMmlaTokenTile>(row_begin, row_end, acts.n_tokens,
                                [&]<int NT>(int64_t tile, int64_t t0, int valid_rows) {
                                  if constexpr (NT >= 2)
                                    mmla_tile<NT / 2>(w, acts, tile, t0, y, ldy, valid_rows);
                                  if constexpr (NT % 2 == 1)
                                    dot_tile<1>(w, acts, tile, t0 + NT - 1, y, ldy, valid_rows);
                                });
}

TypeKernels q8_0_kernels(bool use_i8mm) {
  using Head = PackedD<kRows>;
  using Block = PackedQ8_0<kRows>;
  const RepackFn repack = [](const WeightView& v, std::span<uint8_t> out) {
    repack_q8_0(v, kRows, /*offset_binary=*/false, out);
  };
  if (use_i8mm)
    return simd::packed_kernels<kRows, Head, Block, gemm_q8_0_i8mm>(
        quantize_acts_q8_0, kActBlockQ8_0, 0, repack);
  return simd::packed_kernels<kRows, Head, Block, gemm_q8_0>(
      quantize_acts_q8_0, kActBlockQ8_0, 0, repack);
}

}  // namespace hy2bit::kernels::neon
