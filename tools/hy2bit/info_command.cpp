// hy2bit info: what a GGUF file holds (metadata and tensor table, like
// gguf-dump) and, for a hunyuan-dense model, the config and the kernel path
// this machine would run it on. Reads the file format directly.
#include <cstdio>
#include <memory>
#include <string>

#include "commands.h"
#include "gguf/gguf.h"
#include "gguf/mapped_file.h"
#include "kernels/dispatch.h"
#include "model/config.h"

namespace hy2bit::tools {
namespace {

struct InfoOptions {
  std::string model_path;
  size_t array_items = 8;   // array elements printed before "..."
  bool tensors = true;
};

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
    std::string out = "[" + std::string(gguf::value_type_name(a->elem_type)) + " x " +
                      std::to_string(a->elems.size()) + "] [";
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

int run_info(const InfoOptions& o) {
  Result<std::unique_ptr<gguf::MappedFile>> mapped = gguf::MappedFile::open(o.model_path);
  if (!mapped) return fail("info", mapped.error().message);
  Result<gguf::File> file = gguf::File::parse((*mapped)->bytes());
  if (!file) return fail("info", o.model_path + ": " + file.error().message);

  std::printf("file: %s (%s)\n", o.model_path.c_str(), format_bytes((*mapped)->bytes().size()).c_str());
  std::printf("gguf: version %u, %zu metadata keys, %zu tensors, alignment %llu\n", file->version(),
              file->metadata().size(), file->tensors().size(),
              static_cast<unsigned long long>(file->alignment()));

  std::printf("\nmetadata:\n");
  for (const auto& [key, value] : file->metadata())
    std::printf("  %-48s %-8s %s\n", std::string(key).c_str(),
                std::string(gguf::value_type_name(value.type)).c_str(),
                value_text(value, o.array_items).c_str());

  if (o.tensors) {
    std::printf("\ntensors:\n  %-32s %-6s %-22s %12s %12s\n", "name", "type", "shape", "bytes", "offset");
    for (const gguf::TensorInfo& t : file->tensors()) {
      std::string shape = "{";
      for (int d = 0; d < t.n_dims; ++d) shape += (d ? ", " : "") + std::to_string(t.ne[d]);
      shape += "}";
      std::printf("  %-32s %-6s %-22s %12llu %12llu\n", std::string(t.name).c_str(),
                  std::string(t.type.name).c_str(), shape.c_str(),
                  static_cast<unsigned long long>(t.n_bytes),
                  static_cast<unsigned long long>(file->data_offset() + t.offset));
    }
  }

  Result<const kernels::KernelTable*> kernels = kernels::active_kernels();
  std::printf("\nkernels: %s (available here:", kernels ? std::string(kernels::isa_name(**kernels)).c_str()
                                                         : kernels.error().message.c_str());
  for (std::string_view isa : kernels::available_isas()) std::printf(" %s", std::string(isa).c_str());
  std::printf(")\n");

  if (file->find("general.architecture")) {
    Result<model::ModelConfig> config = model::read_config(*file);
    if (!config) {
      std::printf("model: not loadable: %s\n", config.error().message.c_str());
      return 0;
    }
    const model::ModelConfig& c = *config;
    std::printf("model: %s, %lld layers, n_embd %lld, n_ff %lld, heads %lld/%lld (kv), head_dim %lld, "
                "n_vocab %lld, ctx %lld, rope base %.1f, eps %g\n",
                c.name.empty() ? "(unnamed)" : c.name.c_str(), (long long)c.n_layer, (long long)c.n_embd,
                (long long)c.n_ff, (long long)c.n_head, (long long)c.n_head_kv, (long long)c.head_dim,
                (long long)c.n_vocab, (long long)c.n_ctx_train, c.rope_freq_base, c.rms_norm_eps);
  }
  return 0;
}

}  // namespace

void add_info_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<InfoOptions>();
  CLI::App* cmd = app.add_subcommand("info", "Show a GGUF file's metadata, tensors, model config and the kernel path");
  cmd->add_option("-m,--model", options->model_path, "GGUF file")->required();
  cmd->add_option("--array-items", options->array_items, "array elements to print")->capture_default_str();
  cmd->add_flag("!--no-tensors", options->tensors, "do not list tensors");
  cmd->callback([options, &exit_code] { exit_code = run_info(*options); });
}

}  // namespace hy2bit::tools
