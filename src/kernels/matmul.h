// The matmul driver the model uses: y = x * W^T for a weight matrix of any
// supported type (prepared_weights.h), one token (decode, GEMV) or many
// (prefill, GEMM), on the ISA path chosen once at start (dispatch.h), split
// over a thread pool. ISA code lives in scalar/, x86_avx2/, x86_avx512/, arm_neon/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "kernels/prepared_weights.h"
#include "runtime/thread_pool.h"

namespace hy2bit::kernels {

// Reusable scratch for quantized activations; grows once, then is reused.
class MatmulScratch {
 public:
  // At least n_bytes, 64-byte aligned; valid until the next reserve().
  uint8_t* reserve(size_t n_bytes);

 private:
  AlignedBytes buffer_;
};

// y (n_tokens x n_rows, row-major) = x (n_tokens x n_cols, row-major) * W^T.
// Activations are quantized (if the type's kernel wants that) in `scratch`,
// then rows are split over the pool's threads.
void matmul(const PreparedWeights& w, const float* x, int64_t n_tokens, float* y,
            runtime::ThreadPool& pool, MatmulScratch& scratch);

// One weight matrix and where its output goes.
struct MatmulOutput {
  const PreparedWeights* weights;
  float* y;  // (n_tokens x weights->view().n_rows)
};

// Several matmuls of the same input (q, k and v; gate and up): the
// activations are quantized once and all outputs' rows share one pass over
// the pool. Every weight must have the same type and n_cols.
void matmul_shared_input(std::span<const MatmulOutput> outputs, const float* x, int64_t n_tokens,
                         runtime::ThreadPool& pool, MatmulScratch& scratch);

}  // namespace hy2bit::kernels
