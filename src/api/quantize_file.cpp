// hy2bit/quantize.h: the type names parsed into formats::TypeId (with the
// message the quantize command has always given), then quantize::quantize_model.
#include "hy2bit/quantize.h"

#include <optional>

#include "formats/type_id.h"
#include "quantize/quantize.h"
#include "runtime/thread_pool.h"

namespace hy2bit {
namespace {

using formats::TypeId;

// `what` names the option in the message: "type", "--token-embedding-type".
Result<TypeId> parse_type(const std::string& name, const std::string& what) {
  std::optional<formats::TypeInfo> info = formats::type_info_from_name(name);
  if (!info) return make_error("unknown ", what, " '", name, "' (expected q2_0c, q8_0, q4_0, q6_k, f16, bf16 or f32)");
  return info->id;
}

// The options with their types parsed; n_threads is left to the caller.
Result<quantize::QuantizeOptions> typed_options(const QuantizeOptions& o) {
  quantize::QuantizeOptions typed;
  Result<TypeId> target = parse_type(o.type, "type");
  if (!target) return target.error();
  typed.target = *target;
  if (!o.token_embedding_type.empty()) {
    Result<TypeId> t = parse_type(o.token_embedding_type, "--token-embedding-type");
    if (!t) return t.error();
    typed.token_embedding_type = *t;
  }
  if (!o.output_type.empty()) {
    Result<TypeId> t = parse_type(o.output_type, "--output-type");
    if (!t) return t.error();
    typed.output_type = *t;
  }
  return typed;
}

}  // namespace

Status check_quantize_options(const QuantizeOptions& options) {
  HY2BIT_TRY(typed_options(options));
  return Ok{};
}

Result<QuantizeReport> quantize_file(const QuantizeOptions& options) {
  Result<quantize::QuantizeOptions> typed = typed_options(options);
  if (!typed) return typed.error();
  typed->n_threads = options.n_threads > 0 ? options.n_threads : runtime::physical_core_count();
  return quantize::quantize_model(options.in_path, options.out_path, *typed, options.progress);
}

}  // namespace hy2bit
