// hy2bit::Model and hy2bit::Session: the public face of model/transformer.h.
#include <algorithm>
#include <map>
#include <mutex>

#include "api/model_impl.h"
#include "hy2bit/model.h"
#include "kernels/dispatch.h"

namespace hy2bit {
namespace {

// "q2_0c" when one type holds most linear-weight bytes, plus the others by size.
std::string describe_weight_types(const gguf::File& file) {
  std::map<std::string_view, uint64_t> bytes_by_type;
  for (const gguf::TensorInfo& t : file.tensors())
    if (t.n_dims >= 2) bytes_by_type[t.type.name] += t.n_bytes;
  std::vector<std::pair<uint64_t, std::string_view>> sorted;
  for (const auto& [name, bytes] : bytes_by_type) sorted.push_back({bytes, name});
  std::sort(sorted.rbegin(), sorted.rend());
  std::string text;
  for (const auto& [bytes, name] : sorted) {
    if (!text.empty()) text += '+';
    text += name;
  }
  return text;
}

// What the file says of itself (read before its metadata is dropped).
ModelSummary summarize_file(const std::string& path, const gguf::File& file, const Model::Impl& impl) {
  ModelSummary s;
  s.path = path;
  s.architecture = std::string(model::kArchitecture);
  s.weight_types = describe_weight_types(file);
  for (const gguf::TensorInfo& tensor : file.tensors()) {
    s.n_params += static_cast<uint64_t>(tensor.n_elems());
    s.weight_bytes += tensor.n_bytes;
  }
  s.file_bytes = impl.mapped->bytes().size();
  s.n_vocab = impl.tokenizer->n_vocab();
  if (Result<std::string_view> name = file.get_string("general.name")) s.name = std::string(*name);
  return s;
}

// The bound model's shape, kernels and threads.
void summarize_runtime(const Model::Impl& impl, ModelSummary& s) {
  s.n_threads = impl.pool->size();
  if (!impl.transformer) return;
  const model::ModelConfig& c = impl.transformer->config();
  s.isa = std::string(kernels::isa_name(impl.transformer->kernels()));
  s.n_layer = c.n_layer; s.n_embd = c.n_embd; s.n_ff = c.n_ff;
  s.n_head = c.n_head; s.n_head_kv = c.n_head_kv; s.head_dim = c.head_dim;
  s.n_ctx_train = c.n_ctx_train;
  s.repacked_bytes = impl.transformer->weights().repacked_bytes;
  s.decode_bytes = impl.transformer->weights().matmul_bytes;
}

// EOS, EOT, EOM and Hunyuan's end-of-turn / end-of-sentence tokens when present.
std::vector<int32_t> find_end_tokens(const text::Tokenizer& tokenizer) {
  std::vector<int32_t> ids;
  for (int32_t id = 0; id < tokenizer.n_vocab(); ++id)
    if (tokenizer.is_eog(id)) ids.push_back(id);
  for (std::string_view text : {"<｜hy_place▁holder▁no▁2｜>", "<｜hy_end▁of▁sentence｜>"})
    if (std::optional<int32_t> id = tokenizer.find_token(text)) ids.push_back(*id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

Result<std::shared_ptr<Model>> Model::load(const LoadOptions& options) {
  auto impl = std::make_unique<Impl>();
  if (!options.model_bytes.empty()) {
    impl->mapped = gguf::MappedFile::borrow(options.model_path, options.model_bytes);
  } else {
    Result<std::unique_ptr<gguf::MappedFile>> mapped = gguf::MappedFile::open(options.model_path);
    if (!mapped) return mapped.error();
    impl->mapped = std::move(mapped).value();
  }
  Result<gguf::File> file = gguf::File::parse(impl->mapped->bytes());
  if (!file) return make_error(options.model_path, ": ", file.error().message);

  Result<text::Tokenizer> tokenizer = text::Tokenizer::from_gguf(*file);
  if (!tokenizer) return make_error(options.model_path, ": ", tokenizer.error().message);
  impl->tokenizer = std::make_unique<text::Tokenizer>(std::move(tokenizer).value());
  impl->end_tokens = find_end_tokens(*impl->tokenizer);
  Result<model::ModelConfig> config = model::read_config(*file);
  if (!options.vocab_only && !config) return make_error(options.model_path, ": ", config.error().message);
  impl->summary = summarize_file(options.model_path, *file, *impl);

  // The metadata has been read into the tokenizer, the config and the
  // summary; its values (17 MB on a 120k vocabulary) are freed, and its
  // pages leave the resident set, before the weights fill the arena, so
  // loading peaks at what the model keeps. The parsed table itself lives
  // only while loading: the tensors are bound to views into `mapped`.
  file->drop_metadata();
  impl->mapped->release(impl->mapped->bytes().first(
      std::min<size_t>(file->data_offset(), impl->mapped->bytes().size())));

  if (!options.vocab_only) {
    Result<const kernels::KernelTable*> kernels = kernels::active_kernels();
    if (!options.isa.empty()) {
      const kernels::KernelTable* chosen = kernels::kernels_for_isa(options.isa);
      if (!chosen) return make_error("kernel path '", options.isa, "' is unknown or not supported by this CPU");
      kernels = chosen;
    }
    if (!kernels) return kernels.error();
    // Pages of weights the kernels repacked are dropped as soon as each copy
    // exists, so the model is never resident twice, not even while loading;
    // token_embd's rows are dropped after each lookup (model/weights.h).
    Result<std::unique_ptr<model::Transformer>> transformer = model::Transformer::bind(
        *file, std::move(config).value(), **kernels,
        [mapped = impl->mapped.get()](std::span<const uint8_t> bytes) { mapped->release(bytes); });
    if (!transformer) return make_error(options.model_path, ": ", transformer.error().message);
    impl->transformer = std::move(transformer).value();
    if (impl->tokenizer->n_vocab() != impl->transformer->config().n_vocab)
      return make_error(options.model_path, ": the tokenizer has ", impl->tokenizer->n_vocab(),
                        " tokens but the model ", impl->transformer->config().n_vocab);
  }
  const int n_threads = options.n_threads > 0 ? options.n_threads : runtime::physical_core_count();
  impl->pool = std::make_unique<runtime::ThreadPool>(n_threads);
  summarize_runtime(*impl, impl->summary);
  // Binding has read every tensor into a repacked copy or an f32 vector;
  // what the OS still maps of the file (small tensors, and pages fault-around
  // mapped back beside released ones: 14 MB on the 1.8B model) leaves the
  // resident set. A part read again later is mapped again from the cache.
  impl->mapped->release(impl->mapped->bytes());
  return std::shared_ptr<Model>(new Model(std::move(impl)));
}

const ModelSummary& Model::summary() const { return impl_->summary; }

struct Session::State {
  model::Context context;
  std::vector<int32_t> tokens;  // what the KV cache holds, in order
};

Session::Session(std::shared_ptr<const Model> model, const SessionOptions& options)
    : model_(std::move(model)),
      state_(std::make_unique<State>(State{
          model::Context(*model_->impl().transformer, options.n_ctx, options.n_batch,
                         options.cache_type == CacheType::kQ8_0 ? model::KvType::kQ8_0
                                                                : model::KvType::kF16),
          {}})) {}
Session::~Session() = default;

Result<std::unique_ptr<Session>> Session::create(std::shared_ptr<const Model> model,
                                                 const SessionOptions& options) {
  if (!model) return make_error("no model given for the session");
  if (!model->impl().transformer)
    return make_error("the model was loaded vocabulary-only, so it cannot evaluate tokens");
  if (options.n_ctx < 1 || options.n_ctx > (int64_t{1} << 22))
    return make_error("context size ", options.n_ctx, " is out of range (1..4194304)");
  if (options.n_batch < 1)
    return make_error("batch size ", options.n_batch, " must be at least 1");
  const int64_t head_dim = model->impl().transformer->config().head_dim;
  if (options.cache_type == CacheType::kQ8_0 && head_dim % 32 != 0)
    return make_error("--cache-type q8_0 needs a head size that is a multiple of 32 (this model's is ",
                      head_dim, "); use f16");
  return std::unique_ptr<Session>(new Session(std::move(model), options));
}

Result<std::span<const float>> Session::eval(std::span<const int32_t> tokens, bool all_logits) {
  Model::Impl& impl = model_->impl();
  std::lock_guard<std::mutex> lock(impl.pool_mutex);
  Result<std::span<const float>> logits = state_->context.eval(
      tokens, all_logits ? model::LogitsFor::kAllTokens : model::LogitsFor::kLastToken, *impl.pool);
  if (logits) state_->tokens.insert(state_->tokens.end(), tokens.begin(), tokens.end());
  return logits;
}

Result<std::span<const float>> Session::eval_hidden(std::span<const int32_t> tokens) {
  Model::Impl& impl = model_->impl();
  std::lock_guard<std::mutex> lock(impl.pool_mutex);
  Result<std::span<const float>> hidden = state_->context.eval_hidden(tokens, *impl.pool);
  if (hidden) state_->tokens.insert(state_->tokens.end(), tokens.begin(), tokens.end());
  return hidden;
}

Result<std::vector<std::span<const float>>> decode_batch(std::span<const BatchStep> steps) {
  if (steps.empty()) return std::vector<std::span<const float>>{};
  const Model& model = steps.front().session->model();
  std::vector<model::Context*> contexts;
  std::vector<int32_t> tokens;
  for (const BatchStep& step : steps) {
    if (&step.session->model() != &model) return make_error("decode_batch: sessions of different models");
    for (model::Context* c : contexts)
      if (c == &step.session->state_->context) return make_error("decode_batch: a session appears twice");
    contexts.push_back(&step.session->state_->context);
    tokens.push_back(step.token);
  }
  Model::Impl& impl = model.impl();
  std::lock_guard<std::mutex> lock(impl.pool_mutex);
  const auto n = static_cast<int64_t>(steps.size());
  if (!impl.batch_activations || impl.batch_activations->capacity < n)
    impl.batch_activations = std::make_unique<model::Activations>(impl.transformer->config(), std::max<int64_t>(n, 8));
  HY2BIT_TRY(model::decode_multi(contexts, tokens, *impl.batch_activations, *impl.pool));
  std::vector<std::span<const float>> logits;
  for (const BatchStep& step : steps) {
    step.session->state_->tokens.push_back(step.token);
    logits.push_back(step.session->state_->context.last_logits());
  }
  return logits;
}

int64_t Session::n_past() const { return state_->context.n_past(); }
int64_t Session::n_ctx() const { return state_->context.n_ctx(); }
std::span<const int32_t> Session::tokens() const { return state_->tokens; }
void Session::reset() {
  state_->context.reset();
  state_->tokens.clear();
}
void Session::truncate(int64_t n_past) {
  state_->context.truncate(n_past);
  state_->tokens.resize(static_cast<size_t>(state_->context.n_past()));
}

}  // namespace hy2bit
