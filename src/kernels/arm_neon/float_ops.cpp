// The forward pass's float loops (kernels/simd/float_ops.h) built with this
// path's NEON flags.
#include "kernels/arm_neon/neon_kernels.h"
#include "kernels/simd/float_ops.h"

namespace hy2bit::kernels::neon {

FloatOps float_ops() { return simd::float_ops_table(); }

}  // namespace hy2bit::kernels::neon
