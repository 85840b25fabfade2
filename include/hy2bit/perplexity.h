// The public API for measuring a model's quality on a text the way
// llama-perplexity does: perplexity over chunks of n_ctx tokens (only the
// second half of each chunk scored), and the two-step KL-divergence workflow
// (save a reference model's log-probabilities, then compare a model to them).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hy2bit/model.h"
#include "hy2bit/result.h"

namespace hy2bit {

struct PerplexityOptions {
  int64_t n_ctx = 512;      // tokens per chunk (llama-perplexity's -c)
  int64_t n_batch = 512;    // tokens per forward pass; capped at n_ctx (one chunk at a time)
  int64_t n_chunks = -1;    // chunks to evaluate; -1: all that the text holds
  CacheType cache_type = CacheType::kF16;
};

// Turns the text of a -f file into the token ids llama-perplexity evaluates:
// one trailing '\n' dropped (as llama.cpp's -f does), BOS first when the
// model adds one, special-token text left as plain text. `what` names the
// text in errors: an empty text, or invalid UTF-8 (with the byte offset).
Result<std::vector<int32_t>> tokenize_for_perplexity(const Model& model, std::string_view text,
                                                     std::string_view what = "text");

// Running statistics of a KL-divergence run against a base (all positions
// scored so far). Uncertainties are one standard error, as llama.cpp's.
struct KldSummary {
  int64_t count = 0;                       // scored positions
  double ppl = 0, ppl_error = 0;           // PPL(Q)
  double ppl_base = 0, ppl_base_error = 0; // PPL(base)
  double ppl_correlation = 0;              // Cor(ln PPL(Q), ln PPL(base)), 0..1
  double log_ppl_ratio = 0, log_ppl_ratio_error = 0;  // mean ln(PPL(Q)/PPL(base))
  double ppl_ratio = 0, ppl_ratio_error = 0;          // PPL(Q)/PPL(base)
  double ppl_diff = 0, ppl_diff_error = 0;            // PPL(Q) - PPL(base)
  double kld_mean = 0, kld_error = 0;
  // KLD quantiles over positions (filled only by the final summary).
  double kld_max = 0, kld_p999 = 0, kld_p990 = 0, kld_p950 = 0, kld_p900 = 0, kld_median = 0,
         kld_p100 = 0, kld_p050 = 0, kld_p010 = 0, kld_p001 = 0, kld_min = 0;
  // Δp = p(Q) - p(base) of the text's next token (fractions, not percent).
  double dp_mean = 0, dp_error = 0;
  double dp_max = 0, dp_p999 = 0, dp_p990 = 0, dp_p950 = 0, dp_p900 = 0, dp_p750 = 0, dp_median = 0,
         dp_p250 = 0, dp_p100 = 0, dp_p050 = 0, dp_p010 = 0, dp_p001 = 0, dp_min = 0;
  double dp_rms = 0, dp_rms_error = 0;
  double same_top = 0, same_top_error = 0;  // fraction of positions with the same argmax
};

// What the chunk callback sees after each chunk.
struct PerplexityProgress {
  int64_t chunk = 0;           // 1-based index of the chunk just finished
  int64_t n_chunks = 0;        // chunks in the run
  double chunk_seconds = 0;    // wall time of this chunk (evaluation and scoring)
  double ppl = 0;              // running estimate over all chunks so far
  const KldSummary* kld = nullptr;  // running KLD statistics (KL-divergence runs only)
};
// Called after every chunk; return false to stop the run with an error.
using PerplexityCallback = std::function<bool(const PerplexityProgress&)>;

struct PerplexityResult {
  int64_t n_text_tokens = 0;   // tokens the text gave (BOS included)
  int64_t n_ctx = 0;
  int64_t n_chunks = 0;        // chunks evaluated
  int64_t n_scored = 0;        // positions scored: n_chunks * (n_ctx - 1 - n_ctx/2)
  double ppl = 0;              // Final estimate: PPL
  double ppl_error = 0;        // its uncertainty (llama.cpp's "+/-")
  double seconds = 0;          // wall time of all chunks
  double tokens_per_second = 0;// n_chunks * n_ctx / seconds
  bool has_kld = false;        // true for KL-divergence runs
  KldSummary kld;              // final statistics, with quantiles (has_kld only)
};

// Perplexity of `tokens` (from tokenize_for_perplexity) with llama.cpp's
// method: chunk i is tokens[i*n_ctx, (i+1)*n_ctx) with its first token
// replaced by BOS (for a model that adds BOS), evaluated from an empty cache;
// positions n_ctx/2 .. n_ctx-2 predict the next token and are scored. Needs
// at least 2 * n_ctx tokens. With a non-empty `kld_base_out`, the scored
// positions' log-probabilities are saved there (kl_divergence's base file).
Result<PerplexityResult> perplexity(std::shared_ptr<const Model> model, std::span<const int32_t> tokens,
                                    const PerplexityOptions& options,
                                    const PerplexityCallback& on_chunk = {},
                                    const std::string& kld_base_out = "");

// The KL divergence of `model` from the base saved in `kld_base_path` (made
// by perplexity() from the same text and vocabulary). n_ctx and the chunks
// come from the base: options.n_ctx must be 0 or equal it, options.n_chunks
// at most the base's. A base that is truncated, from another vocabulary or
// from another text is refused. One difference from llama.cpp: the model's
// log-probabilities are rounded to 16 bits as the base's are before the KLD
// sum (at most half a step, 1.2e-4 nats, per entry), so a model against its
// own base gives exactly 0; the base also keeps each position's exact target
// log-probability and argmax, so PPL(base) and "Same top p" are exact.
Result<PerplexityResult> kl_divergence(std::shared_ptr<const Model> model, std::span<const int32_t> tokens,
                                       const std::string& kld_base_path, const PerplexityOptions& options,
                                       const PerplexityCallback& on_chunk = {});

// ---- the KLD base file ---------------------------------------------------

// The header of a KLD base file, as parsed from its bytes.
struct KldBaseInfo {
  uint32_t n_vocab = 0;
  uint32_t n_ctx = 0;
  uint32_t n_chunks = 0;
  uint64_t vocab_hash = 0;     // FNV-1a of the model's token texts
  std::vector<int32_t> tokens; // n_chunks * n_ctx text tokens (BOS not substituted)
};
// Parses and checks a whole base file held in memory (any bytes: the fuzz
// targets call this). Errors name the field or offset that is wrong.
Result<KldBaseInfo> parse_kld_base(std::span<const uint8_t> bytes);

}  // namespace hy2bit
