// The public API for looking inside a GGUF file without loading the model
// (what `hy2bit info` prints, like gguf-dump): the header, metadata values as
// text, the tensor table, the kernel path this machine would run, and for a
// model file its hunyuan-dense config or why it cannot be loaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hy2bit/result.h"

namespace hy2bit {

struct InspectOptions {
  size_t array_items = 8;  // array elements shown in a value's text before "..."
};

// One metadata key.
struct GgufMetadataRow {
  std::string key;
  std::string type_name;   // GGUF value type: "u32", "f32", "string", "array", ...
  // The value: numbers as written (floats %.9g), true/false, strings quoted
  // with \n and \" escaped and cut after 120 characters ("..."), arrays as
  // "[<type> x <n>] [<first array_items elements>, ...]".
  std::string value_text;
};

// One tensor of the table, in file order.
struct GgufTensorRow {
  std::string name;
  std::string type_name;    // "q2_0c", "q6_K", "f16", ...
  std::vector<int64_t> ne;  // n_dims sizes, ggml order (ne[0] is the row length)
  uint64_t n_bytes = 0;     // data size
  uint64_t offset = 0;      // of the data, from the start of the file
};

// The hyperparameters read from the metadata of a hunyuan-dense file.
struct GgufModelConfig {
  std::string name;  // general.name, "" when absent
  int64_t n_layer = 0, n_embd = 0, n_ff = 0, n_head = 0, n_head_kv = 0, head_dim = 0;
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  float rope_freq_base = 0;
  float rms_norm_eps = 0;
};

struct GgufSummary {
  uint64_t file_bytes = 0;
  uint32_t version = 0;    // GGUF version (3)
  uint64_t alignment = 0;  // of the tensor data
  std::vector<GgufMetadataRow> metadata;  // in file order
  std::vector<GgufTensorRow> tensors;     // in file order
  // The kernel path a model would run on here (scalar, avx2, ...), or why
  // none can (HY2BIT_ISA names one this CPU lacks).
  Result<std::string> kernel_isa = std::string();
  std::vector<std::string> available_isas;  // every path this CPU can run, best last
  // Set when the file names an architecture: its config, or why it is not a
  // loadable hunyuan-dense model (the key and value that are wrong).
  std::optional<Result<GgufModelConfig>> model;
};

// Maps and parses `path`. Errors: the file cannot be opened or mapped; it
// is not valid GGUF (the message starts with the path).
Result<GgufSummary> inspect_file(const std::string& path, const InspectOptions& options = {});

}  // namespace hy2bit
