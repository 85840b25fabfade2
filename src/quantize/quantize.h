// Converting a float GGUF (the fp16/bf16 QDQ checkpoint) to a quantized one,
// as llama-quantize does: linear weights to the target type, the embedding
// and output to their own types, 1-D tensors (norms) to F32, metadata copied
// with general.file_type set. For q2_0c the report says how many rows were
// on the 2-bit grid (converted losslessly) and the worst error of the rest.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "formats/type_id.h"
#include "hy2bit/result.h"

namespace hy2bit::quantize {

struct QuantizeOptions {
  formats::TypeId target = formats::TypeId::kQ2_0C;          // type of the linear weights
  std::optional<formats::TypeId> token_embedding_type = std::nullopt;      // default: see default_embedding_type
  std::optional<formats::TypeId> output_type = std::nullopt;              // default: same as the embedding's
  int n_threads = 1;
};

// llama-quantize's choice for the embedding / output of a target type:
// Q6_K for q2_0c, q4_0 and q6_K; the target itself otherwise.
formats::TypeId default_embedding_type(formats::TypeId target);
// llama.cpp's general.file_type number for a target (q2_0c: 39, as PR 19357).
uint32_t file_type_for(formats::TypeId target);

struct TypeTally {
  int64_t tensors = 0;
  uint64_t bytes = 0;
};

struct QuantizeReport {
  std::map<std::string, TypeTally> output_types;  // per type name, in the output file
  uint64_t input_bytes = 0;                        // tensor bytes read
  uint64_t output_bytes = 0;                       // tensor bytes written
  int64_t q2_0c_rows = 0;                          // rows written as q2_0c
  int64_t q2_0c_exact_rows = 0;                    // ... of which decode to the input exactly
  float q2_0c_max_error = 0.0f;                    // largest |error| over all q2_0c rows
  double seconds = 0;
};

// Reads `in_path`, writes `out_path` (through a temporary file renamed at
// the end; an existing output is untouched on failure). `progress` gets
// (tensors done, total). Errors: unreadable or already-quantized input,
// rows that are not whole blocks of the target type (q2_0c: 512).
Result<QuantizeReport> quantize_model(const std::string& in_path, const std::string& out_path,
                                      const QuantizeOptions& options,
                                      const std::function<void(size_t, size_t)>& progress = {});

}  // namespace hy2bit::quantize
