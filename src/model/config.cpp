// Reading ModelConfig from `hunyuan-dense.*` metadata keys.
#include "model/config.h"

#include <cmath>
#include <string>

namespace hy2bit::model {
namespace {

std::string key(std::string_view suffix) {
  return std::string(kArchitecture) + "." + std::string(suffix);
}

// A positive count from metadata, with a sane upper bound against hostile files.
Result<int64_t> read_count(const gguf::File& file, std::string_view suffix) {
  const std::string k = key(suffix);
  Result<uint64_t> value = file.get_uint(k);
  if (!value) return value.error();
  if (*value == 0 || *value > (uint64_t{1} << 24))
    return make_error("metadata key '", k, "' is ", *value, ", expected a count in 1..16777216");
  return static_cast<int64_t>(*value);
}

}  // namespace

Result<ModelConfig> read_config(const gguf::File& file) {
  Result<std::string_view> arch = file.get_string("general.architecture");
  if (!arch) return arch.error();
  if (*arch != kArchitecture)
    return make_error("model architecture is '", *arch, "', but hy2bit runs only '", kArchitecture, "'");

  ModelConfig c;
  if (Result<std::string_view> name = file.get_string("general.name")) c.name = std::string(*name);

  struct CountField { int64_t* field; std::string_view suffix; };
  for (const CountField& f : {CountField{&c.n_layer, "block_count"},
                              CountField{&c.n_embd, "embedding_length"},
                              CountField{&c.n_ff, "feed_forward_length"},
                              CountField{&c.n_head, "attention.head_count"},
                              CountField{&c.n_ctx_train, "context_length"}}) {
    Result<int64_t> v = read_count(file, f.suffix);
    if (!v) return v.error();
    *f.field = *v;
  }
  // Optional keys with llama.cpp's defaults.
  c.n_head_kv = c.n_head;
  if (file.find(key("attention.head_count_kv"))) {
    Result<int64_t> v = read_count(file, "attention.head_count_kv");
    if (!v) return v.error();
    c.n_head_kv = *v;
  }
  c.head_dim = c.n_embd / c.n_head;
  if (file.find(key("attention.key_length"))) {
    Result<int64_t> v = read_count(file, "attention.key_length");
    if (!v) return v.error();
    c.head_dim = *v;
  }
  if (file.find(key("attention.value_length"))) {
    Result<int64_t> v = read_count(file, "attention.value_length");
    if (!v) return v.error();
    if (*v != c.head_dim)
      return make_error("attention.value_length ", *v, " differs from key_length ", c.head_dim,
                        "; hy2bit needs them equal");
  }
  c.n_rot = c.head_dim;
  if (file.find(key("rope.dimension_count"))) {
    Result<int64_t> v = read_count(file, "rope.dimension_count");
    if (!v) return v.error();
    c.n_rot = *v;
  }
  if (file.find(key("attention.layer_norm_rms_epsilon"))) {
    Result<double> v = file.get_float(key("attention.layer_norm_rms_epsilon"));
    if (!v) return v.error();
    c.rms_norm_eps = static_cast<float>(*v);
  }
  if (file.find(key("rope.freq_base"))) {
    Result<double> v = file.get_float(key("rope.freq_base"));
    if (!v) return v.error();
    c.rope_freq_base = static_cast<float>(*v);
  }
  if (Result<std::string_view> scaling = file.get_string(key("rope.scaling.type"));
      scaling && *scaling == "linear") {
    Result<double> factor = file.get_float(key("rope.scaling.factor"));
    if (factor && *factor > 0) c.rope_freq_scale = static_cast<float>(1.0 / *factor);
  }

  if (const gguf::Value* tokens = file.find("tokenizer.ggml.tokens"); tokens && tokens->as_array())
    c.n_vocab = static_cast<int64_t>(tokens->as_array()->elems.size());

  // Consistency checks, so the forward pass needs none.
  if (c.n_head % c.n_head_kv != 0)
    return make_error("attention.head_count ", c.n_head, " is not a multiple of head_count_kv ", c.n_head_kv);
  if (c.n_rot > c.head_dim || c.n_rot % 2 != 0)
    return make_error("rope.dimension_count ", c.n_rot, " must be even and at most the head size ", c.head_dim);
  if (!(c.rms_norm_eps > 0.0f) || !std::isfinite(c.rms_norm_eps))
    return make_error("attention.layer_norm_rms_epsilon is ", c.rms_norm_eps, ", expected a positive number");
  if (!(c.rope_freq_base > 0.0f) || !std::isfinite(c.rope_freq_base))
    return make_error("rope.freq_base is ", c.rope_freq_base, ", expected a positive number");
  return c;
}

}  // namespace hy2bit::model
