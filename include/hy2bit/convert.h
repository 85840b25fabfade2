// Converting a Hugging Face checkpoint folder (config.json, tokenizer.json or
// hy.tiktoken + tokenizer_config.json, *.safetensors) to a GGUF file, as
// llama.cpp's convert_hf_to_gguf.py does for HunYuanDenseV1ForCausalLM
// (GGUF arch hunyuan-dense), with no Python needed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "hy2bit/result.h"

namespace hy2bit {

// The type of the linear weights and embeddings (norms are always f32).
enum class ConvertOutType { kF16, kBF16, kF32 };

struct ConvertOptions {
  std::string hf_dir;     // the checkpoint folder
  std::string out_path;   // GGUF to write (through a temporary file and a rename)
  ConvertOutType outtype = ConvertOutType::kF16;
  bool vocab_only = false;  // metadata and vocabulary only, no tensors
  std::function<void(size_t done, size_t total)> progress = nullptr;  // per tensor written
};

struct ConvertReport {
  std::string tokenizer_source;   // "tokenizer.json" or the tiktoken file's name
  int64_t n_vocab = 0;
  int64_t n_merges = 0;
  int64_t n_tensors = 0;          // written
  int64_t n_skipped = 0;          // source tensors left out (tied lm_head, rotary caches)
  uint64_t tensor_bytes = 0;      // written
  // The 2-bit SEQ grid check: every linear weight row (token_embd and output
  // excluded) as written, encoded as q2_0c and decoded again.
  int64_t linear_rows = 0;        // rows checked (rows of k % 512 == 0)
  int64_t grid_rows = 0;          // ... of which decode back exactly
  int64_t unchecked_rows = 0;     // linear rows whose length is not a multiple of 512
  float max_grid_error = 0;       // largest |error| of the off-grid rows
  double seconds = 0;
};

// Converts options.hf_dir to options.out_path. Errors (one line, naming the
// file, key or tensor): a missing file or tensor, another architecture, a
// shape that disagrees with config.json, an unsupported dtype, a hostile
// safetensors header, duplicate tensors, token ids past vocab_size. On error
// an existing output file is left untouched.
Result<ConvertReport> convert_hf_checkpoint(const ConvertOptions& options);

}  // namespace hy2bit
