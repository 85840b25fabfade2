// WeightArena: a bump allocator over one PageBuffer.
#include "kernels/weight_arena.h"

#include <sys/mman.h>

#include <cstdint>

namespace hy2bit::kernels {
namespace {
constexpr size_t kHugePage = size_t{2} << 20;
}  // namespace

WeightArena::WeightArena(size_t capacity)
    : pages_(capacity + kHugePage), capacity_(capacity / 64 * 64) {
  const auto address = reinterpret_cast<uintptr_t>(pages_.data());
  base_ = static_cast<uint8_t*>(pages_.data()) + ((kHugePage - address % kHugePage) % kHugePage);
  if (capacity_ > 0) madvise(base_, capacity_, MADV_HUGEPAGE);  // advice only
}

std::span<uint8_t> WeightArena::allocate(size_t n_bytes, Placement placement) {
  const size_t aligned = (n_bytes + 63) / 64 * 64;
  if (n_bytes == 0 || aligned < n_bytes || aligned > capacity_ - used_ - used_top_) return {};
  if (placement == Placement::kAtEnd) {
    used_top_ += aligned;
    return std::span<uint8_t>(base_ + capacity_ - used_top_, n_bytes);
  }
  std::span<uint8_t> piece(base_ + used_, n_bytes);
  used_ += aligned;
  return piece;
}

}  // namespace hy2bit::kernels
