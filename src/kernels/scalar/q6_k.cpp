// Scalar Q6_K GEMM (the oracle): per row and 256-element block,
// isum = sum over 16 groups g of scale_g * (sum(q6 * q) - 32 * sum(q)) with the
// unsigned 6-bit codes q6, then acc = fma(d * d_act, float(isum), acc).
#include <cmath>

#include "kernels/scalar/half.h"
#include "kernels/scalar/scalar_kernels.h"

namespace hy2bit::kernels::scalar {

using formats::BlockQ6_K;

namespace {

// Integer dot of one Q6_K block with 256 activations (see blocks.h layout).
int32_t block_dot(const BlockQ6_K& b, const int8_t* q, const int32_t* sums16) {
  int32_t group_dot[16] = {};
  for (int half = 0; half < 2; ++half) {
    const uint8_t* ql = b.ql + 64 * half;
    const uint8_t* qh = b.qh + 32 * half;
    for (int l = 0; l < 32; ++l) {
      const int q6[4] = {
          (ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4),
          (ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4),
          (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4),
          (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4),
      };
      for (int quarter = 0; quarter < 4; ++quarter) {
        const int k = 128 * half + 32 * quarter + l;
        group_dot[k / 16] += q6[quarter] * q[k];
      }
    }
  }
  int32_t isum = 0;
  for (int g = 0; g < 16; ++g) isum += b.scales[g] * (group_dot[g] - 32 * sums16[g]);
  return isum;
}

}  // namespace

void gemm_q6_k(std::span<const BlockQ6_K> w, const ActsQ8& acts, int64_t row_begin, int64_t row_end,
               float* y, int64_t ldy) {
  const int64_t n_blocks = acts.n_cols / BlockQ6_K::kElems;
  for (int64_t r = row_begin; r < row_end; ++r) {
    const BlockQ6_K* row = w.data() + r * n_blocks;
    for (int64_t t = 0; t < acts.n_tokens; ++t) {
      const int8_t* q = acts.qs + t * acts.n_cols;
      const float* act_d = acts.d + t * n_blocks;
      const int32_t* sums16 = acts.sums16 + t * (acts.n_cols / 16);
      float acc = 0.0f;
      for (int64_t b = 0; b < n_blocks; ++b) {
        const int32_t isum = block_dot(row[b], q + 256 * b, sums16 + 16 * b);
        acc = std::fma(half_to_f32(row[b].d) * act_d[b], static_cast<float>(isum), acc);
      }
      y[t * ldy + r] = acc;
    }
  }
}

TypeKernels q6_k_kernels() {
  TypeKernels k;
  k.quantize = quantize_acts_q8k;
  k.act_block = kActBlockQ8K;
  k.gemm = [](const GemmArgs& a, int64_t row_begin, int64_t row_end) {
    const WeightView& v = a.w->view();
    const std::span<const BlockQ6_K> blocks(reinterpret_cast<const BlockQ6_K*>(v.data.data()),
                                            v.data.size() / sizeof(BlockQ6_K));
    gemm_q6_k(blocks, *a.acts, row_begin, row_end, a.y, a.ldy);
  };
  return k;
}

}  // namespace hy2bit::kernels::scalar
