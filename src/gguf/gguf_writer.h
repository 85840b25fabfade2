// GGUF v3 writer: collects metadata and tensors, then writes a complete file
// (header, metadata, tensor table, aligned data). Used by quantize and
// make-test-model. Writes to a temporary file and renames it at the end, so a
// failed or interrupted write never leaves a broken output.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "formats/type_id.h"
#include "gguf/gguf.h"
#include "hy2bit/result.h"

namespace hy2bit::gguf {

// A metadata value the writer owns (strings are copied).
struct OwnedValue {
  ValueType type = ValueType::kUint32;
  std::variant<uint64_t, int64_t, double, bool, std::string, std::vector<OwnedValue>> data;
  ValueType elem_type = ValueType::kUint8;   // for arrays

  static OwnedValue u32(uint32_t v);
  static OwnedValue i32(int32_t v);
  static OwnedValue u64(uint64_t v);
  static OwnedValue f32(float v);
  static OwnedValue boolean(bool v);
  static OwnedValue string(std::string v);
  static OwnedValue string_array(std::vector<std::string> v);
  static OwnedValue i32_array(const std::vector<int32_t>& v);
  static OwnedValue f32_array(const std::vector<float>& v);
  static OwnedValue i64(int64_t v);
  static OwnedValue f64(double v);
  // An array of values that all have type `elem_type` (arrays may nest).
  static OwnedValue array(ValueType elem_type, std::vector<OwnedValue> elems);
  // A deep copy of a parsed value.
  static OwnedValue copy_of(const Value& v);
};

// Produces a tensor's bytes when the writer reaches it, so a 3.6 GB model is
// never held in memory at once. It must write exactly the declared size.
using TensorBytesFn = std::function<Status(std::vector<uint8_t>& out)>;

class Writer {
 public:
  explicit Writer(uint64_t alignment = 32) : alignment_(alignment) {}

  // Sets (adds or replaces) a metadata key; order of first insertion is kept.
  void set(std::string key, OwnedValue value);
  // Removes a metadata key if present (a later set() then appends it at the end).
  void remove(std::string_view key);
  // Declares a tensor: ne in ggml order (ne[0] = row length). Errors on a
  // duplicate name or a size that is not whole blocks of the type.
  Status add_tensor(std::string name, formats::TypeId type, std::vector<int64_t> ne,
                    TensorBytesFn bytes);

  // Writes everything to `path` (via path + ".tmp" and a rename). `progress`
  // is called after each tensor with (tensors done, total).
  Status write(const std::string& path,
               const std::function<void(size_t, size_t)>& progress = {}) const;

 private:
  struct PendingTensor {
    std::string name;
    formats::TypeId type;
    std::vector<int64_t> ne;
    uint64_t n_bytes;
    TensorBytesFn bytes;
  };
  uint64_t alignment_;
  std::vector<std::pair<std::string, OwnedValue>> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace hy2bit::gguf
