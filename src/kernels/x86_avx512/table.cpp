// The avx512 path's kernel table: every type has an AVX-512 kernel.
#include "kernels/x86_avx512/avx512_kernels.h"

namespace hy2bit::kernels::avx512 {

KernelTable make_table() {
  KernelTable t;
  t.isa = "avx512";
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

}  // namespace hy2bit::kernels::avx512
