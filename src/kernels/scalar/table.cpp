// The scalar path's kernel table: every type, no repack, row tile 1.
#include "kernels/scalar/scalar_kernels.h"

namespace hy2bit::kernels::scalar {

KernelTable make_table() {
  KernelTable t;
  t.isa = "scalar";
  t.f32 = f32_kernels();
  t.f16 = f16_kernels();
  t.bf16 = bf16_kernels();
  t.q8_0 = q8_0_kernels();
  t.q4_0 = q4_0_kernels();
  t.q6_k = q6_k_kernels();
  t.q2_0c = q2_0c_kernels();
  t.ops = float_ops();
  return t;
}

}  // namespace hy2bit::kernels::scalar
