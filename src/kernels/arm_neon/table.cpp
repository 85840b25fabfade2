// The NEON paths' kernel tables: "neon" (sdot everywhere) and "neon_i8mm"
// (smmla for multi-token integer GEMMs); float types are the same on both.
#include "kernels/arm_neon/neon_kernels.h"

namespace hy2bit::kernels::neon {
namespace {

KernelTable build_table(std::string_view isa, bool use_i8mm) {
  return {.isa = isa, .f32 = f32_kernels(), .f16 = f16_kernels(), .bf16 = bf16_kernels(),
          .q8_0 = q8_0_kernels(use_i8mm), .q4_0 = q4_0_kernels(use_i8mm),
          .q6_k = q6_k_kernels(use_i8mm), .q2_0c = q2_0c_kernels(use_i8mm), .ops = float_ops()};
}

}  // namespace

KernelTable make_table() { return build_table("neon", /*use_i8mm=*/false); }

KernelTable make_i8mm_table() { return build_table("neon_i8mm", /*use_i8mm=*/true); }

}  // namespace hy2bit::kernels::neon
