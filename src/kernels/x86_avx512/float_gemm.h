// The AVX-512 float GEMM shared by the F32, F16 and BF16 files: the outer-product
// kernel of kernels/simd/float_gemm.h on zmm registers, 16 rows per tile,
// through the vector traits below. Internal linkage (built with AVX-512 flags).
#pragma once

#include "kernels/simd/float_gemm.h"
#include "kernels/x86_avx512/tile_loop.h"

namespace hy2bit::kernels::avx512 {
namespace {

// The vector traits simd::float_tile is written against.
struct FloatVec {
  using F = __m512;
  static constexpr int kRows = avx512::kRows;
  static F zero() { return _mm512_setzero_ps(); }
  static F set1(float v) { return _mm512_set1_ps(v); }
  static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static void store(float* y, F v, int valid_rows) { store_rows(y, v, valid_rows); }
};

}  // namespace
}  // namespace hy2bit::kernels::avx512
