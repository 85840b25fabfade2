// A bounds-checked little-endian cursor over a byte span, used by the GGUF
// parser. Every read reports whether enough bytes were left, and nothing is
// consumed when they were not, so the parser can never read past the end.
// Internal to src/gguf; no allocation, no error text (the caller words it).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

namespace hy2bit::gguf::detail {

// GGUF is little-endian and values are copied out with memcpy.
static_assert(std::endian::native == std::endian::little,
              "the GGUF reader assumes a little-endian host");

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  size_t offset() const { return pos_; }                  // bytes consumed so far
  size_t remaining() const { return bytes_.size() - pos_; }
  size_t size() const { return bytes_.size(); }

  // Reads one fixed-size value (an integer or float as stored on disk).
  template <typename T>
  bool read(T& out) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (remaining() < sizeof(T)) return false;
    std::memcpy(&out, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }

  // Takes the next n bytes as text (a view into the span, not a copy).
  bool read_text(uint64_t n, std::string_view& out) {
    if (n > remaining()) return false;
    out = std::string_view(reinterpret_cast<const char*>(bytes_.data()) + pos_,
                           static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return true;
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

}  // namespace hy2bit::gguf::detail
