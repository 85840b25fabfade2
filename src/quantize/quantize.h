// Converting a float GGUF (the fp16/bf16 QDQ checkpoint) to a quantized one,
// as llama-quantize does: linear weights to the target type, the embedding
// and output to their own types, 1-D tensors (norms) to F32, metadata copied
// with general.file_type set. For q2_0c the report says how many rows were
// on the 2-bit grid (converted losslessly) and the worst error of the rest.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "formats/type_id.h"
#include "hy2bit/quantize.h"
#include "hy2bit/result.h"

namespace hy2bit::quantize {

// hy2bit::QuantizeOptions' types, parsed (api/quantize_file.cpp), and the
// thread count resolved. The report is the public hy2bit::QuantizeReport.
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

// Reads `in_path`, writes `out_path` (through a temporary file renamed at
// the end; an existing output is untouched on failure). `progress` gets
// (tensors done, total). Errors: unreadable or already-quantized input,
// rows that are not whole blocks of the target type (q2_0c: 512).
Result<QuantizeReport> quantize_model(const std::string& in_path, const std::string& out_path,
                                      const QuantizeOptions& options,
                                      const std::function<void(size_t, size_t)>& progress = {});

}  // namespace hy2bit::quantize
