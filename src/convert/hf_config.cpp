// config.json and generation_config.json for hunyuan-dense, read the way
// llama.cpp's converter reads them (conversion/base.py TextModel and
// conversion/hunyuan.py HunYuanModel): the same keys, the same defaults.
#include "convert/hf_config.h"

#include "convert/json_util.h"

namespace hy2bit::convert {
namespace {

constexpr const char* kWhat = "config.json";

Result<int64_t> positive(const Json& c, const char* key) {
  Result<int64_t> v = required_int(c, key, kWhat);
  if (!v) return v.error();
  if (*v <= 0 || *v > (int64_t{1} << 31)) return make_error(kWhat, ": \"", key, "\" is ", *v, ", expected a positive size");
  return *v;
}

Result<std::optional<int64_t>> optional_positive(const Json& c, const char* key) {
  Result<std::optional<int64_t>> v = optional_int(c, key, kWhat);
  if (!v) return v.error();
  if (*v && (**v <= 0 || **v > (int64_t{1} << 31)))
    return make_error(kWhat, ": \"", key, "\" is ", **v, ", expected a positive size");
  return *v;
}

}  // namespace

Result<HfConfig> parse_hf_config(std::string_view json_text) {
  Result<Json> parsed = parse_json(json_text, kWhat);
  if (!parsed) return parsed.error();
  Json c = std::move(*parsed);
  if (!c.is_object()) return make_error(kWhat, ": not a JSON object");
  HfConfig cfg;

  const auto archs = c.find("architectures");
  if (archs == c.end() || !archs->is_array() || archs->empty() || !(*archs)[0].is_string())
    return make_error(kWhat, ": no \"architectures\" list naming the model class");
  cfg.architecture = (*archs)[0].get<std::string>();
  if (cfg.architecture != kHunyuanDenseArchitecture)
    return make_error(kWhat, ": architecture ", cfg.architecture, " is not supported (hy2bit converts ",
                      kHunyuanDenseArchitecture, ")");
  // llama.cpp: config = {**config, **config.get("text_config", {})}.
  if (const auto tc = c.find("text_config"); tc != c.end() && tc->is_object()) {
    const Json text_config = *tc;
    for (const auto& [key, value] : text_config.items()) c[key] = value;
  }

#define HY2BIT_READ(dst, expr)          \
  do {                                  \
    auto r_ = (expr);                   \
    if (!r_) return r_.error();         \
    dst = *r_;                          \
  } while (0)
  HY2BIT_READ(cfg.vocab_size, positive(c, "vocab_size"));
  HY2BIT_READ(cfg.hidden_size, positive(c, "hidden_size"));
  HY2BIT_READ(cfg.n_layer, positive(c, "num_hidden_layers"));
  HY2BIT_READ(cfg.n_head, positive(c, "num_attention_heads"));
  HY2BIT_READ(cfg.n_head_kv, optional_positive(c, "num_key_value_heads"));
  HY2BIT_READ(cfg.head_dim, optional_positive(c, "head_dim"));
  HY2BIT_READ(cfg.n_ff, positive(c, "intermediate_size"));
  HY2BIT_READ(cfg.rms_eps, required_number(c, "rms_norm_eps", kWhat));
  HY2BIT_READ(cfg.max_position_embeddings, optional_positive(c, "max_position_embeddings"));
  std::optional<bool> tied;
  HY2BIT_READ(tied, optional_bool(c, "tie_word_embeddings", kWhat));
  cfg.tie_word_embeddings = tied.value_or(false);
  HY2BIT_READ(cfg.eod_token_id, optional_int(c, "eod_token_id", kWhat));
  HY2BIT_READ(cfg.pad_token_id, optional_int(c, "pad_token_id", kWhat));
  // The vocabulary is held as per-id tables: a hostile size must not turn into a huge allocation.
  constexpr int64_t kMaxVocab = int64_t{1} << 24;
  if (cfg.vocab_size > kMaxVocab) return make_error(kWhat, ": \"vocab_size\" is ", cfg.vocab_size, ", more than ", kMaxVocab);
  if (!(cfg.rms_eps > 0 && cfg.rms_eps < 1)) return make_error(kWhat, ": \"rms_norm_eps\" is ", cfg.rms_eps, ", expected 0 < eps < 1");
  if (cfg.n_head_kv && cfg.n_head % *cfg.n_head_kv != 0)
    return make_error(kWhat, ": num_attention_heads ", cfg.n_head, " is not a multiple of num_key_value_heads ", *cfg.n_head_kv);
  if (!cfg.head_dim && cfg.hidden_size % cfg.n_head != 0)
    return make_error(kWhat, ": hidden_size ", cfg.hidden_size, " is not a multiple of num_attention_heads ", cfg.n_head);

  // Special token ids: SpecialVocab._try_load_from_config_json, which skips
  // values that are not integers and refuses negative ones. A negative
  // pad_token_id is left out instead (HunYuanModel.set_vocab's guard).
  for (const char* type : {"bos", "eos", "unk", "sep", "pad", "cls", "mask"}) {
    const std::string key = std::string(type) + "_token_id";
    const auto it = c.find(key);
    if (it == c.end() || !it->is_number_integer()) continue;
    const int64_t id = it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)
                           ? INT64_MAX : it->get<int64_t>();
    if (id < 0) {
      if (std::string_view(type) == "pad") continue;
      return make_error(kWhat, ": \"", key, "\" is ", id, ", expected a token id");
    }
    cfg.special_ids.emplace_back(type, id);
  }

  // RoPE parameters: hparams.get("rope_parameters", hparams.get("rope_scaling")) or {}.
  HY2BIT_READ(cfg.rope_theta, optional_number(c, "rope_theta", kWhat));
  const Json* rope = nullptr;
  if (const auto it = c.find("rope_parameters"); it != c.end()) rope = &*it;
  else if (const auto it2 = c.find("rope_scaling"); it2 != c.end()) rope = &*it2;
  if (rope != nullptr && !rope->is_null()) {
    if (!rope->is_object()) return make_error(kWhat, ": rope_scaling is not an object");
    std::optional<std::string> type, old_type;
    HY2BIT_READ(type, optional_string(*rope, "rope_type", "config.json rope_scaling"));
    HY2BIT_READ(old_type, optional_string(*rope, "type", "config.json rope_scaling"));
    cfg.rope_type = type ? *type : old_type.value_or("");
    std::optional<double> theta;
    HY2BIT_READ(theta, optional_number(*rope, "rope_theta", "config.json rope_scaling"));
    if (theta) cfg.rope_theta = theta;
    HY2BIT_READ(cfg.rope_alpha, optional_number(*rope, "alpha", "config.json rope_scaling"));
  }
#undef HY2BIT_READ
  if (!cfg.rope_type.empty() && cfg.rope_type != "dynamic" && cfg.rope_type != "xdrope")
    return make_error(kWhat, ": rope type \"", cfg.rope_type,
                      "\" is not supported for hunyuan-dense (expected none, dynamic or xdrope)");
  if (cfg.rope_theta && !(*cfg.rope_theta > 0)) return make_error(kWhat, ": rope_theta must be positive");
  if (cfg.rope_alpha && !(*cfg.rope_alpha > 0)) return make_error(kWhat, ": rope_scaling alpha must be positive");
  return cfg;
}

Result<HfGenerationConfig> parse_hf_generation_config(std::string_view json_text) {
  Result<Json> parsed = parse_json(json_text, "generation_config.json");
  if (!parsed) return parsed.error();
  if (!parsed->is_object()) return make_error("generation_config.json: not a JSON object");
  HfGenerationConfig g;
  const auto eos = parsed->find("eos_token_id");
  if (eos != parsed->end() && eos->is_array() && eos->size() >= 2) {
    const Json& first = (*eos)[0];
    if (!first.is_number_integer() || first.get<int64_t>() < 0)
      return make_error("generation_config.json: eos_token_id[0] is not a token id");
    g.eot_token_id = first.get<int64_t>();
  }
  return g;
}

}  // namespace hy2bit::convert
