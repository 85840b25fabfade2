// A large zero-filled buffer taken straight from the OS (anonymous mmap):
// pages cost memory only once written, so a KV cache sized for a long
// context holds RSS only for the positions actually used. Move-only RAII.
#pragma once

#include <cstddef>
#include <utility>

namespace hy2bit::runtime {

class PageBuffer {
 public:
  PageBuffer() = default;
  explicit PageBuffer(size_t bytes);  // aborts only if the address space is exhausted
  ~PageBuffer();
  PageBuffer(PageBuffer&& other) noexcept { *this = std::move(other); }
  PageBuffer& operator=(PageBuffer&& other) noexcept;
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;

  // A new buffer with the same contents (explicit, since it can be large).
  PageBuffer copy() const;

  void* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace hy2bit::runtime
