// The forward pass's float loops (kernels/simd/float_ops.h) built with this
// path's AVX-512 flags.
#include "kernels/simd/float_ops.h"
#include "kernels/x86_avx512/avx512_kernels.h"

namespace hy2bit::kernels::avx512 {

FloatOps float_ops() { return simd::float_ops_table(); }

}  // namespace hy2bit::kernels::avx512
