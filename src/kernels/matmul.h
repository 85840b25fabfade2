// The matmul interface the model uses: y = x * W^T for a weight matrix of any
// supported type, one token (decode, GEMV) or many (prefill, GEMM), on the
// ISA path chosen once at start (dispatch.h). The model sees only this file;
// ISA code lives in scalar/, x86_avx2/, x86_avx512/, arm_neon/.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "formats/type_id.h"
#include "hy2bit/result.h"
#include "runtime/thread_pool.h"

namespace hy2bit::kernels {

struct KernelTable;  // dispatch.h: the function pointers of one ISA path

// A weight matrix as stored in the file: n_rows rows of n_cols elements
// (ggml ne[0] = n_cols is the input dimension), each row row_bytes long.
struct WeightView {
  formats::TypeInfo type;
  int64_t n_cols = 0;                // input dimension (ne[0])
  int64_t n_rows = 0;                // output dimension (ne[1])
  std::span<const uint8_t> data;     // n_rows * row_bytes bytes, row-major
};

// A weight matrix made ready for one ISA path: used straight from the file
// where the kernel can, repacked into the kernel's layout where it pays.
class PreparedWeights {
 public:
  // Checks the shape against the type (whole blocks per row, enough bytes)
  // and repacks if the path wants to. Errors name the problem.
  static Result<PreparedWeights> prepare(const KernelTable& kernels, const WeightView& view);

  const WeightView& view() const { return view_; }
  const KernelTable& kernels() const { return *kernels_; }
  // Bytes of the repacked copy (0 when the kernel reads the file directly).
  size_t repacked_bytes() const { return repacked_.size(); }
  std::span<const uint8_t> repacked() const { return repacked_; }

 private:
  WeightView view_;
  const KernelTable* kernels_ = nullptr;
  std::vector<uint8_t> repacked_;
};

// Reusable scratch for quantized activations; grows once, then is reused.
class MatmulScratch {
 public:
  uint8_t* reserve(size_t n_bytes);
 private:
  std::vector<uint8_t> buffer_;
};

// y (n_tokens x n_rows, row-major) = x (n_tokens x n_cols, row-major) * W^T.
// Activations are quantized (if the type's kernel wants that) in `scratch`,
// then rows are split over the pool's threads.
void matmul(const PreparedWeights& w, const float* x, int64_t n_tokens, float* y,
            runtime::ThreadPool& pool, MatmulScratch& scratch);

}  // namespace hy2bit::kernels
