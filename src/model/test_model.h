// make-test-model: writes a random `hunyuan-dense` GGUF that hy2bit and
// llama.cpp load, shaped like testdata's hy-tiny or like the real HY-1.8B.
// Linear weights lie exactly on the 2-bit QDQ grid, so q2_0c conversion is
// lossless. Tensors are generated one at a time while the file is written.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "formats/type_id.h"
#include "hy2bit/result.h"

namespace hy2bit::model {

struct TestModelSpec {
  int64_t n_layer = 0;    // transformer blocks
  int64_t n_embd = 0;     // hidden size; a multiple of 512 (q2_0c rows)
  int64_t n_ff = 0;       // SwiGLU inner size; a multiple of 512
  int64_t n_head = 0;     // query heads; n_head * head_dim a multiple of 512
  int64_t n_head_kv = 0;  // key/value heads; divides n_head
  int64_t head_dim = 0;   // per-head size of q, k, v; even (NEOX RoPE pairs)
  int64_t n_vocab = 0;    // tokens, the last 16 of them control tokens
  uint64_t seed = 1;      // every random value derives from this
  formats::TypeId type = formats::TypeId::kF16;  // linear and embedding weights: f16, bf16 or f32
  int64_t n_ctx_train = 4096;                    // context_length
  float rope_freq_base = 11158840.0f;            // rope.freq_base (HY's NTK-alpha base)
  float rms_norm_eps = 1e-5f;                    // attention.layer_norm_rms_epsilon
  // Standard deviation of token_embd values; 0 picks 1/sqrt(n_embd), as
  // testdata's hy-tiny has, which keeps the tied output's logits around 1.
  float embd_std = 0.0f;
  std::string name;  // general.name; empty gives "Hunyuan-synthetic"
};

// 2 layers, hidden 512, FFN 1024, 4/2 heads of 128, vocab 1000: testdata's hy-tiny shapes.
TestModelSpec test_model_preset_tiny();
// HY-1.8B's shapes (hy-model.md): 32 layers, 2048, 6144, 16/4 heads of 128,
// vocab 120818, context 262144. About 3.6 GB as f16.
TestModelSpec test_model_preset_hy_1_8b();
// "tiny" or "hy-1.8b"; nullopt for other names.
std::optional<TestModelSpec> test_model_preset(std::string_view name);
// The names test_model_preset() accepts, for help texts.
std::vector<std::string_view> test_model_preset_names();

// Checks a spec; the error names the field, its value and what is expected.
Status validate(const TestModelSpec& spec);

// The GGUF general.file_type for the spec's weight type (f32 0, f16 1, bf16 32).
uint32_t test_model_file_type(formats::TypeId type);

// Validates `spec` and writes the model to `path` (atomically, via the GGUF
// writer). `progress` (may be empty) gets (tensors written, tensors in all)
// after each tensor. Same spec and seed give the same bytes.
Status write_test_model(const TestModelSpec& spec, const std::string& path,
                        const std::function<void(size_t done, size_t total)>& progress = {});

}  // namespace hy2bit::model
