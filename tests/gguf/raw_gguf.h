// Test helper: builds GGUF bytes field by field, independently of the writer,
// so tests can make files that are wrong in exactly one chosen way (a huge
// count, a bad type, a misplaced offset) and parse them from memory.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hy2bit::test {

// Little-endian byte appender.
class RawBytes {
 public:
  template <typename T>
  RawBytes& put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes.insert(bytes.end(), p, p + sizeof(T));
    return *this;
  }
  RawBytes& u8(uint8_t v) { return put(v); }
  RawBytes& u32(uint32_t v) { return put(v); }
  RawBytes& u64(uint64_t v) { return put(v); }
  RawBytes& i64(int64_t v) { return put(v); }
  RawBytes& str(std::string_view s) {
    u64(s.size());
    bytes.insert(bytes.end(), s.begin(), s.end());
    return *this;
  }
  RawBytes& append(const std::vector<uint8_t>& more) {
    bytes.insert(bytes.end(), more.begin(), more.end());
    return *this;
  }
  std::vector<uint8_t> bytes;
};

// One metadata entry: key, value type and the value's encoded bytes.
inline std::vector<uint8_t> raw_kv(std::string_view key, uint32_t type, const std::vector<uint8_t>& payload) {
  return RawBytes().str(key).u32(type).append(payload).bytes;
}
inline std::vector<uint8_t> raw_kv_u32(std::string_view key, uint32_t v) {
  return raw_kv(key, 4, RawBytes().u32(v).bytes);
}
inline std::vector<uint8_t> raw_kv_string(std::string_view key, std::string_view v) {
  return raw_kv(key, 8, RawBytes().str(v).bytes);
}

struct RawTensor {
  std::string name;
  std::vector<int64_t> ne;
  uint32_t type = 0;
  uint64_t offset = 0;
};

// A whole file. Header counts default to the real ones; set n_tensors/n_kv to lie.
struct RawFile {
  uint32_t version = 3;
  std::optional<uint64_t> n_tensors;
  std::optional<uint64_t> n_kv;
  std::vector<std::vector<uint8_t>> kvs;
  std::vector<RawTensor> tensors;
  uint64_t alignment = 32;  // how the table end is padded (set general.alignment yourself)
  uint64_t data_bytes = 0;  // bytes after the padded table (filled with a pattern)

  // Appends a tensor right after the previous one (padded) and grows the data.
  void add_tensor(std::string name, std::vector<int64_t> ne, uint32_t type, uint64_t n_bytes) {
    const uint64_t offset = (data_bytes + alignment - 1) / alignment * alignment;
    tensors.push_back({std::move(name), std::move(ne), type, offset});
    data_bytes = offset + n_bytes;
  }

  std::vector<uint8_t> build() const {
    RawBytes b;
    b.u32(0x46554747).u32(version);
    b.u64(n_tensors.value_or(tensors.size())).u64(n_kv.value_or(kvs.size()));
    for (const auto& kv : kvs) b.append(kv);
    for (const RawTensor& t : tensors) {
      b.str(t.name).u32(static_cast<uint32_t>(t.ne.size()));
      for (const int64_t n : t.ne) b.i64(n);
      b.u32(t.type).u64(t.offset);
    }
    while (b.bytes.size() % alignment != 0) b.u8(0);
    for (uint64_t i = 0; i < data_bytes; ++i) b.u8(static_cast<uint8_t>(i * 7 + 1));
    return b.bytes;
  }
};

}  // namespace hy2bit::test
