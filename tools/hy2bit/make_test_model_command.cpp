// hy2bit make-test-model: writes a random hunyuan-dense GGUF (linear weights
// on the 2-bit QDQ grid, a valid byte-level BPE vocab with the Hunyuan
// control tokens). `--preset hy-1.8b` has the real model's shapes and is what
// the benchmarks use; `tiny` is the demo and test model.
#include <cstdio>
#include <memory>

#include "commands.h"
#include "hy2bit/atomic_write.h"
#include "hy2bit/test_model.h"
#include "progress.h"

namespace hy2bit::tools {
namespace {

int run_make_test_model(TestModelOptions& o) {
  // Bad options are reported before the progress bar starts.
  if (Result<TestModelShape> checked = check_test_model_options(o); !checked)
    return fail("make-test-model", checked.error().message);
  remove_temp_files_on_signal();  // Ctrl-C leaves no half-written temporary file
  ProgressBar progress("writing " + o.out_path);
  o.progress = [&](size_t done, size_t total) { progress.update(done, total); };
  Result<TestModelShape> written = write_test_model_file(o);
  progress.finish();
  if (!written) return fail("make-test-model", written.error().message);
  std::fprintf(stderr, "hy2bit make-test-model: wrote %s (%lld layers, n_embd %lld, n_vocab %lld, %s, seed %llu)\n",
               o.out_path.c_str(), (long long)written->n_layer, (long long)written->n_embd,
               (long long)written->n_vocab, o.type.c_str(), (unsigned long long)written->seed);
  return 0;
}

}  // namespace

void add_make_test_model_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<TestModelOptions>();
  CLI::App* cmd = app.add_subcommand("make-test-model",
                                     "Write a random hunyuan-dense GGUF with 2-bit-grid weights (for tests, demos and benchmarks)");
  cmd->add_option("--out", o->out_path, "output GGUF file")->required();
  cmd->add_option("--preset", o->preset, "tiny (2 layers, 512 hidden) or hy-1.8b (real shapes, 3.6 GB in f16)")->capture_default_str();
  cmd->add_option("--type", o->type, "tensor type of the weights: f16, bf16 or f32")->capture_default_str();
  cmd->add_option("--layers", o->n_layer, "transformer blocks")->check(CLI::PositiveNumber);
  cmd->add_option("--hidden", o->n_embd, "hidden size (multiple of 512)")->check(CLI::PositiveNumber);
  cmd->add_option("--ffn", o->n_ff, "feed-forward size (multiple of 512)")->check(CLI::PositiveNumber);
  cmd->add_option("--heads", o->n_head, "query heads")->check(CLI::PositiveNumber);
  cmd->add_option("--kv-heads", o->n_head_kv, "key/value heads")->check(CLI::PositiveNumber);
  cmd->add_option("--head-dim", o->head_dim, "size of each head")->check(CLI::PositiveNumber);
  cmd->add_option("--vocab", o->n_vocab, "vocabulary size (including 16 control tokens)")->check(CLI::PositiveNumber);
  cmd->add_option("--seed", o->seed, "random seed");
  cmd->callback([o, &exit_code] { exit_code = run_make_test_model(*o); });
}

}  // namespace hy2bit::tools
