// hy2bit's llama-perplexity: the chunking and scoring rule (BOS first in
// each chunk, an empty cache per chunk, positions n_ctx/2 .. n_ctx-2 scored)
// shared by the perplexity run, the KLD base writer and the KLD comparison.
// Chunks are evaluated with the model's thread pool; the rows of a chunk are
// then scored on the same pool, each row on one thread, and summed in order
// so a run's numbers do not depend on the thread count's scheduling.
#include "hy2bit/perplexity.h"

#include <chrono>
#include <cmath>
#include <mutex>

#include "api/model_impl.h"
#include "eval/kld_base.h"
#include "eval/kld_stats.h"
#include "eval/log_probs.h"
#include "gguf/mapped_file.h"
#include "hy2bit/text.h"
#include "runtime/clock.h"
#include "text/utf8.h"

namespace hy2bit {
namespace {

using runtime::Clock;
using runtime::seconds_since;

// One chunk at a time: a fresh KV cache, BOS in place of the first token,
// logits for the positions that are scored.
class ChunkEvaluator {
 public:
  ChunkEvaluator(const Model& model, int64_t n_ctx, int64_t n_batch, CacheType cache_type)
      : impl_(model.impl()),
        n_ctx_(n_ctx),
        first_(n_ctx / 2),
        bos_(impl_.tokenizer->add_bos() ? impl_.tokenizer->bos() : -1),
        context_(*impl_.transformer, n_ctx, std::min(n_batch, n_ctx),
                 cache_type == CacheType::kQ8_0 ? model::KvType::kQ8_0 : model::KvType::kF16) {}

  // Logits (n_ctx - first, n_vocab) of positions first .. n_ctx-1 of chunk
  // `tokens` (n_ctx ids). The caller holds the pool's lock.
  Result<std::span<const float>> eval(std::span<const int32_t> tokens) {
    chunk_.assign(tokens.begin(), tokens.end());
    if (bos_ >= 0) chunk_[0] = bos_;
    context_.reset();
    return context_.eval(chunk_, model::LogitsFor::kAllTokens, *impl_.pool, first_);
  }

  int64_t first() const { return first_; }
  int64_t n_scored() const { return eval::scored_per_chunk(n_ctx_); }
  runtime::ThreadPool& pool() const { return *impl_.pool; }

 private:
  const Model::Impl& impl_;
  int64_t n_ctx_;
  int64_t first_;     // llama.cpp's first = n_ctx/2: positions before it are context only
  int32_t bos_;       // BOS id, or -1 when the model adds none
  model::Context context_;
  std::vector<int32_t> chunk_;  // the chunk as evaluated (BOS first)
};

Status check_run(const Model& model, int64_t n_tokens, const PerplexityOptions& o) {
  if (!model.impl().transformer)
    return make_error("the model was loaded vocabulary-only, so it cannot evaluate tokens");
  if (o.n_ctx < static_cast<int64_t>(eval::kKldBaseMinCtx) || o.n_ctx > static_cast<int64_t>(eval::kKldBaseMaxCtx))
    return make_error("context size ", o.n_ctx, " is out of range (", eval::kKldBaseMinCtx, "..",
                      eval::kKldBaseMaxCtx, ")");
  if (o.n_batch < 1) return make_error("batch size ", o.n_batch, " must be at least 1");
  if (o.n_chunks == 0 || o.n_chunks < -1) return make_error("--chunks ", o.n_chunks, " must be positive (or -1: all)");
  if (o.cache_type == CacheType::kQ8_0 && model.impl().transformer->config().head_dim % 32 != 0)
    return make_error("--cache-type q8_0 needs a head size that is a multiple of 32; use f16");
  if (n_tokens < 2 * o.n_ctx)
    return make_error("the text has only ", n_tokens, " tokens; perplexity with a context of ", o.n_ctx,
                      " needs at least ", 2 * o.n_ctx, " (use a longer text or a smaller -c)");
  return Ok{};
}

// Per-row results of a chunk, filled in parallel and summed in order.
struct RowResults {
  std::vector<eval::TokenScore> scores;   // (n_scored)
  std::vector<double> kld;                // (n_scored), KLD runs only
  std::vector<eval::KldRowHeader> base;   // (n_scored) the base's row headers, KLD runs only
  std::vector<eval::KldRowHeader> out;    // (n_scored) row headers to save, base-writing runs only
  std::vector<uint16_t> out_q;            // (n_scored, n_vocab) rows to save, base-writing runs only
};

// What a run does with each chunk besides scoring it.
enum class RunKind { kPerplexity, kWriteBase, kCompareBase };

struct Run {
  RunKind kind = RunKind::kPerplexity;
  eval::KldBaseWriter* writer = nullptr;    // kWriteBase
  const eval::KldBaseView* base = nullptr;  // kCompareBase
};

// Scores rows first .. n_ctx-2 of chunk `chunk` (logits of positions first..).
void score_chunk(ChunkEvaluator& ev, const Run& run, int64_t chunk, std::span<const float> logits,
                 std::span<const int32_t> chunk_tokens, int64_t n_vocab, RowResults& rows) {
  const int64_t n_scored = ev.n_scored();
  const auto vocab = static_cast<size_t>(n_vocab);
  rows.scores.resize(static_cast<size_t>(n_scored));
  if (run.kind == RunKind::kCompareBase) {
    rows.kld.resize(static_cast<size_t>(n_scored));
    rows.base.resize(static_cast<size_t>(n_scored));
  }
  if (run.kind == RunKind::kWriteBase) {
    rows.out.resize(static_cast<size_t>(n_scored));
    rows.out_q.resize(static_cast<size_t>(n_scored) * vocab);
  }
  ev.pool().run([&](int thread, int n_threads) {
    std::vector<uint16_t> base_q, model_q;  // this thread's rows (KLD runs)
    if (run.kind == RunKind::kCompareBase) {
      base_q.resize(vocab);
      model_q.resize(vocab);
    }
    const auto [begin, end] = runtime::split_range(n_scored, thread, n_threads);
    for (int64_t j = begin; j < end; ++j) {
      const auto row = static_cast<size_t>(j);
      const std::span<const float> l = logits.subspan(row * vocab, vocab);
      const int32_t next = chunk_tokens[static_cast<size_t>(ev.first() + j + 1)];
      rows.scores[row] = eval::score_token(l, next);
      if (run.kind == RunKind::kWriteBase) {
        const std::span<uint16_t> q(&rows.out_q[row * vocab], vocab);
        const eval::QuantizedRowParams p = eval::quantize_log_probs(l, q);
        rows.out[row] = {.scale = p.scale, .min_log_prob = p.min_log_prob,
                         .target_log_prob = static_cast<float>(-rows.scores[row].nll),
                         .top_token = static_cast<uint32_t>(rows.scores[row].top_token)};
      } else if (run.kind == RunKind::kCompareBase) {
        rows.base[row] = run.base->row(chunk, j, base_q);
        const eval::QuantizedRowParams mp = eval::quantize_log_probs(l, model_q);
        rows.kld[row] = eval::kl_divergence_of_rows(
            {.scale = rows.base[row].scale, .min_log_prob = rows.base[row].min_log_prob}, base_q, mp, model_q);
      }
    }
  });
}

// The chunk loop shared by all three kinds of run.
Result<PerplexityResult> run_chunks(const Model& model, std::span<const int32_t> tokens, int64_t n_chunks,
                                    const PerplexityOptions& o, const Run& run,
                                    const PerplexityCallback& on_chunk) {
  Model::Impl& impl = model.impl();
  const int64_t n_vocab = impl.transformer->config().n_vocab;
  ChunkEvaluator ev(model, o.n_ctx, o.n_batch, o.cache_type);
  RowResults rows;
  eval::KldStats kld;
  double nll = 0, nll2 = 0;  // sums of -log p and its square over scored positions
  int64_t count = 0;
  PerplexityResult result;
  result.n_text_tokens = static_cast<int64_t>(tokens.size());
  result.n_ctx = o.n_ctx;
  result.n_chunks = n_chunks;
  const Clock::time_point run_start = Clock::now();
  for (int64_t c = 0; c < n_chunks; ++c) {
    const Clock::time_point chunk_start = Clock::now();
    const std::span<const int32_t> chunk_tokens = tokens.subspan(static_cast<size_t>(c * o.n_ctx),
                                                                 static_cast<size_t>(o.n_ctx));
    {
      std::lock_guard<std::mutex> lock(impl.pool_mutex);
      Result<std::span<const float>> logits = ev.eval(chunk_tokens);
      if (!logits) return make_error("chunk ", c + 1, ": ", logits.error().message);
      score_chunk(ev, run, c, *logits, chunk_tokens, n_vocab, rows);
    }
    for (size_t j = 0; j < rows.scores.size(); ++j) {
      const double v = rows.scores[j].nll;
      nll += v;
      nll2 += v * v;
      ++count;
      if (run.kind == RunKind::kCompareBase)
        // nll rounded to float, as the base stores it: a model against its own base gives PPL(Q) == PPL(base).
        kld.add({.nll = static_cast<float>(v), .nll_base = -static_cast<double>(rows.base[j].target_log_prob), .kld = rows.kld[j],
                 .same_top = static_cast<uint32_t>(rows.scores[j].top_token) == rows.base[j].top_token});
      if (run.kind == RunKind::kWriteBase)
        HY2BIT_TRY(run.writer->add_row(rows.out[j], std::span<const uint16_t>(&rows.out_q[j * static_cast<size_t>(n_vocab)],
                                                                               static_cast<size_t>(n_vocab))));
    }
    if (on_chunk) {
      const KldSummary running = run.kind == RunKind::kCompareBase ? kld.summary(false) : KldSummary{};
      const PerplexityProgress progress{.chunk = c + 1, .n_chunks = n_chunks,
                                        .chunk_seconds = seconds_since(chunk_start),
                                        .ppl = std::exp(nll / static_cast<double>(count)),
                                        .kld = run.kind == RunKind::kCompareBase ? &running : nullptr};
      if (!on_chunk(progress)) return make_error("stopped after chunk ", c + 1);
    }
  }
  result.seconds = seconds_since(run_start);
  result.tokens_per_second = result.seconds > 0 ? static_cast<double>(n_chunks * o.n_ctx) / result.seconds : 0;
  result.n_scored = count;
  // llama.cpp's final estimate: exp(mean nll), with the standard error of the
  // mean nll carried through exp().
  const double mean = nll / static_cast<double>(count);
  const double var = nll2 / static_cast<double>(count) - mean * mean;
  result.ppl = std::exp(mean);
  result.ppl_error = var > 0 && count > 1 ? std::sqrt(var / static_cast<double>(count - 1)) * result.ppl : 0;
  if (run.kind == RunKind::kCompareBase) {
    result.has_kld = true;
    result.kld = kld.summary(true);
  }
  return result;
}

int64_t chunks_to_run(int64_t n_tokens, const PerplexityOptions& o) {
  const int64_t n_max = n_tokens / o.n_ctx;
  return o.n_chunks < 0 ? n_max : std::min(o.n_chunks, n_max);
}

}  // namespace

Result<std::vector<int32_t>> tokenize_for_perplexity(const Model& model, std::string_view text,
                                                     std::string_view what) {
  if (text.empty()) return make_error(what, " is empty");
  HY2BIT_TRY(text::validate_utf8(text, what));
  if (text.back() == '\n') text.remove_suffix(1);  // as llama.cpp's -f
  return tokenize(model, text, {.add_bos = true, .parse_special = false});
}

Result<PerplexityResult> perplexity(std::shared_ptr<const Model> model, std::span<const int32_t> tokens,
                                    const PerplexityOptions& options, const PerplexityCallback& on_chunk,
                                    const std::string& kld_base_out) {
  if (!model) return make_error("no model given");
  HY2BIT_TRY(check_run(*model, static_cast<int64_t>(tokens.size()), options));
  const int64_t n_chunks = chunks_to_run(static_cast<int64_t>(tokens.size()), options);
  if (kld_base_out.empty()) return run_chunks(*model, tokens, n_chunks, options, {}, on_chunk);

  const auto n_tokens = static_cast<size_t>(n_chunks * options.n_ctx);
  const KldBaseInfo info{.n_vocab = static_cast<uint32_t>(model->summary().n_vocab),
                         .n_ctx = static_cast<uint32_t>(options.n_ctx),
                         .n_chunks = static_cast<uint32_t>(n_chunks),
                         .vocab_hash = eval::vocabulary_hash(*model),
                         .tokens = std::vector<int32_t>(tokens.begin(), tokens.begin() + static_cast<ptrdiff_t>(n_tokens))};
  Result<std::unique_ptr<eval::KldBaseWriter>> writer = eval::KldBaseWriter::create(kld_base_out, info);
  if (!writer) return writer.error();
  Result<PerplexityResult> result =
      run_chunks(*model, tokens, n_chunks, options, {.kind = RunKind::kWriteBase, .writer = writer->get()}, on_chunk);
  if (!result) return result;
  HY2BIT_TRY((*writer)->commit());
  return result;
}

Result<PerplexityResult> kl_divergence(std::shared_ptr<const Model> model, std::span<const int32_t> tokens,
                                       const std::string& kld_base_path, const PerplexityOptions& options,
                                       const PerplexityCallback& on_chunk) {
  if (!model) return make_error("no model given");
  Result<std::unique_ptr<gguf::MappedFile>> file = gguf::MappedFile::open(kld_base_path);
  if (!file) return file.error();
  Result<eval::KldBaseView> base = eval::KldBaseView::parse((*file)->bytes());
  if (!base) return make_error(kld_base_path, ": ", base.error().message);
  const KldBaseInfo& info = base->info();
  const int64_t n_vocab = model->summary().n_vocab;
  if (info.n_vocab != n_vocab)
    return make_error(kld_base_path, ": the base was made with a vocabulary of ", info.n_vocab,
                      " tokens, this model has ", n_vocab);
  if (info.vocab_hash != eval::vocabulary_hash(*model))
    return make_error(kld_base_path, ": the base was made with another vocabulary (same size, other tokens)");
  if (options.n_ctx != 0 && options.n_ctx != static_cast<int64_t>(info.n_ctx))
    return make_error(kld_base_path, ": the base was made with -c ", info.n_ctx, ", not ", options.n_ctx,
                      " (leave -c out to use the base's)");
  PerplexityOptions o = options;
  o.n_ctx = info.n_ctx;
  if (o.n_chunks > static_cast<int64_t>(info.n_chunks))
    return make_error(kld_base_path, ": the base holds ", info.n_chunks, " chunks, fewer than --chunks ", o.n_chunks);
  if (o.n_chunks < 0) o.n_chunks = info.n_chunks;
  HY2BIT_TRY(check_run(*model, static_cast<int64_t>(tokens.size()), o));
  for (size_t i = 0; i < info.tokens.size(); ++i)
    if (i >= tokens.size() || tokens[i] != info.tokens[i])
      return make_error(kld_base_path, ": the base was made from another text (its token ", i, " is ",
                        info.tokens[i], ", the text's is ", i < tokens.size() ? std::to_string(tokens[i]) : "missing", ")");
  const int64_t n_chunks = chunks_to_run(static_cast<int64_t>(tokens.size()), o);
  return run_chunks(*model, tokens, n_chunks, o, {.kind = RunKind::kCompareBase, .base = &*base}, on_chunk);
}

}  // namespace hy2bit
