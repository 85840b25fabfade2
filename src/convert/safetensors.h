// safetensors reading: the header parser (a pure function over a byte span,
// so a fuzzer can call it on arbitrary bytes), one mapped file, and a whole
// checkpoint (model.safetensors, or shards listed in
// model.safetensors.index.json). Every offset, size and shape is checked
// against the file before a tensor's bytes can be reached.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/mapped_file.h"
#include "hy2bit/result.h"

namespace hy2bit::convert {

// The element types a checkpoint may hold (others are refused by name).
enum class StDtype { kF32, kF16, kBF16 };
const char* dtype_name(StDtype dtype);
size_t dtype_size(StDtype dtype);  // bytes per element

struct StTensor {
  std::string name;
  StDtype dtype = StDtype::kF32;
  std::vector<uint64_t> shape;  // as stored, outermost first (HF: [out, in])
  uint64_t n_elements = 0;      // product of shape (1 for a scalar)
  uint64_t begin = 0, end = 0;  // byte range inside the data section
};

struct StHeader {
  uint64_t json_size = 0;    // N, the length in the first 8 bytes
  uint64_t data_start = 0;   // 8 + N: where the data section starts in the file
  std::vector<StTensor> tensors;  // sorted by name
  std::vector<std::pair<std::string, std::string>> metadata;  // "__metadata__"
};

// The largest header accepted (the safetensors library's own limit).
inline constexpr uint64_t kMaxHeaderBytes = 100'000'000;

// Parses and checks the header of a safetensors file given as all its bytes:
// the length fits the file and the cap, the JSON is an object with valid
// UTF-8 and no duplicate keys, every entry has exactly dtype, shape and
// data_offsets, the dtype is F32/F16/BF16, shape x element size equals the
// byte range, and the ranges tile the data section exactly (no overlap, no
// hole, nothing past the end). Errors are one line naming the tensor.
Result<StHeader> parse_safetensors_header(std::span<const uint8_t> file);

// One mapped .safetensors file with its checked header.
class StFile {
 public:
  static Result<std::unique_ptr<StFile>> open(const std::string& path);
  const StHeader& header() const { return header_; }
  const std::string& path() const { return mapped_->path(); }
  // The bytes of a tensor of this file's header (checked at parse time).
  std::span<const uint8_t> bytes(const StTensor& t) const;

 private:
  StFile(std::unique_ptr<gguf::MappedFile> mapped, StHeader header)
      : mapped_(std::move(mapped)), header_(std::move(header)) {}
  std::unique_ptr<gguf::MappedFile> mapped_;
  StHeader header_;
};

// All tensors of a checkpoint folder, in the order llama.cpp's converter
// visits them (files sorted by name, tensors by name within a file).
class StCheckpoint {
 public:
  struct Entry {
    const StTensor* tensor;
    const StFile* file;
  };
  // Reads model.safetensors.index.json if present (its weight_map must name
  // exactly the tensors its shards hold), else every model*.safetensors.
  static Result<StCheckpoint> open(const std::string& dir);
  const std::vector<Entry>& tensors() const { return entries_; }
  const Entry* find(std::string_view name) const;  // nullptr if absent
  std::span<const uint8_t> bytes(const Entry& e) const { return e.file->bytes(*e.tensor); }

 private:
  std::vector<std::unique_ptr<StFile>> files_;
  std::vector<Entry> entries_;
};

// Which shards an index file lists, checked: "weight_map" an object of
// tensor name -> file name, file names plain (no '/', not "." or "..").
// Returns the distinct file names sorted, and the map itself.
struct StIndex {
  std::vector<std::string> files;
  std::vector<std::pair<std::string, std::string>> weight_map;
};
Result<StIndex> parse_safetensors_index(std::string_view json_text);

}  // namespace hy2bit::convert
