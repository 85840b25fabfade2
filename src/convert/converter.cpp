// hy2bit convert: a Hugging Face HunYuanDenseV1ForCausalLM folder to a
// hunyuan-dense GGUF, in the order and with the keys llama.cpp's
// convert_hf_to_gguf.py writes (conversion/base.py TextModel,
// conversion/hunyuan.py HunYuanModel). Tensors stream from the mapped
// safetensors files into the GGUF writer one at a time.
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "convert/hf_config.h"
#include "convert/hf_vocab.h"
#include "convert/json_util.h"
#include "convert/safetensors.h"
#include "convert/tensor_names.h"
#include "formats/convert.h"
#include "gguf/gguf_writer.h"
#include "hy2bit/convert.h"

namespace hy2bit {
namespace {

namespace fs = std::filesystem;
using convert::GgufVocab;
using convert::HfConfig;
using formats::TypeId;
using gguf::OwnedValue;

constexpr uint64_t kMaxTextFileBytes = uint64_t{1} << 30;
constexpr int64_t kQ2_0CRowBlock = 512;  // q2_0c rows must be whole 512-weight blocks

// The text of dir/name, nullopt if there is no such file.
Result<std::optional<std::string>> read_optional(const fs::path& dir, const std::string& name) {
  const fs::path path = dir / name;
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<std::string>{};
  if (!fs::is_regular_file(path, ec)) return make_error("'", path.string(), "' is not a regular file");
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) return make_error("cannot read '", path.string(), "': ", ec.message());
  if (size > kMaxTextFileBytes) return make_error("'", path.string(), "' is ", size, " bytes, more than a text file may be");
  std::ifstream in(path, std::ios::binary);
  std::string text(static_cast<size_t>(size), '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(size)))
    return make_error("cannot read '", path.string(), "'");
  return std::optional<std::string>{std::move(text)};
}

// Prefixes a parse error with the file's path.
template <typename T>
Result<T> in_file(Result<T> r, const fs::path& path) {
  if (r) return r;
  std::string msg = r.error().message;
  return make_error(path.string(), ": ", msg);
}

// The folder's tokenizer, either form, turned into the GGUF vocabulary.
Result<GgufVocab> load_vocab(const fs::path& dir, const HfConfig& cfg, std::string& source) {
  convert::VocabSources src;
  src.config = &cfg;
  Result<std::optional<std::string>> tc_text = read_optional(dir, "tokenizer_config.json");
  if (!tc_text) return tc_text.error();
  if (*tc_text) {
    auto tc = in_file(convert::parse_tokenizer_config(**tc_text), dir / "tokenizer_config.json");
    if (!tc) return tc.error();
    src.tokenizer_config = std::move(*tc);
  }
  Result<std::optional<std::string>> gen = read_optional(dir, "generation_config.json");
  if (!gen) return gen.error();
  if (*gen) {
    auto g = in_file(convert::parse_hf_generation_config(**gen), dir / "generation_config.json");
    if (!g) return g.error();
    src.generation_config = *g;
  }
  // chat_template.jinja, else chat_template.json's "chat_template".
  Result<std::optional<std::string>> jinja = read_optional(dir, "chat_template.jinja");
  if (!jinja) return jinja.error();
  if (*jinja) {
    src.chat_template_file = **jinja;
  } else {
    Result<std::optional<std::string>> ct = read_optional(dir, "chat_template.json");
    if (!ct) return ct.error();
    if (*ct) {
      auto j = in_file(convert::parse_json(**ct, "chat_template.json"), dir / "chat_template.json");
      if (!j) return j.error();
      if (j->is_object() && j->contains("chat_template")) {
        if (!(*j)["chat_template"].is_string())
          return make_error((dir / "chat_template.json").string(), ": chat_template is not a string");
        src.chat_template_file = (*j)["chat_template"].get<std::string>();
      }
    }
  }

  Result<std::optional<std::string>> tj = read_optional(dir, "tokenizer.json");
  if (!tj) return tj.error();
  if (*tj) {
    source = "tokenizer.json";
    auto tok = in_file(convert::parse_tokenizer_json(**tj), dir / "tokenizer.json");
    if (!tok) return tok.error();
    return convert::vocab_from_tokenizer_json(*tok, src);
  }
  // The tiktoken form: hy.tiktoken, else the folder's only *.tiktoken file.
  std::vector<std::string> tiktoken_files;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".tiktoken") tiktoken_files.push_back(e.path().filename().string());
  std::sort(tiktoken_files.begin(), tiktoken_files.end());
  if (std::find(tiktoken_files.begin(), tiktoken_files.end(), "hy.tiktoken") != tiktoken_files.end())
    tiktoken_files = {"hy.tiktoken"};
  if (tiktoken_files.empty()) return make_error("'", dir.string(), "' has neither tokenizer.json nor a *.tiktoken ranks file");
  if (tiktoken_files.size() > 1)
    return make_error("'", dir.string(), "' has several tiktoken files (", tiktoken_files[0], ", ", tiktoken_files[1],
                      "); expected one, or hy.tiktoken");
  source = tiktoken_files[0];
  Result<std::optional<std::string>> ranks_text = read_optional(dir, source);
  if (!ranks_text) return ranks_text.error();
  auto ranks = in_file(convert::parse_tiktoken_ranks(**ranks_text), dir / source);
  if (!ranks) return ranks.error();
  if (!src.tokenizer_config)
    return make_error("'", (dir / "tokenizer_config.json").string(), "' is missing (it lists the special tokens of ", source, ")");
  return convert::vocab_from_tiktoken(*ranks, src);
}

// The folder's own name ("HY-1.8B-2Bit" for "models/HY-1.8B-2Bit/"): what
// llama.cpp's converter names the model when no model card names it.
std::string folder_name(const fs::path& dir) {
  fs::path p = fs::absolute(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

// gguf-py model_weight_count_rounded_notation(n, min_digits=2): "1.8B", "22M".
std::string size_label(uint64_t n) {
  double scaled = 0;
  const char* suffix = "K";
  if (n > 1e12) scaled = n * 1e-12, suffix = "T";
  else if (n > 1e9) scaled = n * 1e-9, suffix = "B";
  else if (n > 1e6) scaled = n * 1e-6, suffix = "M";
  else scaled = n * 1e-3;
  std::string digits = std::to_string(static_cast<long long>(std::nearbyint(scaled)));
  digits.erase(0, digits.find_first_not_of('0'));
  const int fix = std::max(2 - static_cast<int>(digits.size()), 0);
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f%s", fix, scaled, suffix);
  return text;
}

// The metadata TextModel.set_gguf_parameters and HunYuanModel's override write.
Status set_hparams(gguf::Writer& w, const HfConfig& c, uint32_t file_type) {
  const std::string a = "hunyuan-dense.";
  w.set(a + "block_count", OwnedValue::u32(static_cast<uint32_t>(c.n_layer)));
  if (c.max_position_embeddings)
    w.set(a + "context_length", OwnedValue::u32(static_cast<uint32_t>(*c.max_position_embeddings)));
  w.set(a + "embedding_length", OwnedValue::u32(static_cast<uint32_t>(c.hidden_size)));
  w.set(a + "feed_forward_length", OwnedValue::u32(static_cast<uint32_t>(c.n_ff)));
  w.set(a + "attention.head_count", OwnedValue::u32(static_cast<uint32_t>(c.n_head)));
  if (c.n_head_kv) w.set(a + "attention.head_count_kv", OwnedValue::u32(static_cast<uint32_t>(*c.n_head_kv)));
  if (c.rope_theta) w.set(a + "rope.freq_base", OwnedValue::f32(static_cast<float>(*c.rope_theta)));
  w.set(a + "attention.layer_norm_rms_epsilon", OwnedValue::f32(static_cast<float>(c.rms_eps)));
  if (c.head_dim) {
    w.set(a + "attention.key_length", OwnedValue::u32(static_cast<uint32_t>(*c.head_dim)));
    w.set(a + "attention.value_length", OwnedValue::u32(static_cast<uint32_t>(*c.head_dim)));
  }
  w.set("general.file_type", OwnedValue::u32(file_type));

  // NTK-alpha RoPE: folded into the base, scaling none; "dynamic" also
  // means a 256k context (the config's 32k is wrong, says llama.cpp).
  if (c.rope_type == "dynamic" || c.rope_type == "xdrope") {
    if (!c.head_dim) return make_error("config.json: rope type ", c.rope_type, " needs \"head_dim\"");
    const double alpha = c.rope_alpha.value_or(50.0);
    const double base = c.rope_theta.value_or(10000.0);
    const auto dim = static_cast<double>(*c.head_dim);
    if (*c.head_dim <= 2) return make_error("config.json: head_dim ", *c.head_dim, " is too small for NTK-alpha RoPE");
    w.set(a + "rope.freq_base", OwnedValue::f32(static_cast<float>(base * std::pow(alpha, dim / (dim - 2)))));
    w.set(a + "rope.scaling.type", OwnedValue::string("none"));
    w.set(a + "rope.scaling.factor", OwnedValue::f32(1.0f));
    if (c.rope_type == "dynamic") {
      const int64_t n_ctx = c.max_position_embeddings.value_or(0);
      if (base != 10000.0 || (n_ctx != 32 * 1024 && n_ctx != 256 * 1024))
        return make_error("config.json: dynamic RoPE with rope_theta ", base, " and max_position_embeddings ", n_ctx,
                          " breaks llama.cpp's HunYuan assumptions (10000 and 32768 or 262144)");
      w.set(a + "rope.scaling.original_context_length", OwnedValue::u32(256 * 1024));
      w.set(a + "context_length", OwnedValue::u32(256 * 1024));
    }
  }
  w.set("general.quantization_version", OwnedValue::u32(2));
  return Ok{};
}

const char* special_key(std::string_view type) {
  if (type == "bos") return "tokenizer.ggml.bos_token_id";
  if (type == "eos") return "tokenizer.ggml.eos_token_id";
  if (type == "unk") return "tokenizer.ggml.unknown_token_id";
  if (type == "sep") return "tokenizer.ggml.seperator_token_id";  // sic: llama.cpp's spelling
  if (type == "pad") return "tokenizer.ggml.padding_token_id";
  if (type == "mask") return "tokenizer.ggml.mask_token_id";
  if (type == "eot") return "tokenizer.ggml.eot_token_id";
  if (type == "eom") return "tokenizer.ggml.eom_token_id";
  return nullptr;
}

void set_vocab(gguf::Writer& w, const GgufVocab& v) {
  w.set("tokenizer.ggml.model", OwnedValue::string("gpt2"));
  w.set("tokenizer.ggml.pre", OwnedValue::string("hunyuan-dense"));
  w.set("tokenizer.ggml.tokens", OwnedValue::string_array(v.tokens));
  w.set("tokenizer.ggml.token_type", OwnedValue::i32_array(v.types));
  w.set("tokenizer.ggml.merges", OwnedValue::string_array(v.merges));
  for (const auto& [type, id] : v.special_ids)
    if (const char* key = special_key(type)) w.set(key, OwnedValue::u32(static_cast<uint32_t>(id)));
  for (const auto& [type, add] : v.add_flags) w.set("tokenizer.ggml.add_" + type + "_token", OwnedValue::boolean(add));
  if (v.chat_template) w.set("tokenizer.chat_template", OwnedValue::string(*v.chat_template));
  for (const auto& [type, id] : v.late_ids)
    if (const char* key = special_key(type)) w.set(key, OwnedValue::u32(static_cast<uint32_t>(id)));
}

// One tensor on its way from the checkpoint to the GGUF.
struct PlannedTensor {
  const convert::StCheckpoint::Entry* source;
  convert::MappedName name;
  TypeId out_type;
};

float source_value(convert::StDtype dtype, const uint8_t* p) {
  switch (dtype) {
    case convert::StDtype::kF32: {
      float f;
      std::memcpy(&f, p, 4);
      return f;
    }
    case convert::StDtype::kF16: {
      uint16_t h;
      std::memcpy(&h, p, 2);
      return formats::f16_to_f32(h);
    }
    case convert::StDtype::kBF16: {
      uint16_t h;
      std::memcpy(&h, p, 2);
      return formats::bf16_to_f32(h);
    }
  }
  return 0;
}

bool same_type(convert::StDtype s, TypeId t) {
  return (s == convert::StDtype::kF32 && t == TypeId::kF32) || (s == convert::StDtype::kF16 && t == TypeId::kF16) ||
         (s == convert::StDtype::kBF16 && t == TypeId::kBF16);
}

// Writes a tensor's bytes as out_type (via f32, as llama.cpp converts) and,
// for linear weights, checks each row against the 2-bit grid.
Status produce(const PlannedTensor& p, std::span<const uint8_t> src, std::vector<uint8_t>& out, ConvertReport& report) {
  const convert::StTensor& t = *p.source->tensor;
  const size_t n = static_cast<size_t>(t.n_elements);
  const size_t in_size = convert::dtype_size(t.dtype);
  const size_t out_size = p.out_type == TypeId::kF32 ? 4 : 2;
  out.resize(n * out_size);
  if (same_type(t.dtype, p.out_type)) {
    std::memcpy(out.data(), src.data(), out.size());
  } else {
    for (size_t i = 0; i < n; ++i) {
      const float f = source_value(t.dtype, src.data() + i * in_size);
      if (p.out_type == TypeId::kF32) {
        std::memcpy(out.data() + 4 * i, &f, 4);
      } else {
        const uint16_t h = p.out_type == TypeId::kF16 ? formats::f32_to_f16(f) : formats::f32_to_bf16(f);
        std::memcpy(out.data() + 2 * i, &h, 2);
      }
    }
  }
  if (!p.name.linear) return Ok{};
  const auto k = static_cast<int64_t>(t.shape[1]);
  const auto rows = static_cast<int64_t>(t.shape[0]);
  if (k % kQ2_0CRowBlock != 0) {
    report.unchecked_rows += rows;
    return Ok{};
  }
  std::vector<float> row(static_cast<size_t>(k));
  std::vector<uint8_t> encoded(static_cast<size_t>(k / kQ2_0CRowBlock * 130));
  for (int64_t r = 0; r < rows; ++r) {
    formats::dequantize(p.out_type, out.data() + static_cast<size_t>(r * k) * out_size, row.data(), k);
    formats::quantize_row(TypeId::kQ2_0C, row.data(), encoded.data(), k);
    const formats::RowFit fit = formats::q2_0c_row_fit(row.data(), encoded.data(), k);
    ++report.linear_rows;
    if (fit.exact) ++report.grid_rows;
    else report.max_grid_error = std::max(report.max_grid_error, fit.max_abs_error);
  }
  return Ok{};
}

std::string shape_text(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

Result<ConvertReport> convert_hf_checkpoint(const ConvertOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const fs::path dir(o.hf_dir);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return make_error("'", o.hf_dir, "' is not a folder");
  ConvertReport report;

  Result<std::optional<std::string>> config_text = read_optional(dir, "config.json");
  if (!config_text) return config_text.error();
  if (!*config_text) return make_error("'", (dir / "config.json").string(), "' is missing");
  Result<HfConfig> cfg = in_file(convert::parse_hf_config(**config_text), dir / "config.json");
  if (!cfg) return cfg.error();

  Result<GgufVocab> vocab = load_vocab(dir, *cfg, report.tokenizer_source);
  if (!vocab) return vocab.error();
  if (vocab->merges.empty()) return make_error(report.tokenizer_source, ": the BPE vocabulary has no merges");
  report.n_vocab = static_cast<int64_t>(vocab->tokens.size());
  report.n_merges = static_cast<int64_t>(vocab->merges.size());

  const TypeId linear_type = o.outtype == ConvertOutType::kF32  ? TypeId::kF32
                             : o.outtype == ConvertOutType::kBF16 ? TypeId::kBF16
                                                                  : TypeId::kF16;
  // llama.cpp's LlamaFileType: ALL_F32 0, MOSTLY_F16 1, MOSTLY_BF16 32.
  const uint32_t file_type = o.outtype == ConvertOutType::kF32 ? 0 : o.outtype == ConvertOutType::kBF16 ? 32 : 1;

  // The tensors, checked against config.json before anything is written.
  std::optional<convert::StCheckpoint> ckpt;
  std::vector<PlannedTensor> plan;
  uint64_t n_params = 0;
  if (!o.vocab_only) {
    Result<convert::StCheckpoint> opened = convert::StCheckpoint::open(o.hf_dir);
    if (!opened) return opened.error();
    ckpt = std::move(*opened);
    std::set<std::string> written;
    for (const convert::StCheckpoint::Entry& e : ckpt->tensors()) {
      const std::string& hf = e.tensor->name;
      if (convert::is_ignored_tensor(hf) || (hf == "lm_head.weight" && cfg->tie_word_embeddings)) {
        ++report.n_skipped;
        continue;
      }
      std::optional<convert::MappedName> name = convert::map_tensor_name(hf, *cfg);
      if (!name) return make_error("tensor \"", hf, "\" has no place in a hunyuan-dense model of ", cfg->n_layer, " layers");
      if (e.tensor->shape != name->expected_shape)
        return make_error("tensor \"", hf, "\" has shape ", shape_text(e.tensor->shape), " but config.json implies ",
                          shape_text(name->expected_shape));
      const bool f32 = name->expected_shape.size() <= 1 || name->gguf_name.ends_with("_norm.weight");
      written.insert(name->gguf_name);
      n_params += e.tensor->n_elements;
      plan.push_back({&e, std::move(*name), f32 ? TypeId::kF32 : linear_type});
    }
    for (const std::string& need : convert::required_gguf_names(*cfg))
      if (!written.count(need)) {
        const std::string hint = need == "output.weight" ? " (lm_head.weight; tie_word_embeddings is false)" : "";
        return make_error("the checkpoint has no tensor for ", need, hint);
      }
  }

  gguf::Writer w;
  w.set("general.architecture", OwnedValue::string("hunyuan-dense"));
  w.set("general.type", OwnedValue::string("model"));
  w.set("general.name", OwnedValue::string(folder_name(dir)));
  if (n_params > 0) w.set("general.size_label", OwnedValue::string(size_label(n_params)));
  HY2BIT_TRY(set_hparams(w, *cfg, file_type));
  set_vocab(w, *vocab);

  for (const PlannedTensor& p : plan) {
    const convert::StTensor& t = *p.source->tensor;
    std::vector<int64_t> ne(t.shape.rbegin(), t.shape.rend());  // ggml order: ne[0] is the row length
    const convert::StCheckpoint* source = &*ckpt;
    HY2BIT_TRY(w.add_tensor(p.name.gguf_name, p.out_type, std::move(ne),
                            [&p, source, &report](std::vector<uint8_t>& out) {
                              return produce(p, source->bytes(*p.source), out, report);
                            }));
    report.tensor_bytes += t.n_elements * (p.out_type == TypeId::kF32 ? 4 : 2);
  }
  report.n_tensors = static_cast<int64_t>(plan.size());
  HY2BIT_TRY(w.write(o.out_path, o.progress));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace hy2bit
