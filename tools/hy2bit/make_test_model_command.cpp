// hy2bit make-test-model: writes a random hunyuan-dense GGUF (linear weights
// on the 2-bit QDQ grid, a valid byte-level BPE vocab with the Hunyuan
// control tokens). `--preset hy-1.8b` has the real model's shapes and is what
// the benchmarks use; `tiny` is the demo and test model.
#include <cstdio>
#include <memory>
#include <optional>

#include "commands.h"
#include "formats/type_id.h"
#include "model/test_model.h"
#include "progress.h"

namespace hy2bit::tools {
namespace {

struct MakeTestModelOptions {
  std::string out_path;
  std::string preset = "tiny";
  std::string type = "f16";
  std::optional<int64_t> n_layer, n_embd, n_ff, n_head, n_head_kv, head_dim, n_vocab;
  std::optional<uint64_t> seed;
};

int run_make_test_model(const MakeTestModelOptions& o) {
  std::optional<model::TestModelSpec> spec = model::test_model_preset(o.preset);
  if (!spec) return fail("make-test-model", "unknown preset '" + o.preset + "' (expected tiny or hy-1.8b)");
  std::optional<formats::TypeInfo> type = formats::type_info_from_name(o.type);
  if (!type) return fail("make-test-model", "unknown type '" + o.type + "' (expected f16, bf16 or f32)");
  spec->type = type->id;
  if (o.n_layer) spec->n_layer = *o.n_layer;
  if (o.n_embd) spec->n_embd = *o.n_embd;
  if (o.n_ff) spec->n_ff = *o.n_ff;
  if (o.n_head) spec->n_head = *o.n_head;
  if (o.n_head_kv) spec->n_head_kv = *o.n_head_kv;
  if (o.head_dim) spec->head_dim = *o.head_dim;
  if (o.n_vocab) spec->n_vocab = *o.n_vocab;
  if (o.seed) spec->seed = *o.seed;
  if (Status valid = model::validate(*spec); !valid) return fail("make-test-model", valid.error().message);

  ProgressBar progress("writing " + o.out_path);
  Status written = model::write_test_model(*spec, o.out_path,
                                           [&](size_t done, size_t total) { progress.update(done, total); });
  progress.finish();
  if (!written) return fail("make-test-model", written.error().message);
  std::fprintf(stderr, "hy2bit make-test-model: wrote %s (%lld layers, n_embd %lld, n_vocab %lld, %s, seed %llu)\n",
               o.out_path.c_str(), (long long)spec->n_layer, (long long)spec->n_embd,
               (long long)spec->n_vocab, o.type.c_str(), (unsigned long long)spec->seed);
  return 0;
}

}  // namespace

void add_make_test_model_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<MakeTestModelOptions>();
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
