// hy2bit convert HF_DIR OUT.gguf: a Hugging Face HunYuanDenseV1ForCausalLM
// folder to a hunyuan-dense GGUF, as llama.cpp's convert_hf_to_gguf.py does,
// with a progress bar and a report of the 2-bit grid check.
#include <cstdio>
#include <memory>

#include "commands.h"
#include "hy2bit/atomic_write.h"
#include "hy2bit/convert.h"
#include "progress.h"

namespace hy2bit::tools {
namespace {

struct ConvertFlags {
  std::string hf_dir, out_path, outtype = "f16";
  bool vocab_only = false;
};

int run_convert(const ConvertFlags& f) {
  ConvertOptions options;
  options.hf_dir = f.hf_dir;
  options.out_path = f.out_path;
  options.vocab_only = f.vocab_only;
  if (f.outtype == "f16") options.outtype = ConvertOutType::kF16;
  else if (f.outtype == "bf16") options.outtype = ConvertOutType::kBF16;
  else if (f.outtype == "f32") options.outtype = ConvertOutType::kF32;
  else return fail("convert", "unknown --outtype '" + f.outtype + "' (expected f16, bf16 or f32)");

  remove_temp_files_on_signal();  // Ctrl-C leaves no half-written temporary file
  ProgressBar progress("converting");
  options.progress = [&](size_t done, size_t total) { progress.update(done, total); };
  Result<ConvertReport> r = convert_hf_checkpoint(options);
  progress.finish();
  if (!r) return fail("convert", r.error().message);

  std::printf("hy2bit convert: %s -> %s (%s) in %.1f s\n", f.hf_dir.c_str(), f.out_path.c_str(),
              f.vocab_only ? "vocabulary only" : f.outtype.c_str(), r->seconds);
  std::printf("  vocabulary: %lld tokens, %lld merges (from %s)\n", static_cast<long long>(r->n_vocab),
              static_cast<long long>(r->n_merges), r->tokenizer_source.c_str());
  if (f.vocab_only) return 0;
  std::printf("  tensors: %lld written (%s), %lld skipped\n", static_cast<long long>(r->n_tensors),
              format_bytes(r->tensor_bytes).c_str(), static_cast<long long>(r->n_skipped));
  if (r->linear_rows > 0) {
    std::printf("  2-bit grid: %lld of %lld linear rows on the grid", static_cast<long long>(r->grid_rows),
                static_cast<long long>(r->linear_rows));
    if (r->grid_rows == r->linear_rows) std::printf(" (quantize ... q2_0c will be lossless)\n");
    else std::printf("; largest |error| of the others as q2_0c: %g\n", r->max_grid_error);
  }
  if (r->unchecked_rows > 0)
    std::printf("  2-bit grid: %lld linear rows are not a multiple of 512 long (q2_0c cannot hold them)\n",
                static_cast<long long>(r->unchecked_rows));
  return 0;
}

}  // namespace

void add_convert_command(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<ConvertFlags>();
  CLI::App* cmd = app.add_subcommand(
      "convert", "Convert a Hugging Face HunYuanDenseV1ForCausalLM folder to GGUF (like convert_hf_to_gguf.py)");
  cmd->add_option("hf_dir", f->hf_dir, "folder with config.json, tokenizer.json or hy.tiktoken, *.safetensors")->required();
  cmd->add_option("output", f->out_path, "GGUF to write")->required();
  cmd->add_option("--outtype", f->outtype, "type of the linear weights and embeddings: f16, bf16 or f32 (norms stay f32)")
      ->capture_default_str();
  cmd->add_flag("--vocab-only", f->vocab_only, "write the metadata and vocabulary only");
  cmd->callback([f, &exit_code] { exit_code = run_convert(*f); });
}

}  // namespace hy2bit::tools
