// Scalar q2_0c GEMM (the oracle): per row, per 256-element activation block b,
// isum = 2 * sum(c * q) - 3 * sum(q) (weights are 2c - 3 with codes c in 0..3),
// then acc = fma(d_block * d_act[b], float(isum), acc). The file's per-block d
// is used, so rows whose blocks disagree on d still decode as the format says.
#include <cmath>

#include "kernels/scalar/half.h"
#include "kernels/scalar/scalar_kernels.h"

namespace hy2bit::kernels::scalar {

using formats::BlockQ2_0C;

void gemm_q2_0c(std::span<const BlockQ2_0C> w, const ActsQ8& acts, int64_t row_begin,
                int64_t row_end, float* y, int64_t ldy) {
  const int64_t n_blocks = acts.n_cols / BlockQ2_0C::kElems;
  const int64_t n_act_blocks = acts.n_cols / kActBlockQ8K;
  for (int64_t r = row_begin; r < row_end; ++r) {
    const BlockQ2_0C* row = w.data() + r * n_blocks;
    for (int64_t t = 0; t < acts.n_tokens; ++t) {
      const int8_t* q = acts.qs + t * acts.n_cols;
      const float* act_d = acts.d + t * n_act_blocks;
      const int32_t* act_sum = acts.sums + t * n_act_blocks;
      float acc = 0.0f;
      for (int64_t i = 0; i < n_blocks; ++i) {
        const float d = half_to_f32(row[i].d);
        for (int half = 0; half < 2; ++half) {
          const int64_t b = 2 * i + half;
          const uint8_t* codes = row[i].qs + 64 * half;
          const int8_t* qb = q + b * kActBlockQ8K;
          int32_t dot = 0;
          for (int byte = 0; byte < 64; ++byte)
            for (int s = 0; s < 4; ++s) dot += ((codes[byte] >> (2 * s)) & 3) * qb[4 * byte + s];
          const int32_t isum = 2 * dot - 3 * act_sum[b];
          acc = std::fma(d * act_d[b], static_cast<float>(isum), acc);
        }
      }
      y[t * ldy + r] = acc;
    }
  }
}

TypeKernels q2_0c_kernels() {
  TypeKernels k;
  k.quantize = quantize_acts_q8k;
  k.act_block = kActBlockQ8K;
  k.gemm = [](const GemmArgs& a, int64_t row_begin, int64_t row_end) {
    const WeightView& v = a.w->view();
    const std::span<const BlockQ2_0C> blocks(reinterpret_cast<const BlockQ2_0C*>(v.data.data()),
                                             v.data.size() / sizeof(BlockQ2_0C));
    gemm_q2_0c(blocks, *a.acts, row_begin, row_end, a.y, a.ldy);
  };
  return k;
}

}  // namespace hy2bit::kernels::scalar
