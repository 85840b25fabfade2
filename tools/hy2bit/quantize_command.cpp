// hy2bit quantize IN OUT TYPE: the llama-quantize of hy2bit. Converts a float
// GGUF (the QDQ checkpoint) to q2_0c (losslessly for on-grid rows), q8_0,
// q4_0, q6_k, f16 or bf16, with a progress bar and a per-type report.
#include <cstdio>
#include <memory>
#include <optional>

#include "commands.h"
#include "formats/type_id.h"
#include "progress.h"
#include "quantize/quantize.h"
#include "runtime/atomic_file.h"
#include "runtime/thread_pool.h"

namespace hy2bit::tools {
namespace {

struct QuantizeFlags {
  std::string in_path, out_path, type;
  std::string token_embedding_type, output_type;
  int n_threads = 0;
};

Result<formats::TypeId> parse_type(const std::string& name, const std::string& what) {
  std::optional<formats::TypeInfo> info = formats::type_info_from_name(name);
  if (!info) return make_error("unknown ", what, " '", name, "' (expected q2_0c, q8_0, q4_0, q6_k, f16, bf16 or f32)");
  return info->id;
}

int run_quantize(const QuantizeFlags& f) {
  Result<formats::TypeId> target = parse_type(f.type, "type");
  if (!target) return fail("quantize", target.error().message);
  quantize::QuantizeOptions options;
  options.target = *target;
  if (!f.token_embedding_type.empty()) {
    Result<formats::TypeId> t = parse_type(f.token_embedding_type, "--token-embedding-type");
    if (!t) return fail("quantize", t.error().message);
    options.token_embedding_type = *t;
  }
  if (!f.output_type.empty()) {
    Result<formats::TypeId> t = parse_type(f.output_type, "--output-type");
    if (!t) return fail("quantize", t.error().message);
    options.output_type = *t;
  }
  options.n_threads = f.n_threads > 0 ? f.n_threads : runtime::physical_core_count();

  runtime::remove_temp_files_on_signal();  // Ctrl-C leaves no half-written temporary file
  ProgressBar progress("quantizing");
  Result<quantize::QuantizeReport> report = quantize::quantize_model(
      f.in_path, f.out_path, options, [&](size_t done, size_t total) { progress.update(done, total); });
  progress.finish();
  if (!report) return fail("quantize", report.error().message);

  std::printf("hy2bit quantize: %s -> %s (%s) in %.1f s\n", f.in_path.c_str(), f.out_path.c_str(),
              f.type.c_str(), report->seconds);
  std::printf("  %-8s %8s %14s\n", "type", "tensors", "bytes");
  for (const auto& [name, tally] : report->output_types)
    std::printf("  %-8s %8lld %14s\n", name.c_str(), static_cast<long long>(tally.tensors),
                format_bytes(tally.bytes).c_str());
  std::printf("  total: %s -> %s\n", format_bytes(report->input_bytes).c_str(),
              format_bytes(report->output_bytes).c_str());
  if (report->q2_0c_rows > 0) {
    std::printf("  q2_0c: %lld of %lld rows on the 2-bit grid (lossless)", static_cast<long long>(report->q2_0c_exact_rows),
                static_cast<long long>(report->q2_0c_rows));
    if (report->q2_0c_exact_rows < report->q2_0c_rows)
      std::printf("; largest |error| of the other rows: %g", report->q2_0c_max_error);
    std::printf("\n");
  }
  return 0;
}

}  // namespace

void add_quantize_command(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<QuantizeFlags>();
  CLI::App* cmd = app.add_subcommand("quantize", "Convert a float GGUF to q2_0c, q8_0, q4_0, q6_k, f16 or bf16 (like llama-quantize)");
  cmd->add_option("input", f->in_path, "float GGUF (e.g. the fp16 QDQ checkpoint)")->required();
  cmd->add_option("output", f->out_path, "GGUF to write")->required();
  cmd->add_option("type", f->type, "q2_0c, q8_0, q4_0, q6_k, f16 or bf16")->required();
  cmd->add_option("--token-embedding-type", f->token_embedding_type, "type of token_embd.weight (default: q6_K for q2_0c/q4_0)");
  cmd->add_option("--output-type", f->output_type, "type of output.weight (default: as the embedding)");
  cmd->add_option("-t,--threads", f->n_threads, "threads (default: physical cores)")->check(CLI::NonNegativeNumber);
  cmd->callback([f, &exit_code] { exit_code = run_quantize(*f); });
}

}  // namespace hy2bit::tools
