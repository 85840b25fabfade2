// The forward pass's float loops (kernels/simd/float_ops.h) built with this
// path's AVX2 (and AVX2 + AVX-VNNI) flags.
#include "kernels/simd/float_ops.h"
#include "kernels/x86_avx2/avx2_kernels.h"

namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE {

FloatOps float_ops() { return simd::float_ops_table(); }

}  // namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE
