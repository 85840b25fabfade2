// Name, shape and alignment checks shared by the GGUF reader and writer.
#include "gguf/checks.h"

#include <limits>

namespace hy2bit::gguf::detail {

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    // Sequence length and the smallest code point it may encode (rejects
    // overlong forms); surrogates and values above U+10FFFF are rejected below.
    size_t len = 0;
    uint32_t cp = 0;
    uint32_t min_cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min_cp = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min_cp = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min_cp = 0x10000;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

std::string quoted(std::string_view s) {
  constexpr size_t kMaxShown = 96;  // bytes of the original text shown
  const bool utf8 = is_valid_utf8(s);
  size_t shown = s.size();
  if (shown > kMaxShown) {
    shown = kMaxShown;
    // Do not cut a UTF-8 sequence in half: back up to its first byte.
    while (utf8 && shown > 0 && (static_cast<unsigned char>(s[shown]) & 0xC0) == 0x80) --shown;
  }
  std::string out = "'";
  constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F || (c >= 0x80 && !utf8)) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (shown < s.size()) out += "...";
  out += "'";
  return out;
}

Status check_name(std::string_view what, std::string_view name) {
  if (name.empty()) return make_error(what, " is empty");
  if (name.size() > kMaxNameBytes)
    return make_error(what, " ", quoted(name), " is ", name.size(), " bytes long, more than the limit of ",
                      kMaxNameBytes);
  if (!is_valid_utf8(name)) return make_error(what, " ", quoted(name), " is not valid UTF-8");
  return Ok{};
}

std::string shape_text(std::span<const int64_t> ne) {
  std::string out = "[";
  for (size_t i = 0; i < ne.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(ne[i]);
  }
  out += "]";
  return out;
}

Result<uint64_t> tensor_bytes(std::string_view name, const formats::TypeInfo& type,
                              std::span<const int64_t> ne) {
  constexpr size_t kMaxDims = 4;
  if (ne.empty() || ne.size() > kMaxDims)
    return make_error("tensor ", quoted(name), " has ", ne.size(), " dimensions, expected 1 to 4");
  // The product of the nonzero extents must fit int64: then every partial
  // product does too, whatever order a consumer multiplies in (n_rows, n_elems).
  int64_t nonzero_product = 1;
  bool any_zero = false;
  for (const int64_t n : ne) {
    if (n < 0)
      return make_error("tensor ", quoted(name), " has shape ", shape_text(ne),
                        " with a negative extent");
    if (n == 0) {
      any_zero = true;
      continue;
    }
    if (__builtin_mul_overflow(nonzero_product, n, &nonzero_product))
      return make_error("tensor ", quoted(name), " has shape ", shape_text(ne),
                        ", whose element count does not fit in 64 bits");
  }
  const uint64_t n_elems = any_zero ? 0 : static_cast<uint64_t>(nonzero_product);
  if (ne[0] % type.block_elems != 0)
    return make_error("tensor ", quoted(name), " has type ", type.name, " and rows of ", ne[0],
                      " elements, which is not a multiple of the type's block of ", type.block_elems);
  const std::optional<uint64_t> bytes = formats::bytes_for_elems(type, n_elems);
  if (!bytes || *bytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return make_error("tensor ", quoted(name), " has shape ", shape_text(ne), " and type ", type.name,
                      ", whose byte size does not fit in 63 bits");
  return *bytes;
}

bool is_valid_alignment(uint64_t alignment) {
  return alignment != 0 && (alignment & (alignment - 1)) == 0;
}

std::optional<uint64_t> align_up(uint64_t x, uint64_t alignment) {
  uint64_t sum = 0;
  if (__builtin_add_overflow(x, alignment - 1, &sum)) return std::nullopt;
  return sum & ~(alignment - 1);
}

}  // namespace hy2bit::gguf::detail
