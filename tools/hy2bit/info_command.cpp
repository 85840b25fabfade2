// hy2bit info: what a GGUF file holds (metadata and tensor table, like
// gguf-dump) and, for a hunyuan-dense model, the config and the kernel path
// this machine would run it on, from hy2bit/inspect.h (no model is loaded).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "hy2bit/inspect.h"

namespace hy2bit::tools {
namespace {

struct InfoOptions {
  std::string model_path;
  size_t array_items = 8;   // array elements printed before "..."
  bool tensors = true;
};

// "{512, 1000}": a tensor's sizes in ggml order.
std::string shape_text(const std::vector<int64_t>& ne) {
  std::string shape = "{";
  for (size_t d = 0; d < ne.size(); ++d) shape += (d ? ", " : "") + std::to_string(ne[d]);
  return shape + "}";
}

int run_info(const InfoOptions& o) {
  Result<GgufSummary> file = inspect_file(o.model_path, {.array_items = o.array_items});
  if (!file) return fail("info", file.error().message);

  std::printf("file: %s (%s)\n", o.model_path.c_str(), format_bytes(file->file_bytes).c_str());
  std::printf("gguf: version %u, %zu metadata keys, %zu tensors, alignment %llu\n", file->version,
              file->metadata.size(), file->tensors.size(), static_cast<unsigned long long>(file->alignment));

  std::printf("\nmetadata:\n");
  for (const GgufMetadataRow& m : file->metadata)
    std::printf("  %-48s %-8s %s\n", m.key.c_str(), m.type_name.c_str(), m.value_text.c_str());

  if (o.tensors) {
    std::printf("\ntensors:\n  %-32s %-6s %-22s %12s %12s\n", "name", "type", "shape", "bytes", "offset");
    for (const GgufTensorRow& t : file->tensors)
      std::printf("  %-32s %-6s %-22s %12llu %12llu\n", t.name.c_str(), t.type_name.c_str(), shape_text(t.ne).c_str(),
                  static_cast<unsigned long long>(t.n_bytes), static_cast<unsigned long long>(t.offset));
  }

  const Result<std::string>& isa = file->kernel_isa;
  std::printf("\nkernels: %s (available here:", isa ? isa->c_str() : isa.error().message.c_str());
  for (const std::string& name : file->available_isas) std::printf(" %s", name.c_str());
  std::printf(")\n");

  if (file->model) {
    const Result<GgufModelConfig>& config = *file->model;
    if (!config) {
      std::printf("model: not loadable: %s\n", config.error().message.c_str());
      return 0;
    }
    const GgufModelConfig& c = *config;
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
