// Reading ModelConfig from `hunyuan-dense.*` metadata keys, with every value
// range-checked against what a real model could use before anything is sized
// from it: a hostile or corrupt file gets an error naming the key and value.
#include "model/config.h"

#include <cmath>
#include <cstdio>
#include <string>

namespace hy2bit::model {
namespace {

// Upper bounds on the hyper-parameters, each well above the largest models
// published (hundreds of blocks, hidden 16-25k, FFN ~53k, 128 heads of
// 128-256, 10M context), so only a corrupt or hostile file reaches them.
constexpr uint64_t kMaxBlocks = 1024;
constexpr uint64_t kMaxEmbd = uint64_t{1} << 16;
constexpr uint64_t kMaxFf = uint64_t{1} << 18;
constexpr uint64_t kMaxHeads = 1024;
constexpr uint64_t kMaxHeadDim = 1024;
constexpr uint64_t kMaxContext = uint64_t{1} << 24;
// rope.freq_base: above 1 (a base <= 1 does not rotate slower with dimension)
// and at most 1e12 (HY's NTK-folded base is 1.1e7, the largest seen ~1e9).
constexpr double kMaxRopeBase = 1e12;
constexpr double kMaxRopeScale = 1024;  // linear rope.scaling.factor

std::string key(std::string_view suffix) {
  return std::string(kArchitecture) + "." + std::string(suffix);
}

// A number as people write it: 3e+38, 1e-05, 10000.
std::string num(double x) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", x);
  return text;
}

// A count in 1..max from metadata.
Result<int64_t> read_count(const gguf::File& file, std::string_view suffix, uint64_t max) {
  const std::string k = key(suffix);
  Result<uint64_t> value = file.get_uint(k);
  if (!value) return value.error();
  if (*value == 0 || *value > max)
    return make_error("metadata key '", k, "' is ", *value, ", expected a count in 1..", max);
  return static_cast<int64_t>(*value);
}

// An optional count: `fallback` when the key is absent.
Result<int64_t> read_optional_count(const gguf::File& file, std::string_view suffix, uint64_t max,
                                    int64_t fallback) {
  if (!file.find(key(suffix))) return fallback;
  return read_count(file, suffix, max);
}

// An optional float in (lo, hi], checked as the double the file holds before
// it is narrowed to float (so no value is out of float's range).
Status read_float(const gguf::File& file, std::string_view suffix, double lo, double hi, bool hi_open,
                  float& out) {
  const std::string k = key(suffix);
  if (!file.find(k)) return Ok{};
  Result<double> v = file.get_float(k);
  if (!v) return v.error();
  if (!(*v > lo && (hi_open ? *v < hi : *v <= hi)))
    return make_error("metadata key '", k, "' is ", num(*v), ", expected a number in (", num(lo), ", ", num(hi),
                      hi_open ? ")" : "]");
  out = static_cast<float>(*v);
  return Ok{};
}

}  // namespace

Result<ModelConfig> read_config(const gguf::File& file) {
  Result<std::string_view> arch = file.get_string("general.architecture");
  if (!arch) return arch.error();
  if (*arch != kArchitecture)
    return make_error("model architecture is '", *arch, "', but hy2bit runs only '", kArchitecture, "'");

  ModelConfig c;
  if (Result<std::string_view> name = file.get_string("general.name")) c.name = std::string(*name);

  struct CountField { int64_t* field; std::string_view suffix; uint64_t max; };
  for (const CountField& f : {CountField{&c.n_layer, "block_count", kMaxBlocks},
                              CountField{&c.n_embd, "embedding_length", kMaxEmbd},
                              CountField{&c.n_ff, "feed_forward_length", kMaxFf},
                              CountField{&c.n_head, "attention.head_count", kMaxHeads},
                              CountField{&c.n_ctx_train, "context_length", kMaxContext}}) {
    Result<int64_t> v = read_count(file, f.suffix, f.max);
    if (!v) return v.error();
    *f.field = *v;
  }
  // Optional keys with llama.cpp's defaults.
  Result<int64_t> n_head_kv = read_optional_count(file, "attention.head_count_kv", kMaxHeads, c.n_head);
  if (!n_head_kv) return n_head_kv.error();
  c.n_head_kv = *n_head_kv;
  if (c.n_head % c.n_head_kv != 0)
    return make_error("metadata key '", key("attention.head_count"), "' is ", c.n_head,
                      ", not a multiple of '", key("attention.head_count_kv"), "' ", c.n_head_kv);
  if (!file.find(key("attention.key_length")) && c.n_embd % c.n_head != 0)
    return make_error("metadata key '", key("embedding_length"), "' is ", c.n_embd, ", not a multiple of '",
                      key("attention.head_count"), "' ", c.n_head, " (and attention.key_length is absent)");
  Result<int64_t> head_dim = read_optional_count(file, "attention.key_length", kMaxHeadDim, c.n_embd / c.n_head);
  if (!head_dim) return head_dim.error();
  c.head_dim = *head_dim;
  if (c.head_dim > static_cast<int64_t>(kMaxHeadDim))
    return make_error("the head size (", key("embedding_length"), " / head_count) is ", c.head_dim,
                      ", expected at most ", kMaxHeadDim);
  Result<int64_t> value_length = read_optional_count(file, "attention.value_length", kMaxHeadDim, c.head_dim);
  if (!value_length) return value_length.error();
  if (*value_length != c.head_dim)
    return make_error("metadata key '", key("attention.value_length"), "' is ", *value_length,
                      ", but key_length is ", c.head_dim, "; hy2bit needs them equal");
  Result<int64_t> n_rot = read_optional_count(file, "rope.dimension_count", kMaxHeadDim, c.head_dim);
  if (!n_rot) return n_rot.error();
  c.n_rot = *n_rot;
  if (c.n_rot > c.head_dim || c.n_rot % 2 != 0)
    return make_error("metadata key '", key("rope.dimension_count"), "' is ", c.n_rot,
                      ", expected an even number at most the head size ", c.head_dim);

  HY2BIT_TRY(read_float(file, "attention.layer_norm_rms_epsilon", 0.0, 1.0, /*hi_open=*/true, c.rms_norm_eps));
  if (!(c.rms_norm_eps > 0.0f))  // a positive double below float's smallest
    return make_error("metadata key '", key("attention.layer_norm_rms_epsilon"), "' rounds to 0 as a float");
  HY2BIT_TRY(read_float(file, "rope.freq_base", 1.0, kMaxRopeBase, /*hi_open=*/false, c.rope_freq_base));

  // RoPE scaling: none, or linear with its factor; any other kind would be
  // silently run wrong, so it is refused.
  if (file.find(key("rope.scaling.type"))) {
    Result<std::string_view> scaling = file.get_string(key("rope.scaling.type"));
    if (!scaling) return scaling.error();
    if (*scaling == "linear") {
      if (!file.find(key("rope.scaling.factor")))
        return make_error("metadata key '", key("rope.scaling.type"), "' is linear, but '",
                          key("rope.scaling.factor"), "' is missing");
      float factor = 1.0f;
      HY2BIT_TRY(read_float(file, "rope.scaling.factor", 0.0, kMaxRopeScale, /*hi_open=*/false, factor));
      c.rope_freq_scale = 1.0f / factor;
    } else if (*scaling != "none") {
      return make_error("metadata key '", key("rope.scaling.type"), "' is '", *scaling,
                        "'; hy2bit runs only 'none' and 'linear'");
    }
  }

  if (const gguf::Value* tokens = file.find("tokenizer.ggml.tokens"); tokens && tokens->as_array())
    c.n_vocab = static_cast<int64_t>(tokens->as_array()->elems.size());

  // Every block has kTensorsPerBlock required tensors: a block_count the
  // tensor table cannot hold is refused before anything is sized from it.
  const uint64_t n_tensors = file.tensors().size();
  if (static_cast<uint64_t>(c.n_layer) * kTensorsPerBlock > n_tensors)
    return make_error("metadata key '", key("block_count"), "' is ", c.n_layer, ", but the file has ", n_tensors,
                      " tensors (each block needs ", kTensorsPerBlock, ")");
  return c;
}

}  // namespace hy2bit::model
