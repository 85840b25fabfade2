// The public API for quantizing a model, as llama-quantize does: a float GGUF
// (f16, bf16 or f32, e.g. the QDQ checkpoint) to q2_0c (losslessly for rows
// on the 2-bit grid), q8_0, q4_0, q6_K, f16, bf16 or f32. The embedding and
// output get their own types, 1-D tensors (norms) stay f32, metadata is
// copied. Types are named as llama.cpp names them, in any case.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "hy2bit/result.h"

namespace hy2bit {

struct QuantizeOptions {
  std::string in_path;                // float GGUF to read
  std::string out_path;               // GGUF to write (through a temporary file and a rename)
  std::string type = "q2_0c";         // linear weights: q2_0c, q8_0, q4_0, q6_k, f16, bf16 or f32
  std::string token_embedding_type;   // token_embd.weight; empty: q6_K for q2_0c, q4_0 and q6_K, else `type`
  std::string output_type;            // output.weight; empty: as token_embd.weight
  int n_threads = 0;                  // 0 = physical cores
  std::function<void(size_t done, size_t total)> progress = nullptr;  // per tensor written
};

struct QuantizeTypeTally {
  int64_t tensors = 0;  // tensors of this type in the output file
  uint64_t bytes = 0;   // their data bytes
};

struct QuantizeReport {
  std::map<std::string, QuantizeTypeTally> output_types;  // per type name ("q2_0c", "q6_K", "f32")
  uint64_t input_bytes = 0;       // tensor bytes read
  uint64_t output_bytes = 0;      // tensor bytes written
  int64_t q2_0c_rows = 0;         // rows written as q2_0c
  int64_t q2_0c_exact_rows = 0;   // ... of which decode to the input exactly
  float q2_0c_max_error = 0.0f;   // largest |error| over all q2_0c rows
  double seconds = 0;
};

// Checks the three type names without touching a file; the errors are those
// quantize_file gives first. For tools that report bad options before they
// start showing progress.
Status check_quantize_options(const QuantizeOptions& options);

// Quantizes options.in_path to options.out_path. Errors (one line): an
// unknown type name (the message names the option as llama-quantize's flags
// do: "type", "--token-embedding-type", "--output-type"), an output that is
// the input, a special file or in a missing or read-only folder, an
// unreadable or already-quantized input, rows that are not whole blocks of
// their type (q2_0c: 512). On error an existing output file is left untouched.
Result<QuantizeReport> quantize_file(const QuantizeOptions& options);

}  // namespace hy2bit
