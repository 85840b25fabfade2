// Fuzz target: a GGUF file from a stranger, read the way `hy2bit run` loads a
// model: parse (header, metadata, tensor table), read the config, bind every
// weight by name and shape on the scalar kernel path. Every metadata value
// and every tensor's bytes are touched, so a view that reaches outside the
// input is an ASan report. Seeds: micro models of every tensor type
// (fuzz/make_seeds.py).
#include <cstddef>
#include <cstdint>
#include <span>

#include "support.h"
#include "gguf/gguf.h"
#include "kernels/dispatch.h"
#include "model/config.h"
#include "model/weights.h"

namespace {

using namespace hy2bit;

// Reads a value through every typed accessor, recursing into arrays.
uint64_t touch(const gguf::Value& v) {
  uint64_t h = 0;
  if (auto x = v.as_uint()) h += *x;
  if (auto x = v.as_int()) h += static_cast<uint64_t>(*x);
  if (auto x = v.as_float()) h += *x > 0;
  if (auto x = v.as_bool()) h += *x;
  if (auto s = v.as_string()) h += s->empty() ? 0 : static_cast<uint8_t>(s->back());
  if (const gguf::Array* a = v.as_array())
    for (const gguf::Value& e : a->elems) h += touch(e);
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Result<gguf::File> file = gguf::File::parse(std::span<const uint8_t>(data, size));
  if (!file) {
    fuzz::trace_refusal("parse", file.error());
    return 0;
  }
  volatile uint64_t sink = 0;
  for (const auto& [key, value] : file->metadata()) {
    sink = sink + touch(value) + key.size();
    fuzz::check(file->find(key) != nullptr, "every metadata key can be found");
  }
  for (const gguf::TensorInfo& t : file->tensors()) {
    fuzz::check(t.data.size() == t.n_bytes, "a tensor's view holds its bytes");
    if (!t.data.empty()) sink = sink + t.data.front() + t.data.back();
    fuzz::check(file->find_tensor(t.name) == &t, "every tensor can be found by name");
  }

  Result<model::ModelConfig> config = model::read_config(*file);
  if (!config) {
    fuzz::trace_refusal("config", config.error());
    return 0;
  }
  static const kernels::KernelTable* scalar = kernels::kernels_for_isa("scalar");
  fuzz::check(scalar != nullptr, "the scalar kernel path exists");
  Result<model::ModelWeights> weights = model::bind_weights(*file, *config, *scalar);
  if (!weights) {
    fuzz::trace_refusal("weights", weights.error());
    return 0;
  }
  fuzz::check(weights->layers.size() == static_cast<size_t>(config->n_layer), "one bound layer per block");
  fuzz::trace_refusal("ok", make_error("bound ", weights->layers.size(), " layers"));
  return 0;
}
