// The AVX2 float GEMM shared by the F32, F16 and BF16 files: the outer-product
// kernel of kernels/simd/float_gemm.h on ymm registers, 8 rows per tile,
// through the vector traits below. Internal linkage (built with AVX2 flags).
#pragma once

#include "kernels/simd/float_gemm.h"
#include "kernels/x86_avx2/tile_loop.h"

namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE {
namespace {

// The vector traits simd::float_tile is written against.
struct FloatVec {
  using F = __m256;
  static constexpr int kRows = HY2BIT_AVX2_NAMESPACE::kRows;
  static F zero() { return _mm256_setzero_ps(); }
  static F set1(float v) { return _mm256_set1_ps(v); }
  static F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static void store(float* y, F v, int valid_rows) { store_rows(y, v, valid_rows); }
};

}  // namespace
}  // namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE
