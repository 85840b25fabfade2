// hy2bit/test_model.h: options resolved against model::test_model_preset
// and checked by model::validate, then model::write_test_model.
#include "hy2bit/test_model.h"

#include "formats/type_id.h"
#include "model/test_model.h"

namespace hy2bit {
namespace {

// The preset with the options' type, overrides and seed, validated.
Result<model::TestModelSpec> resolve(const TestModelOptions& o) {
  std::optional<model::TestModelSpec> spec = model::test_model_preset(o.preset);
  if (!spec) return make_error("unknown preset '", o.preset, "' (expected tiny or hy-1.8b)");
  std::optional<formats::TypeInfo> type = formats::type_info_from_name(o.type);
  if (!type) return make_error("unknown type '", o.type, "' (expected f16, bf16 or f32)");
  spec->type = type->id;  // validate() refuses the quantized types
  if (o.n_layer) spec->n_layer = *o.n_layer;
  if (o.n_embd) spec->n_embd = *o.n_embd;
  if (o.n_ff) spec->n_ff = *o.n_ff;
  if (o.n_head) spec->n_head = *o.n_head;
  if (o.n_head_kv) spec->n_head_kv = *o.n_head_kv;
  if (o.head_dim) spec->head_dim = *o.head_dim;
  if (o.n_vocab) spec->n_vocab = *o.n_vocab;
  if (o.seed) spec->seed = *o.seed;
  HY2BIT_TRY(model::validate(*spec));
  return *spec;
}

TestModelShape shape_of(const model::TestModelSpec& s) {
  return {.n_layer = s.n_layer, .n_embd = s.n_embd, .n_ff = s.n_ff, .n_head = s.n_head,
          .n_head_kv = s.n_head_kv, .head_dim = s.head_dim, .n_vocab = s.n_vocab, .seed = s.seed};
}

}  // namespace

Result<TestModelShape> check_test_model_options(const TestModelOptions& options) {
  Result<model::TestModelSpec> spec = resolve(options);
  if (!spec) return spec.error();
  return shape_of(*spec);
}

Result<TestModelShape> write_test_model_file(const TestModelOptions& options) {
  Result<model::TestModelSpec> spec = resolve(options);
  if (!spec) return spec.error();
  HY2BIT_TRY(model::write_test_model(*spec, options.out_path, options.progress));
  return shape_of(*spec);
}

}  // namespace hy2bit
