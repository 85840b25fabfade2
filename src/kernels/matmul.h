// The matmul interface the model uses: y = x * W^T for a weight matrix of any
// supported type, one token (decode, GEMV) or many (prefill, GEMM), on the
// ISA path chosen once at start (dispatch.h). The model sees only this file;
// ISA code lives in scalar/, x86_avx2/, x86_avx512/, arm_neon/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/type_id.h"
#include "hy2bit/result.h"
#include "kernels/weight_arena.h"
#include "runtime/thread_pool.h"

namespace hy2bit::kernels {

struct KernelTable;  // dispatch.h: the function pointers of one ISA path

// A weight matrix as stored in the file: n_rows rows of n_cols elements
// (ggml ne[0] = n_cols is the input dimension), each row row_bytes long.
struct WeightView {
  formats::TypeInfo type;
  int64_t n_cols = 0;             // input dimension (ne[0])
  int64_t n_rows = 0;             // output dimension (ne[1])
  std::span<const uint8_t> data;  // n_rows * row_bytes bytes, row-major
};

// Raw storage for AlignedBytes: 64-byte aligned (one cache line, one AVX-512
// register); blocks of 2 MiB and more are 2 MiB aligned and asked to be backed
// by huge pages (fewer page faults at load, fewer TLB misses when streaming).
void* allocate_weight_bytes(size_t n_bytes);
void free_weight_bytes(void* p, size_t n_bytes);

// An allocator over those that leaves new elements uninitialized (repack
// writes every byte; scratch is written before it is read).
template <typename T>
struct CacheAlignedAllocator {
  using value_type = T;
  CacheAlignedAllocator() = default;
  template <typename U>
  CacheAlignedAllocator(const CacheAlignedAllocator<U>&) {}  // NOLINT: rebinding
  T* allocate(size_t n) { return static_cast<T*>(allocate_weight_bytes(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { free_weight_bytes(p, n * sizeof(T)); }
  template <typename U>
  void construct(U* p) {
    ::new (static_cast<void*>(p)) U;  // default-init: no zeroing pass
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template <typename U>
  bool operator==(const CacheAlignedAllocator<U>&) const {
    return true;
  }
};
using AlignedBytes = std::vector<uint8_t, CacheAlignedAllocator<uint8_t>>;

// A weight matrix made ready for one ISA path: used straight from the file
// where the kernel can, repacked into the kernel's layout where it pays.
// Move-only: the repacked bytes are its own or a piece of an arena that
// must outlive it.
class PreparedWeights {
 public:
  // Checks the shape against the type (whole blocks per row, enough bytes)
  // and repacks if the path wants to, into `arena` (at `placement`) when one
  // is given and has room. Errors name the problem.
  static Result<PreparedWeights> prepare(
      const KernelTable& kernels, const WeightView& view, WeightArena* arena = nullptr,
      WeightArena::Placement placement = WeightArena::Placement::kInOrder);

  PreparedWeights() = default;
  PreparedWeights(PreparedWeights&&) = default;
  PreparedWeights& operator=(PreparedWeights&&) = default;
  PreparedWeights(const PreparedWeights&) = delete;
  PreparedWeights& operator=(const PreparedWeights&) = delete;

  const WeightView& view() const { return view_; }
  const KernelTable& kernels() const { return *kernels_; }
  // Bytes of the repacked copy (0 when the kernel reads the file directly).
  size_t repacked_bytes() const { return repacked_.size(); }
  std::span<const uint8_t> repacked() const { return repacked_; }

 private:
  WeightView view_;
  const KernelTable* kernels_ = nullptr;
  AlignedBytes owned_;                 // the repacked bytes when no arena holds them
  std::span<const uint8_t> repacked_;  // 64-byte aligned, layout per packed_layouts.h
};

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
