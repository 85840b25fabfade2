// Binding tensors by name (llama.cpp's names, verbatim) with shape checks, and
// checking that every tensor in the file was used.
#include "model/weights.h"

#include <set>
#include <string>

#include "formats/convert.h"

namespace hy2bit::model {
namespace {

std::string shape_text(std::span<const int64_t> ne) {
  std::string s = "{";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "}";
}

// Looks tensors up, checks shapes and remembers which were used.
class Binder {
 public:
  Binder(const gguf::File& file, const kernels::KernelTable& kernels, kernels::WeightArena& arena,
         const ReleaseFn& release_file_bytes)
      : file_(file), kernels_(kernels), arena_(arena), release_(release_file_bytes) {}

  // The tensor `name` with exactly the shape `ne`; nullptr + no error when
  // optional and absent.
  Result<const gguf::TensorInfo*> find(const std::string& name, std::vector<int64_t> ne,
                                       bool required) {
    const gguf::TensorInfo* t = file_.find_tensor(name);
    if (!t) {
      if (!required) return static_cast<const gguf::TensorInfo*>(nullptr);
      return make_error("tensor '", name, "' is missing from the model (expected shape ",
                        shape_text(ne), ")");
    }
    std::vector<int64_t> actual(t->ne, t->ne + t->n_dims);
    if (actual != ne)
      return make_error("tensor '", name, "' has shape ", shape_text(actual), ", expected ",
                        shape_text(ne));
    used_.insert(t->name);
    return t;
  }

  // A 1-D vector (norm weight or bias) decoded to f32; empty when optional
  // and absent. Its file pages are released like a repacked matrix's: the
  // copy is all the model reads.
  Result<std::vector<float>> vector(const std::string& name, int64_t n, bool required = true) {
    Result<const gguf::TensorInfo*> t = find(name, {n}, required);
    if (!t) return t.error();
    if (!*t) return std::vector<float>{};
    std::vector<float> values(static_cast<size_t>(n));
    formats::dequantize((*t)->type.id, (*t)->data.data(), values.data(), n);
    if (release_) release_((*t)->data);
    return values;
  }

  // A 2-D linear weight {n_in, n_out} prepared for the kernels.
  Result<kernels::PreparedWeights> matrix(const std::string& name, int64_t n_in, int64_t n_out) {
    Result<const gguf::TensorInfo*> t = find(name, {n_in, n_out}, true);
    if (!t) return t.error();
    return prepare(**t);
  }

  Result<kernels::PreparedWeights> prepare(
      const gguf::TensorInfo& t,
      kernels::WeightArena::Placement placement = kernels::WeightArena::Placement::kInOrder) {
    kernels::WeightView view{t.type, t.ne[0], t.ne[1], t.data};
    Result<kernels::PreparedWeights> prepared =
        kernels::PreparedWeights::prepare(kernels_, view, &arena_, placement);
    if (!prepared) return make_error("tensor '", t.name, "': ", prepared.error().message);
    file_bytes_ += t.n_bytes;
    repacked_bytes_ += prepared->repacked_bytes();
    if (prepared->repacked_bytes() > 0 && release_) release_(t.data);
    return prepared;
  }

  // Every tensor of the file must have been bound.
  Status check_all_used() const {
    for (const gguf::TensorInfo& t : file_.tensors())
      if (!used_.count(t.name))
        return make_error("tensor '", t.name, "' is not used by the ", kArchitecture,
                          " architecture (unexpected tensor in the model file)");
    return Ok{};
  }

  uint64_t file_bytes() const { return file_bytes_; }
  uint64_t repacked_bytes() const { return repacked_bytes_; }

 private:
  const gguf::File& file_;
  const kernels::KernelTable& kernels_;
  kernels::WeightArena& arena_;
  const ReleaseFn& release_;
  std::set<std::string_view> used_;
  uint64_t file_bytes_ = 0;
  uint64_t repacked_bytes_ = 0;
};

// Assigns a Result's value to `out` or returns its error from the caller.
#define HY2BIT_ASSIGN(out, expr)                     \
  do {                                               \
    auto hy2bit_assign_result_ = (expr);             \
    if (!hy2bit_assign_result_) return hy2bit_assign_result_.error(); \
    (out) = std::move(hy2bit_assign_result_).value(); \
  } while (0)

// An upper bound on the repacked bytes of every matrix in the file (a
// repacked copy is its file bytes plus the padding of one row tile and of
// the block heads). Only address space: pages cost memory once written.
size_t repacked_capacity(const gguf::File& file) {
  constexpr uint64_t kMaxPaddedRows = 64, kHeadPadding = 4096;
  uint64_t total = 0;
  for (const gguf::TensorInfo& t : file.tensors())
    if (t.n_dims == 2 && t.ne[1] > 0)
      total += t.n_bytes + kMaxPaddedRows * (t.n_bytes / static_cast<uint64_t>(t.ne[1])) + kHeadPadding;
  return static_cast<size_t>(total);
}

Result<LayerWeights> bind_layer(Binder& b, const ModelConfig& c, int64_t il) {
  const std::string p = "blk." + std::to_string(il) + ".";
  LayerWeights l;
  HY2BIT_ASSIGN(l.attn_norm, b.vector(p + "attn_norm.weight", c.n_embd));
  HY2BIT_ASSIGN(l.attn_q, b.matrix(p + "attn_q.weight", c.n_embd, c.q_dim()));
  HY2BIT_ASSIGN(l.attn_k, b.matrix(p + "attn_k.weight", c.n_embd, c.kv_dim()));
  HY2BIT_ASSIGN(l.attn_v, b.matrix(p + "attn_v.weight", c.n_embd, c.kv_dim()));
  HY2BIT_ASSIGN(l.attn_output, b.matrix(p + "attn_output.weight", c.q_dim(), c.n_embd));
  HY2BIT_ASSIGN(l.attn_q_bias, b.vector(p + "attn_q.bias", c.q_dim(), false));
  HY2BIT_ASSIGN(l.attn_k_bias, b.vector(p + "attn_k.bias", c.kv_dim(), false));
  HY2BIT_ASSIGN(l.attn_v_bias, b.vector(p + "attn_v.bias", c.kv_dim(), false));
  HY2BIT_ASSIGN(l.attn_output_bias, b.vector(p + "attn_output.bias", c.n_embd, false));
  HY2BIT_ASSIGN(l.attn_q_norm, b.vector(p + "attn_q_norm.weight", c.head_dim));
  HY2BIT_ASSIGN(l.attn_k_norm, b.vector(p + "attn_k_norm.weight", c.head_dim));
  HY2BIT_ASSIGN(l.ffn_norm, b.vector(p + "ffn_norm.weight", c.n_embd));
  HY2BIT_ASSIGN(l.ffn_gate, b.matrix(p + "ffn_gate.weight", c.n_embd, c.n_ff));
  HY2BIT_ASSIGN(l.ffn_up, b.matrix(p + "ffn_up.weight", c.n_embd, c.n_ff));
  HY2BIT_ASSIGN(l.ffn_down, b.matrix(p + "ffn_down.weight", c.n_ff, c.n_embd));
  return l;
}

}  // namespace

Result<ModelWeights> bind_weights(const gguf::File& file, const ModelConfig& config,
                                  const kernels::KernelTable& kernels, const ReleaseFn& release_file_bytes) {
  // The config may come from anywhere: block_count is checked against the
  // tensor table (and the last block's first tensor looked up) before anything
  // is reserved, so a huge count costs an error, not gigabytes.
  if (config.n_layer <= 0 || static_cast<uint64_t>(config.n_layer) * kTensorsPerBlock > file.tensors().size())
    return make_error("block_count ", config.n_layer, " needs ", kTensorsPerBlock,
                      " tensors per block, but the file has ", file.tensors().size(), " tensors");
  const std::string last_block = "blk." + std::to_string(config.n_layer - 1) + ".attn_norm.weight";
  if (!file.find_tensor(last_block))
    return make_error("block_count is ", config.n_layer, ", but tensor '", last_block,
                      "' is missing from the model");
  ModelWeights w;
  w.arena = std::make_unique<kernels::WeightArena>(repacked_capacity(file));
  Binder b(file, kernels, *w.arena, release_file_bytes);
  const int64_t n_vocab = config.n_vocab;
  if (n_vocab <= 0) return make_error("the model has no tokenizer.ggml.tokens array, so its vocabulary size is unknown");

  Result<const gguf::TensorInfo*> embd = b.find("token_embd.weight", {config.n_embd, n_vocab}, true);
  if (!embd) return embd.error();
  w.token_embd = **embd;
  HY2BIT_ASSIGN(w.output_norm, b.vector("output_norm.weight", config.n_embd));

  Result<const gguf::TensorInfo*> output = b.find("output.weight", {config.n_embd, n_vocab}, false);
  if (!output) return output.error();
  w.output_tied = (*output == nullptr);
  // Repacked first (the largest matrix: its file pages are released before
  // the layers' are touched, which keeps peak RSS at one copy), placed last
  // in the arena, where the forward pass reads it.
  HY2BIT_ASSIGN(w.output, b.prepare(w.output_tied ? w.token_embd : **output,
                                    kernels::WeightArena::Placement::kAtEnd));
  w.layers.reserve(static_cast<size_t>(config.n_layer));
  for (int64_t il = 0; il < config.n_layer; ++il) {
    Result<LayerWeights> layer = bind_layer(b, config, il);
    if (!layer) return layer.error();
    w.layers.push_back(std::move(layer).value());
  }
  HY2BIT_TRY(b.check_all_used());
  w.matmul_bytes = b.file_bytes();
  w.release_file_bytes = release_file_bytes;
  w.repacked_bytes = b.repacked_bytes();
  return w;
}

}  // namespace hy2bit::model
