// The avx2 (or avx2_vnni) path's kernel table: every type has a kernel.
#include "kernels/x86_avx2/avx2_kernels.h"

namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE {

KernelTable make_table() {
  return {.isa = HY2BIT_AVX2_ISA_NAME, .f32 = f32_kernels(), .f16 = f16_kernels(), .bf16 = bf16_kernels(),
          .q8_0 = q8_0_kernels(), .q4_0 = q4_0_kernels(), .q6_k = q6_k_kernels(),
          .q2_0c = q2_0c_kernels(), .ops = float_ops()};
}

}  // namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE
