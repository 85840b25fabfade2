// GGUF v3 reader: parses a byte span (a mapped file or a buffer in memory)
// into metadata and a tensor table, checking every count, length, size and
// offset before use, so a hostile file gives an Error, never a crash.
// Views returned point into the span; the span must outlive the File.
// The writer is in gguf_writer.h; file mapping is in mapped_file.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "formats/type_id.h"
#include "hy2bit/result.h"

namespace hy2bit::gguf {

// Metadata value types as GGUF numbers them.
enum class ValueType : uint32_t {
  kUint8 = 0, kInt8 = 1, kUint16 = 2, kInt16 = 3, kUint32 = 4, kInt32 = 5,
  kFloat32 = 6, kBool = 7, kString = 8, kArray = 9, kUint64 = 10,
  kInt64 = 11, kFloat64 = 12,
};
std::string_view value_type_name(ValueType type);

struct Value;

// An array value: its element type and elements (strings stay views into the
// span). Nested arrays are allowed by the format and kept.
struct Array {
  ValueType elem_type = ValueType::kUint8;
  std::vector<Value> elems;
};

// One metadata value. Integers keep their signedness; floats are widened.
struct Value {
  ValueType type = ValueType::kUint8;
  std::variant<uint64_t, int64_t, double, bool, std::string_view, Array> data;

  // Typed reads that accept any integer type whose value fits; nullopt otherwise.
  std::optional<uint64_t> as_uint() const;
  std::optional<int64_t> as_int() const;
  std::optional<double> as_float() const;      // any integer or float type
  std::optional<bool> as_bool() const;
  std::optional<std::string_view> as_string() const;
  const Array* as_array() const;               // nullptr if not an array
};

constexpr int kMaxDims = 4;

// One tensor of the table, with its data already checked to lie in the span.
struct TensorInfo {
  std::string_view name;
  formats::TypeInfo type;           // resolved (id 40 checked to be q2_0c)
  int n_dims = 0;
  int64_t ne[kMaxDims] = {1, 1, 1, 1};  // ggml order: ne[0] is the row length
  uint64_t offset = 0;              // from the start of the data section
  uint64_t n_bytes = 0;             // size of the data
  std::span<const uint8_t> data;    // the bytes, inside the span

  int64_t n_elems() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  int64_t n_rows() const { return ne[1] * ne[2] * ne[3]; }
};

// A parsed GGUF file.
class File {
 public:
  // Parses `bytes`. Every structural problem is an Error naming what and where.
  static Result<File> parse(std::span<const uint8_t> bytes);

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // start of tensor data

  // Metadata in file order (the order matters to writers that copy it).
  const std::vector<std::pair<std::string_view, Value>>& metadata() const { return metadata_; }
  const Value* find(std::string_view key) const;  // nullptr if absent

  // Typed lookups that name the key in the error: missing key or wrong type.
  Result<uint64_t> get_uint(std::string_view key) const;
  Result<double> get_float(std::string_view key) const;
  Result<std::string_view> get_string(std::string_view key) const;
  Result<bool> get_bool(std::string_view key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;  // nullptr if absent

  // Frees the metadata values and keeps the tensor table, for a reader that
  // has taken what it needs from them (a model, once its tokenizer and config
  // exist: three 48-byte values per vocabulary entry, 17 MB on a 120k
  // vocabulary). find() then finds nothing.
  void drop_metadata();

 private:
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string_view, Value>> metadata_;
  std::map<std::string_view, size_t, std::less<>> metadata_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string_view, size_t, std::less<>> tensor_index_;
};

}  // namespace hy2bit::gguf
