// Storage for a model's repacked weights: one range of address space taken
// from the OS (2 MiB aligned, huge pages advised), cut into 64-byte aligned
// pieces in the order they are asked for. The model asks in the order its
// forward pass reads, so decoding a token streams through one long, mostly
// sequential run of memory: the hardware prefetchers keep going across
// matrices and huge pages spare the TLB (a 1 MiB matrix in its own 4 KiB
// pages decoded at ~45-65% of the read bandwidth, the same in the arena at
// 75-100%; BENCHMARKS.md). Pages cost memory only once written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "runtime/page_buffer.h"

namespace hy2bit::kernels {

class WeightArena {
 public:
  // Reserves address space for `capacity` bytes (committed only when written).
  explicit WeightArena(size_t capacity);

  // Where a piece goes: after the previous ones (the reading order), or at
  // the top end, below earlier kAtEnd pieces (a matrix prepared first but
  // read last: the output head, repacked before the layers so its file pages
  // are released before the layers' pages are touched).
  enum class Placement { kInOrder, kAtEnd };

  // n_bytes, 64-byte aligned; an empty span when the arena is full (the
  // caller then allocates on its own).
  std::span<uint8_t> allocate(size_t n_bytes, Placement placement = Placement::kInOrder);

  size_t used() const { return used_ + used_top_; }

 private:
  runtime::PageBuffer pages_;
  uint8_t* base_ = nullptr;  // pages_ rounded up to 2 MiB
  size_t capacity_ = 0;  // a multiple of 64
  size_t used_ = 0;      // from the bottom
  size_t used_top_ = 0;  // from the top
};

}  // namespace hy2bit::kernels
