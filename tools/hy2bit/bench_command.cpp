// hy2bit bench: llama-bench for hy2bit. Prompt processing (ppN: N prompt
// tokens in batches of -b) and generation (tgN: N tokens one at a time) speed,
// each from an empty context or after -d tokens already in it ("@ dD"), as a
// markdown table or llama-bench-style JSON, time to first token for the
// prompt lengths, peak RSS, and with --roofline the decode speed against this
// machine's measured read bandwidth.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "commands.h"
#include "generation_flags.h"
#include "hy2bit/model.h"
#include "runtime/bandwidth.h"
#include "runtime/thread_pool.h"

namespace hy2bit::tools {
namespace {

struct BenchFlags {
  std::string model_path;
  std::vector<int64_t> n_prompt = {512};
  std::vector<int64_t> n_gen = {128};
  std::vector<int64_t> n_depth = {0};
  std::vector<int> n_threads;
  int64_t n_batch = 512;
  std::string cache_type = "f16";
  int repetitions = 5;
  std::string output = "md";
  bool roofline = false;
  bool ttft = true;
};

struct Row {
  std::string test;       // "pp512", "tg128", "tg128 @ d1024"
  int64_t n_prompt = 0, n_gen = 0, n_depth = 0;
  int n_threads = 0;
  std::vector<double> seconds;  // one per repetition
  double tokens_per_second(size_t i) const {
    return static_cast<double>(n_prompt + n_gen) / seconds[i];
  }
};

double mean(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()); }
double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double m = mean(v);
  double sq = 0;
  for (double x : v) sq += (x - m) * (x - m);
  return std::sqrt(sq / static_cast<double>(v.size() - 1));
}

using Clock = std::chrono::steady_clock;

// Random token ids (not control tokens), the same for every run.
std::vector<int32_t> bench_tokens(int64_t n, int64_t n_vocab) {
  std::mt19937 rng(1234);
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int32_t& id : ids) id = static_cast<int32_t>(rng() % static_cast<uint32_t>(std::max<int64_t>(1, n_vocab - 64)));
  return ids;
}

// Resets the session and fills its first n_depth positions (not timed).
Status start_at_depth(Session& session, int64_t n_depth, int64_t n_vocab) {
  session.reset();
  if (n_depth == 0) return Ok{};
  const std::vector<int32_t> ids = bench_tokens(n_depth, n_vocab);
  Result<std::span<const float>> logits = session.eval(ids);
  if (!logits) return logits.error();
  return Ok{};
}

// Seconds to evaluate a prompt after n_depth tokens.
Result<double> time_prompt(Session& session, const std::vector<int32_t>& tokens, int64_t n_depth,
                           int64_t n_vocab) {
  if (Status r = start_at_depth(session, n_depth, n_vocab); !r) return r.error();
  const auto start = Clock::now();
  Result<std::span<const float>> logits = session.eval(tokens);
  if (!logits) return logits.error();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Seconds to generate n tokens one at a time after n_depth tokens and a
// one-token prompt.
Result<double> time_generation(Session& session, int64_t n, int64_t n_depth, int64_t n_vocab) {
  if (Status r = start_at_depth(session, n_depth, n_vocab); !r) return r.error();
  const std::vector<int32_t> ids = bench_tokens(n + 1, n_vocab);
  Result<std::span<const float>> first = session.eval(std::span<const int32_t>(ids.data(), 1));
  if (!first) return first.error();
  const auto start = Clock::now();
  for (int64_t i = 1; i <= n; ++i) {
    Result<std::span<const float>> logits = session.eval(std::span<const int32_t>(&ids[i], 1));
    if (!logits) return logits.error();
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int run_bench(BenchFlags& f) {
  if (f.n_threads.empty()) f.n_threads = {runtime::physical_core_count()};
  if (f.output != "md" && f.output != "json") return fail("bench", "-o must be md or json");
  const int64_t longest_prompt = f.n_prompt.empty() ? 0 : *std::max_element(f.n_prompt.begin(), f.n_prompt.end());
  const int64_t longest_gen = f.n_gen.empty() ? 0 : *std::max_element(f.n_gen.begin(), f.n_gen.end());
  const int64_t deepest = f.n_depth.empty() ? 0 : *std::max_element(f.n_depth.begin(), f.n_depth.end());
  const int64_t n_ctx = std::max<int64_t>(16, deepest + std::max(longest_prompt, longest_gen + 1));
  const auto label = [](const std::string& test, int64_t depth) {
    return depth == 0 ? test : test + " @ d" + std::to_string(depth);
  };

  std::vector<Row> rows;
  ModelSummary summary;
  for (int n_threads : f.n_threads) {
    Result<std::shared_ptr<Model>> model = Model::load({.model_path = f.model_path, .n_threads = n_threads});
    if (!model) return fail("bench", model.error().message);
    summary = (*model)->summary();
    Result<std::unique_ptr<Session>> session = Session::create(*model, session_options(n_ctx, f.n_batch, f.cache_type));
    if (!session) return fail("bench", session.error().message);
    std::fprintf(stderr, "hy2bit bench: %s, %d threads, %s kernels\n", summary.path.c_str(), n_threads, summary.isa.c_str());

    // One warm-up run, then -r timed ones, into a row.
    const auto measure = [&](Row row, const auto& warm_up, const auto& time_once) -> Status {
      if (Result<double> w = warm_up(); !w) return w.error();
      for (int r = 0; r < f.repetitions; ++r) {
        Result<double> s = time_once();
        if (!s) return s.error();
        row.seconds.push_back(*s);
      }
      rows.push_back(std::move(row));
      return Ok{};
    };
    for (int64_t depth : f.n_depth) {
      for (int64_t n : f.n_prompt) {
        if (n <= 0) continue;
        const std::vector<int32_t> tokens = bench_tokens(n, summary.n_vocab);
        const auto once = [&] { return time_prompt(**session, tokens, depth, summary.n_vocab); };
        const Status done = measure({.test = label("pp" + std::to_string(n), depth), .n_prompt = n,
                                     .n_gen = 0, .n_depth = depth, .n_threads = n_threads, .seconds = {}},
                                    once, once);
        if (!done) return fail("bench", done.error().message);
      }
      for (int64_t n : f.n_gen) {
        if (n <= 0) continue;
        const Status done = measure(
            {.test = label("tg" + std::to_string(n), depth), .n_prompt = 0, .n_gen = n,
             .n_depth = depth, .n_threads = n_threads, .seconds = {}},
            [&] { return time_generation(**session, std::min<int64_t>(n, 8), depth, summary.n_vocab); },
            [&] { return time_generation(**session, n, depth, summary.n_vocab); });
        if (!done) return fail("bench", done.error().message);
      }
    }
  }

  // Time to first token: the prompt's evaluation time (the first token is
  // sampled from its last logits), reported in milliseconds.
  const auto is_pp = [](const Row& r) { return r.n_gen == 0; };
  if (f.output == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const Row& r : rows) {
      std::vector<double> ns, ts;
      for (size_t i = 0; i < r.seconds.size(); ++i) {
        ns.push_back(r.seconds[i] * 1e9);
        ts.push_back(r.tokens_per_second(i));
      }
      out.push_back({{"build_commit", "hy2bit"}, {"model_filename", summary.path},
                     {"model_type", summary.architecture + " " + summary.weight_types},
                     {"model_size", summary.weight_bytes}, {"model_n_params", summary.n_params},
                     {"n_batch", f.n_batch}, {"type_k", f.cache_type}, {"type_v", f.cache_type}, {"n_threads", r.n_threads}, {"isa", summary.isa},
                     {"n_prompt", r.n_prompt}, {"n_gen", r.n_gen}, {"n_depth", r.n_depth},
                     {"avg_ns", mean(ns)}, {"stddev_ns", stddev(ns)}, {"avg_ts", mean(ts)},
                     {"stddev_ts", stddev(ts)}, {"samples_ns", ns}, {"samples_ts", ts},
                     {"ttft_ms", is_pp(r) ? mean(r.seconds) * 1e3 : 0.0},
                     {"peak_rss_bytes", runtime::peak_rss_bytes()}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }

  std::printf("| model | size | params | isa | threads | test | t/s |\n");
  std::printf("| --- | ---: | ---: | --- | ---: | --- | ---: |\n");
  char params[32];
  std::snprintf(params, sizeof(params), "%.2f B", static_cast<double>(summary.n_params) / 1e9);
  for (const Row& r : rows) {
    std::vector<double> ts;
    for (size_t i = 0; i < r.seconds.size(); ++i) ts.push_back(r.tokens_per_second(i));
    std::printf("| %s %s | %s | %s | %s | %d | %s | %.2f ± %.2f |\n", summary.architecture.c_str(),
                summary.weight_types.c_str(), format_bytes(summary.weight_bytes).c_str(), params,
                summary.isa.c_str(), r.n_threads, r.test.c_str(), mean(ts), stddev(ts));
  }
  if (f.ttft)
    for (const Row& r : rows)
      if (is_pp(r))
        std::printf("| %s %s | %s | %s | %s | %d | %s | %.1f ms ± %.1f |\n", summary.architecture.c_str(),
                    summary.weight_types.c_str(), format_bytes(summary.weight_bytes).c_str(), params,
                    summary.isa.c_str(), r.n_threads, label("ttft" + std::to_string(r.n_prompt), r.n_depth).c_str(),
                    mean(r.seconds) * 1e3, stddev(r.seconds) * 1e3);
  std::printf("\npeak RSS: %s (weights %s, repacked copies %s)\n", format_bytes(runtime::peak_rss_bytes()).c_str(),
              format_bytes(summary.weight_bytes).c_str(), format_bytes(summary.repacked_bytes).c_str());

  if (f.roofline) {
    // A generated token reads the weights and the cached keys and values of
    // every position before it: on average depth + 1 + n_gen / 2 of them.
    const double cache_bytes_per_position = 2.0 * static_cast<double>(summary.n_layer * summary.n_head_kv *
                                                                       summary.head_dim) *
                                            (f.cache_type == "q8_0" ? 34.0 / 32.0 : 2.0);
    const auto bytes_per_token = [&](const Row& r) {
      return static_cast<double>(summary.decode_bytes) +
             cache_bytes_per_position * (static_cast<double>(r.n_depth + 1) + static_cast<double>(r.n_gen) / 2.0);
    };
    std::printf("\nroofline (decode reads %s of weights per token, plus %s of %s cache per position):\n",
                format_bytes(summary.decode_bytes).c_str(),
                format_bytes(static_cast<uint64_t>(cache_bytes_per_position)).c_str(), f.cache_type.c_str());
    for (int n_threads : f.n_threads) {
      runtime::ThreadPool pool(n_threads);
      const double gbps = runtime::measure_read_bandwidth(pool);
      for (const Row& r : rows) {
        if (r.n_threads != n_threads || is_pp(r)) continue;
        std::vector<double> ts;
        for (size_t i = 0; i < r.seconds.size(); ++i) ts.push_back(r.tokens_per_second(i));
        const double tps = mean(ts);
        const double limit_tps = gbps * 1e9 / bytes_per_token(r);
        std::printf("  %d threads: read bandwidth %.1f GB/s -> limit %.1f t/s; %s %.1f t/s = %.0f%% of the limit (%.1f GB/s)\n",
                    n_threads, gbps, limit_tps, r.test.c_str(), tps, 100.0 * tps / limit_tps,
                    tps * bytes_per_token(r) / 1e9);
      }
    }
  }
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<BenchFlags>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure prompt and generation speed (like llama-bench)");
  cmd->add_option("-m,--model", f->model_path, "GGUF model")->required();
  // Token counts are bounded well below where their sum could overflow; the
  // context size they add up to is checked against the model's own limit.
  const CLI::Range token_count(int64_t{0}, int64_t{1} << 32);
  cmd->add_option("-p,--n-prompt", f->n_prompt, "prompt lengths, comma-separated (0: skip)")
      ->delimiter(',')
      ->check(token_count)
      ->capture_default_str();
  cmd->add_option("-n,--n-gen", f->n_gen, "generation lengths, comma-separated (0: skip)")
      ->delimiter(',')
      ->check(token_count)
      ->capture_default_str();
  cmd->add_option("-d,--n-depth", f->n_depth,
                  "context depths: tokens already in the cache before each test, comma-separated")
      ->delimiter(',')
      ->check(token_count)
      ->capture_default_str();
  cmd->add_option("-t,--threads", f->n_threads, "thread counts, comma-separated (default: physical cores)")->delimiter(',')->check(CLI::PositiveNumber);
  cmd->add_option("-b,--batch-size", f->n_batch, "prompt tokens per forward pass")->check(CLI::PositiveNumber)->capture_default_str();
  add_cache_type_flag(*cmd, f->cache_type);
  cmd->add_option("-r,--repetitions", f->repetitions, "runs per test")->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("-o,--output", f->output, "md or json")->check(CLI::IsMember({"md", "json"}))->capture_default_str();
  cmd->add_flag("--roofline", f->roofline, "also measure read bandwidth and show decode speed against it");
  cmd->add_flag("!--no-ttft", f->ttft, "leave out the time-to-first-token rows");
  cmd->callback([f, &exit_code] { exit_code = run_bench(*f); });
}

}  // namespace hy2bit::tools
