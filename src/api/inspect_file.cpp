// hy2bit/inspect.h: the mapped file parsed by gguf::File, each metadata value
// turned into text, the tensor table copied, plus kernels::active_kernels and
// model::read_config. Read-only; no model is loaded.
#include "hy2bit/inspect.h"

#include <cstdio>
#include <memory>
#include <string_view>

#include "gguf/gguf.h"
#include "gguf/mapped_file.h"
#include "kernels/dispatch.h"
#include "model/config.h"

namespace hy2bit {
namespace {

std::string quoted(std::string_view s, size_t max_chars = 120) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < max_chars; ++i) {
    const char ch = s[i];
    if (ch == '\n') out += "\\n";
    else if (ch == '"') out += "\\\"";
    else out += ch;
  }
  if (s.size() > max_chars) out += "...";
  return out + "\"";
}

std::string value_text(const gguf::Value& v, size_t array_items) {
  if (const gguf::Array* a = v.as_array()) {
    // Built by appending: GCC 12 warns falsely (-Wrestrict) on "[" + string.
    std::string out = "[";
    out.append(gguf::value_type_name(a->elem_type)).append(" x ").append(std::to_string(a->elems.size())).append("] [");
    for (size_t i = 0; i < a->elems.size() && i < array_items; ++i)
      out += (i ? ", " : "") + value_text(a->elems[i], array_items);
    return out + (a->elems.size() > array_items ? ", ...]" : "]");
  }
  if (auto s = v.as_string()) return quoted(*s);
  if (v.type == gguf::ValueType::kBool) return *v.as_bool() ? "true" : "false";
  if (v.type == gguf::ValueType::kFloat32 || v.type == gguf::ValueType::kFloat64) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.9g", *v.as_float());
    return text;
  }
  if (auto i = v.as_int()) return std::to_string(*i);
  if (auto u = v.as_uint()) return std::to_string(*u);
  return "?";
}

GgufTensorRow tensor_row(const gguf::TensorInfo& t, uint64_t data_offset) {
  return {.name = std::string(t.name), .type_name = std::string(t.type.name),
          .ne = std::vector<int64_t>(t.ne, t.ne + t.n_dims), .n_bytes = t.n_bytes,
          .offset = data_offset + t.offset};
}

Result<GgufModelConfig> model_config(const gguf::File& file) {
  Result<model::ModelConfig> config = model::read_config(file);
  if (!config) return config.error();
  const model::ModelConfig& c = *config;
  return GgufModelConfig{.name = c.name, .n_layer = c.n_layer, .n_embd = c.n_embd, .n_ff = c.n_ff,
                         .n_head = c.n_head, .n_head_kv = c.n_head_kv, .head_dim = c.head_dim,
                         .n_vocab = c.n_vocab, .n_ctx_train = c.n_ctx_train,
                         .rope_freq_base = c.rope_freq_base, .rms_norm_eps = c.rms_norm_eps};
}

}  // namespace

Result<GgufSummary> inspect_file(const std::string& path, const InspectOptions& options) {
  Result<std::unique_ptr<gguf::MappedFile>> mapped = gguf::MappedFile::open(path);
  if (!mapped) return mapped.error();
  Result<gguf::File> file = gguf::File::parse((*mapped)->bytes());
  if (!file) return make_error(path, ": ", file.error().message);

  GgufSummary s;
  s.file_bytes = (*mapped)->bytes().size();
  s.version = file->version();
  s.alignment = file->alignment();
  for (const auto& [key, value] : file->metadata())
    s.metadata.push_back({std::string(key), std::string(gguf::value_type_name(value.type)),
                          value_text(value, options.array_items)});
  for (const gguf::TensorInfo& t : file->tensors()) s.tensors.push_back(tensor_row(t, file->data_offset()));

  Result<const kernels::KernelTable*> kernels = kernels::active_kernels();
  if (kernels) s.kernel_isa = std::string(kernels::isa_name(**kernels));
  else s.kernel_isa = kernels.error();
  for (std::string_view isa : kernels::available_isas()) s.available_isas.emplace_back(isa);

  if (file->find("general.architecture")) s.model = model_config(*file);
  return s;
}

}  // namespace hy2bit
