// The public API for writing a random hunyuan-dense GGUF (make-test-model):
// linear weights on the 2-bit QDQ grid (so quantizing to q2_0c is lossless)
// and a valid byte-level BPE vocabulary with the Hunyuan control tokens, in a
// preset's shapes with optional overrides. For tests, demos and benchmarks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "hy2bit/result.h"

namespace hy2bit {

struct TestModelOptions {
  std::string out_path;         // GGUF to write (through a temporary file and a rename)
  std::string preset = "tiny";  // "tiny" (2 layers, hidden 512: testdata's hy-tiny) or
                                // "hy-1.8b" (the real model's shapes, 3.6 GB as f16)
  std::string type = "f16";     // linear and embedding weights: f16, bf16 or f32
  // The preset's shapes, replaced where set.
  std::optional<int64_t> n_layer, n_embd, n_ff, n_head, n_head_kv, head_dim, n_vocab;
  std::optional<uint64_t> seed;  // every random value derives from it; unset: the preset's
  std::function<void(size_t done, size_t total)> progress = nullptr;  // per tensor written
};

// What the options resolve to: the shapes and seed of the model written.
struct TestModelShape {
  int64_t n_layer = 0;    // transformer blocks
  int64_t n_embd = 0;     // hidden size
  int64_t n_ff = 0;       // SwiGLU inner size
  int64_t n_head = 0;     // query heads
  int64_t n_head_kv = 0;  // key/value heads
  int64_t head_dim = 0;   // per-head size of q, k, v
  int64_t n_vocab = 0;    // tokens, the last 16 of them control tokens
  uint64_t seed = 0;
};

// Resolves and checks the options without writing anything. Errors: an
// unknown preset or type; a shape out of range or inconsistent (the message
// names the field, its value and what is expected).
Result<TestModelShape> check_test_model_options(const TestModelOptions& options);

// Checks the options and writes the model to options.out_path. The same
// options give the same bytes. On error an existing file is left untouched.
Result<TestModelShape> write_test_model_file(const TestModelOptions& options);

}  // namespace hy2bit
