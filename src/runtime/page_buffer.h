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

// n floats in a PageBuffer: an activation buffer sized for the largest batch
// costs memory only for the rows a pass actually writes, so a session that
// decodes one token at a time does not pay for 512-token prompt buffers.
class FloatPages {
 public:
  FloatPages() = default;
  explicit FloatPages(size_t n) : pages_(n * sizeof(float)), n_(n) {}

  float* data() const { return static_cast<float*>(pages_.data()); }
  size_t size() const { return n_; }
  float& operator[](size_t i) const { return data()[i]; }
  // Grows to at least n floats, keeping the contents (new pages are zero).
  void grow(size_t n);

 private:
  PageBuffer pages_;
  size_t n_ = 0;
};

}  // namespace hy2bit::runtime
