// What a weight matrix is to the kernels: the file's view of it
// (WeightView) and its form made ready for one ISA path (PreparedWeights,
// repacked into 64-byte-aligned, huge-page-backed AlignedBytes where the path
// wants). No threads here: the driver that runs matmuls is matmul.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <utility>
#include <vector>

#include "formats/type_id.h"
#include "hy2bit/result.h"
#include "kernels/weight_arena.h"

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

}  // namespace hy2bit::kernels
