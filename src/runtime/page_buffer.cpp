// PageBuffer over mmap/munmap, and FloatPages on top of it.
#include "runtime/page_buffer.h"

#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace hy2bit::runtime {

PageBuffer::PageBuffer(size_t bytes) : size_(bytes) {
  if (bytes == 0) return;
  data_ = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (data_ == MAP_FAILED) {
    // Out of address space is not an input error: nothing sensible can continue.
    std::fprintf(stderr, "hy2bit: cannot map %zu bytes of memory\n", bytes);
    std::abort();
  }
}

PageBuffer::~PageBuffer() {
  if (data_) munmap(data_, size_);
}

PageBuffer& PageBuffer::operator=(PageBuffer&& other) noexcept {
  if (this != &other) {
    if (data_) munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

PageBuffer PageBuffer::copy() const {
  PageBuffer c(size_);
  if (size_) std::memcpy(c.data_, data_, size_);
  return c;
}

void FloatPages::grow(size_t n) {
  if (n <= n_) return;
  PageBuffer bigger(n * sizeof(float));
  if (n_) std::memcpy(bigger.data(), pages_.data(), n_ * sizeof(float));
  pages_ = std::move(bigger);
  n_ = n;
}

}  // namespace hy2bit::runtime
