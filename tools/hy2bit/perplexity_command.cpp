// hy2bit perplexity: llama-perplexity's perplexity and KL-divergence runs
// (same flags, method and printout, so numbers from the two tools compare
// directly). The work is one library call (hy2bit/perplexity.h); this file
// reads the text and prints progress and results as text or JSON.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "generation_flags.h"
#include "hy2bit/perplexity.h"

namespace hy2bit::tools {
namespace {

struct PerplexityFlags {
  std::string model_path;
  std::string text_path;
  int64_t n_ctx = 512;
  bool n_ctx_given = false;
  int64_t n_batch = 512;
  int64_t n_chunks = -1;
  int n_threads = 0;
  std::string cache_type = "f16";
  std::string kld_base;
  bool kl_divergence = false;
  std::string output = "text";
};

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("cannot open text file '", path, "'");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return make_error("cannot read text file '", path, "'");
  return bytes.str();
}

// llama-perplexity's "X seconds per pass - ETA [H hours] M minutes" line.
void print_eta(std::FILE* out, const PerplexityProgress& p) {
  auto total = static_cast<int64_t>(p.chunk_seconds * static_cast<double>(p.n_chunks));
  std::fprintf(out, "perplexity: %.2f seconds per pass - ETA ", p.chunk_seconds);
  if (total >= 3600) {
    std::fprintf(out, "%lld hours ", static_cast<long long>(total / 3600));
    total %= 3600;
  }
  std::fprintf(out, "%.2f minutes\n", static_cast<double>(total) / 60.0);
}

// One row of llama-perplexity's KL-divergence chunk table.
void print_kld_row(std::FILE* out, const PerplexityProgress& p) {
  const KldSummary& k = *p.kld;
  std::fprintf(out, "%4lld    %9.4f ± %9.4f    %10.5f ± %10.5f    %10.5f ± %10.5f    %6.3f ± %6.3f %%    %6.3f ± %6.3f %%\n",
               static_cast<long long>(p.chunk), k.ppl, k.ppl_error, k.log_ppl_ratio, k.log_ppl_ratio_error,
               k.kld_mean, k.kld_error, 100 * k.dp_rms, 100 * k.dp_rms_error, 100 * k.same_top,
               100 * k.same_top_error);
}

// llama-perplexity's three closing sections of a KL-divergence run.
void print_kld_summary(std::FILE* out, const KldSummary& k) {
  std::fprintf(out, "====== Perplexity statistics ======\n");
  std::fprintf(out, "Mean PPL(Q)                   : %10.6f ± %10.6f\n", k.ppl, k.ppl_error);
  std::fprintf(out, "Mean PPL(base)                : %10.6f ± %10.6f\n", k.ppl_base, k.ppl_base_error);
  std::fprintf(out, "Cor(ln(PPL(Q)), ln(PPL(base))): %6.2f%%\n", 100 * k.ppl_correlation);
  std::fprintf(out, "Mean ln(PPL(Q)/PPL(base))     : %10.6f ± %10.6f\n", k.log_ppl_ratio, k.log_ppl_ratio_error);
  std::fprintf(out, "Mean PPL(Q)/PPL(base)         : %10.6f ± %10.6f\n", k.ppl_ratio, k.ppl_ratio_error);
  std::fprintf(out, "Mean PPL(Q)-PPL(base)         : %10.6f ± %10.6f\n\n", k.ppl_diff, k.ppl_diff_error);
  std::fprintf(out, "====== KL divergence statistics ======\n");
  std::fprintf(out, "Mean    KLD: %10.6f ± %10.6f\n", k.kld_mean, k.kld_error);
  const std::pair<const char*, double> kld_rows[] = {
      {"Maximum KLD", k.kld_max}, {"99.9%   KLD", k.kld_p999}, {"99.0%   KLD", k.kld_p990},
      {"95.0%   KLD", k.kld_p950}, {"90.0%   KLD", k.kld_p900}, {"Median  KLD", k.kld_median},
      {"10.0%   KLD", k.kld_p100}, {" 5.0%   KLD", k.kld_p050}, {" 1.0%   KLD", k.kld_p010},
      {" 0.1%   KLD", k.kld_p001}, {"Minimum KLD", k.kld_min}};
  for (const auto& [name, value] : kld_rows) std::fprintf(out, "%s: %10.6f\n", name, value);
  std::fprintf(out, "\n====== Token probability statistics ======\n");
  std::fprintf(out, "Mean    Δp: %6.3f ± %5.3f %%\n", 100 * k.dp_mean, 100 * k.dp_error);
  const std::pair<const char*, double> dp_rows[] = {
      {"Maximum Δp", k.dp_max}, {"99.9%   Δp", k.dp_p999}, {"99.0%   Δp", k.dp_p990}, {"95.0%   Δp", k.dp_p950},
      {"90.0%   Δp", k.dp_p900}, {"75.0%   Δp", k.dp_p750}, {"Median  Δp", k.dp_median}, {"25.0%   Δp", k.dp_p250},
      {"10.0%   Δp", k.dp_p100}, {" 5.0%   Δp", k.dp_p050}, {" 1.0%   Δp", k.dp_p010}, {" 0.1%   Δp", k.dp_p001},
      {"Minimum Δp", k.dp_min}};
  for (const auto& [name, value] : dp_rows) std::fprintf(out, "%s: %6.3f%%\n", name, 100 * value);
  std::fprintf(out, "RMS Δp    : %6.3f ± %5.3f %%\n", 100 * k.dp_rms, 100 * k.dp_rms_error);
  std::fprintf(out, "Same top p: %6.3f ± %5.3f %%\n", 100 * k.same_top, 100 * k.same_top_error);
}

nlohmann::json kld_json(const KldSummary& k) {
  return {{"count", k.count},
          {"ppl", k.ppl}, {"ppl_error", k.ppl_error}, {"ppl_base", k.ppl_base}, {"ppl_base_error", k.ppl_base_error},
          {"ppl_correlation", k.ppl_correlation},
          {"log_ppl_ratio", k.log_ppl_ratio}, {"log_ppl_ratio_error", k.log_ppl_ratio_error},
          {"ppl_ratio", k.ppl_ratio}, {"ppl_ratio_error", k.ppl_ratio_error},
          {"ppl_diff", k.ppl_diff}, {"ppl_diff_error", k.ppl_diff_error},
          {"kld_mean", k.kld_mean}, {"kld_error", k.kld_error},
          {"kld_max", k.kld_max}, {"kld_p99_9", k.kld_p999}, {"kld_p99", k.kld_p990}, {"kld_p95", k.kld_p950},
          {"kld_p90", k.kld_p900}, {"kld_median", k.kld_median}, {"kld_p10", k.kld_p100}, {"kld_p5", k.kld_p050},
          {"kld_p1", k.kld_p010}, {"kld_p0_1", k.kld_p001}, {"kld_min", k.kld_min},
          {"dp_mean", k.dp_mean}, {"dp_error", k.dp_error}, {"dp_max", k.dp_max}, {"dp_median", k.dp_median},
          {"dp_min", k.dp_min}, {"dp_rms", k.dp_rms}, {"dp_rms_error", k.dp_rms_error},
          {"same_top", k.same_top}, {"same_top_error", k.same_top_error}};
}

int run_perplexity(const PerplexityFlags& f) {
  if (f.kl_divergence && f.kld_base.empty())
    return fail("perplexity", "--kl-divergence needs --kl-divergence-base FILE (made by a run without --kl-divergence)");
  Result<std::string> text = read_text_file(f.text_path);
  if (!text) return fail("perplexity", text.error().message);
  Result<std::shared_ptr<Model>> model = Model::load({.model_path = f.model_path, .n_threads = f.n_threads});
  if (!model) return fail("perplexity", model.error().message);
  Result<std::vector<int32_t>> tokens = tokenize_for_perplexity(**model, *text, f.text_path);
  if (!tokens) return fail("perplexity", tokens.error().message);

  const bool json = f.output == "json";
  std::FILE* out = json ? stderr : stdout;  // with -o json, stdout holds only the JSON
  std::fprintf(out, "perplexity: %s, %zu tokens, kernels %s, %d threads\n", f.text_path.c_str(), tokens->size(),
               (*model)->summary().isa.c_str(), (*model)->summary().n_threads);
  PerplexityOptions options{.n_ctx = f.n_ctx, .n_batch = f.n_batch, .n_chunks = f.n_chunks,
                            .cache_type = session_options(f.n_ctx, f.n_batch, f.cache_type).cache_type};
  const PerplexityCallback on_chunk = [&](const PerplexityProgress& p) {
    if (p.chunk == 1) {
      print_eta(out, p);
      if (p.kld)
        std::fprintf(out, "\nchunk             PPL               ln(PPL(Q)/PPL(base))          KL Divergence              Δp RMS            Same top p\n");
    }
    if (p.kld) {
      print_kld_row(out, p);
    } else {
      std::fprintf(out, "[%lld]%.4f,", static_cast<long long>(p.chunk), p.ppl);
    }
    std::fflush(out);
    return true;
  };
  Result<PerplexityResult> r = make_error("no run");
  if (f.kl_divergence) {
    if (!f.n_ctx_given) options.n_ctx = 0;  // the base's
    r = kl_divergence(*model, *tokens, f.kld_base, options, on_chunk);
  } else {
    r = perplexity(*model, *tokens, options, on_chunk, f.kld_base);
  }
  if (!r) {
    std::fprintf(out, "\n");
    return fail("perplexity", r.error().message);
  }
  std::fprintf(out, "\n");
  if (r->has_kld) {
    std::fprintf(out, "\n");
    print_kld_summary(out, r->kld);
  } else {
    std::fprintf(out, "Final estimate: PPL = %.4f +/- %.5f\n", r->ppl, r->ppl_error);
    if (!f.kld_base.empty()) std::fprintf(out, "saved the KLD base to %s\n", f.kld_base.c_str());
  }
  std::fprintf(out, "perplexity: %lld chunks of %lld tokens in %.2f s (%.2f tokens/s)\n",
               static_cast<long long>(r->n_chunks), static_cast<long long>(r->n_ctx), r->seconds, r->tokens_per_second);
  if (json) {
    nlohmann::json j = {{"model", f.model_path}, {"text", f.text_path}, {"n_text_tokens", r->n_text_tokens},
                        {"n_ctx", r->n_ctx}, {"n_batch", std::min(f.n_batch, r->n_ctx)}, {"n_chunks", r->n_chunks},
                        {"n_scored", r->n_scored}, {"cache_type", f.cache_type}, {"ppl", r->ppl},
                        {"ppl_error", r->ppl_error}, {"seconds", r->seconds},
                        {"tokens_per_second", r->tokens_per_second}};
    if (r->has_kld) j["kld"] = kld_json(r->kld);
    std::printf("%s\n", j.dump(2).c_str());
  }
  return 0;
}

}  // namespace

void add_perplexity_command(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<PerplexityFlags>();
  CLI::App* cmd = app.add_subcommand(
      "perplexity", "Perplexity of a text, or KL divergence from a base model's saved log-probabilities (like llama-perplexity)");
  cmd->add_option("-m,--model", f->model_path, "GGUF model file")->required();
  cmd->add_option("-f,--file", f->text_path, "text file (UTF-8), at least 2 x -c tokens long")->required();
  cmd->add_option_function<int64_t>("-c,--ctx-size", [f](const int64_t& n) { f->n_ctx = n; f->n_ctx_given = true; },
                                    "tokens per chunk (default 512; with --kl-divergence: the base's)")
      ->check(CLI::Range(int64_t{4}, int64_t{1} << 22));
  cmd->add_option("-b,--batch-size", f->n_batch, "tokens per forward pass (values above -c are capped at -c)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--chunks", f->n_chunks, "chunks to evaluate (default: all the text holds)")->check(CLI::PositiveNumber);
  cmd->add_option("-t,--threads", f->n_threads, "threads (default: physical cores)")->check(CLI::NonNegativeNumber);
  add_cache_type_flag(*cmd, f->cache_type);
  cmd->add_option("--kl-divergence-base", f->kld_base,
                  "without --kl-divergence: save this model's log-probabilities here; with it: read them");
  cmd->add_flag("--kl-divergence", f->kl_divergence, "compare the model with --kl-divergence-base's log-probabilities");
  cmd->add_option("-o,--output", f->output, "text or json (the final numbers on stdout)")
      ->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  cmd->callback([f, &exit_code] { exit_code = run_perplexity(*f); });
}

}  // namespace hy2bit::tools
