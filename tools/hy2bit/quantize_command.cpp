// hy2bit quantize IN OUT TYPE: the llama-quantize of hy2bit. Converts a float
// GGUF (the QDQ checkpoint) to q2_0c (losslessly for on-grid rows), q8_0,
// q4_0, q6_k, f16 or bf16, with a progress bar and a per-type report.
#include <cstdio>
#include <memory>

#include "commands.h"
#include "hy2bit/atomic_write.h"
#include "hy2bit/quantize.h"
#include "progress.h"

namespace hy2bit::tools {
namespace {

int run_quantize(QuantizeOptions& o) {
  // Bad type names are reported before the progress bar starts.
  if (Status checked = check_quantize_options(o); !checked) return fail("quantize", checked.error().message);
  remove_temp_files_on_signal();  // Ctrl-C leaves no half-written temporary file
  ProgressBar progress("quantizing");
  o.progress = [&](size_t done, size_t total) { progress.update(done, total); };
  Result<QuantizeReport> report = quantize_file(o);
  progress.finish();
  if (!report) return fail("quantize", report.error().message);

  std::printf("hy2bit quantize: %s -> %s (%s) in %.1f s\n", o.in_path.c_str(), o.out_path.c_str(),
              o.type.c_str(), report->seconds);
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
  auto o = std::make_shared<QuantizeOptions>();
  CLI::App* cmd = app.add_subcommand("quantize", "Convert a float GGUF to q2_0c, q8_0, q4_0, q6_k, f16 or bf16 (like llama-quantize)");
  cmd->add_option("input", o->in_path, "float GGUF (e.g. the fp16 QDQ checkpoint)")->required();
  cmd->add_option("output", o->out_path, "GGUF to write")->required();
  cmd->add_option("type", o->type, "q2_0c, q8_0, q4_0, q6_k, f16 or bf16")->required();
  cmd->add_option("--token-embedding-type", o->token_embedding_type, "type of token_embd.weight (default: q6_K for q2_0c/q4_0)");
  cmd->add_option("--output-type", o->output_type, "type of output.weight (default: as the embedding)");
  cmd->add_option("-t,--threads", o->n_threads, "threads (default: physical cores)")->check(CLI::NonNegativeNumber);
  cmd->callback([o, &exit_code] { exit_code = run_quantize(*o); });
}

}  // namespace hy2bit::tools
