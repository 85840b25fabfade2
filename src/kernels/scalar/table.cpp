// The scalar path's kernel table: every type, no repack, row tile 1.
#include "kernels/scalar/scalar_kernels.h"

namespace hy2bit::kernels::scalar {

KernelTable make_table() {
  return {.isa = "scalar", .f32 = f32_kernels(), .f16 = f16_kernels(), .bf16 = bf16_kernels(),
          .q8_0 = q8_0_kernels(), .q4_0 = q4_0_kernels(), .q6_k = q6_k_kernels(),
          .q2_0c = q2_0c_kernels(), .ops = float_ops()};
}

}  // namespace hy2bit::kernels::scalar
