// hy2bit bench: llama-bench for hy2bit. Prompt processing (ppN: N prompt
// tokens in batches of -b) and generation (tgN: N tokens one at a time) speed,
// each from an empty context or after -d tokens already in it ("@ dD"),
// ppP+tgG (-pg), for one or more models, as llama-bench's md, csv, json,
// jsonl or sql; time to first token for the prompt lengths, peak RSS, a
// warning when a test's runs spread more than 10%, and with --roofline the
// decode speed against this machine's measured read bandwidth.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <tuple>
#include <string>
#include <vector>

#include "commands.h"
#include "generation_flags.h"
#include "hy2bit/model.h"
#include "hy2bit/system.h"

namespace hy2bit::tools {
namespace {

struct BenchFlags {
  std::vector<std::string> model_paths;
  // llama-bench's value lists: "512", "64,128", "64-512*2" (times), "0-1024+256" (plus).
  std::vector<std::string> n_prompt_spec = {"512"}, n_gen_spec = {"128"}, n_depth_spec = {"0"}, pg_spec;
  std::vector<int64_t> n_prompt, n_gen, n_depth;
  std::vector<std::pair<int64_t, int64_t>> pg;  // -pg PP,TG
  std::vector<int> n_threads;
  int64_t n_batch = 512;
  std::string cache_type = "f16";
  int repetitions = 5;
  std::string output = "md";
  bool roofline = false;
  bool ttft = true;
  bool progress = false;
  std::vector<int> n_gpu_layers;  // -ngl: noted, ignored (CPU only)
};

constexpr int64_t kMaxTokenCount = int64_t{1} << 32;  // well below where sums could overflow

// One llama-bench value list: comma-separated numbers or ranges FIRST-LAST
// with an optional step "+N" (add, default +1) or "*N" (multiply).
Result<std::vector<int64_t>> parse_values(const std::vector<std::string>& specs, const std::string& flag) {
  std::vector<int64_t> values;
  const auto number = [&](const std::string& text) -> Result<int64_t> {
    size_t used = 0;
    int64_t v = 0;
    try {
      v = std::stoll(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != text.size() || text.empty()) return make_error(flag, ": '", text, "' is not a number");
    if (v < 0 || v > kMaxTokenCount) return make_error(flag, ": ", v, " is not in [0, ", kMaxTokenCount, "]");
    return v;
  };
  for (const std::string& spec : specs) {
    const size_t dash = spec.find('-', 1);
    if (dash == std::string::npos) {
      Result<int64_t> v = number(spec);
      if (!v) return v.error();
      values.push_back(*v);
      continue;
    }
    const size_t step_at = spec.find_first_of("+*", dash);
    Result<int64_t> first = number(spec.substr(0, dash));
    Result<int64_t> last = number(spec.substr(dash + 1, step_at == std::string::npos ? std::string::npos : step_at - dash - 1));
    Result<int64_t> step = step_at == std::string::npos ? Result<int64_t>(int64_t{1}) : number(spec.substr(step_at + 1));
    if (!first || !last || !step) return make_error(flag, ": '", spec, "' is not FIRST-LAST[+STEP|*FACTOR]");
    const bool times = step_at != std::string::npos && spec[step_at] == '*';
    if (*step < (times ? 2 : 1) || (times && *first == 0))
      return make_error(flag, ": '", spec, "' never advances (the step must be >= 1, the factor >= 2 from a start > 0)");
    for (int64_t v = *first; v <= *last; v = times ? v * *step : v + *step) {
      values.push_back(v);
      if (values.size() > 10000) return make_error(flag, ": '", spec, "' gives more than 10000 values");
    }
  }
  return values;
}

struct Row {
  std::string test;       // "pp512", "tg128", "tg128 @ d1024", "pp512+tg128"
  int64_t n_prompt = 0, n_gen = 0, n_depth = 0;
  int n_threads = 0;
  std::vector<double> seconds;  // one per repetition
  size_t model = 0;             // index into the models benchmarked
  double roofline_gbps = 0;     // --roofline: read bandwidth at these threads (tg rows)
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

// Seconds to evaluate a prompt of pp tokens and then generate tg (-pg).
Result<double> time_prompt_and_generation(Session& session, int64_t pp, int64_t tg, int64_t n_vocab) {
  const std::vector<int32_t> tokens = bench_tokens(pp + tg, n_vocab);
  session.reset();
  const auto start = Clock::now();
  Result<std::span<const float>> logits = session.eval(std::span<const int32_t>(tokens.data(), static_cast<size_t>(pp)));
  if (!logits) return logits.error();
  for (int64_t i = pp; i < pp + tg; ++i) {
    Result<std::span<const float>> next = session.eval(std::span<const int32_t>(&tokens[i], 1));
    if (!next) return next.error();
  }
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A generated token reads the weights and the cached keys and values of
// every position before it: on average depth + 1 + n_gen / 2 of them.
double cache_bytes_per_position(const ModelSummary& m, const std::string& cache_type) {
  return 2.0 * static_cast<double>(m.n_layer * m.n_head_kv * m.head_dim) * (cache_type == "q8_0" ? 34.0 / 32.0 : 2.0);
}
double decode_bytes_per_token(const ModelSummary& m, const std::string& cache_type, const Row& r) {
  return static_cast<double>(m.decode_bytes) +
         cache_bytes_per_position(m, cache_type) * (static_cast<double>(r.n_depth + 1) + static_cast<double>(r.n_gen) / 2.0);
}

// One row as llama-bench's JSON record (also the source of csv, jsonl and sql).
nlohmann::json row_json(const Row& r, const ModelSummary& m, const BenchFlags& f) {
  std::vector<double> ns, ts;
  for (size_t i = 0; i < r.seconds.size(); ++i) {
    ns.push_back(r.seconds[i] * 1e9);
    ts.push_back(r.tokens_per_second(i));
  }
  nlohmann::json j = {{"build_commit", "hy2bit"}, {"model_filename", m.path},
                      {"model_type", m.architecture + " " + m.weight_types},
                      {"model_size", m.weight_bytes}, {"model_n_params", m.n_params},
                      {"n_batch", f.n_batch}, {"type_k", f.cache_type}, {"type_v", f.cache_type}, {"n_threads", r.n_threads},
                      {"isa", m.isa}, {"test", r.test}, {"n_prompt", r.n_prompt}, {"n_gen", r.n_gen}, {"n_depth", r.n_depth},
                      {"avg_ns", mean(ns)}, {"stddev_ns", stddev(ns)}, {"avg_ts", mean(ts)},
                      {"stddev_ts", stddev(ts)}, {"samples_ns", ns}, {"samples_ts", ts},
                      {"ttft_ms", r.n_gen == 0 ? mean(r.seconds) * 1e3 : 0.0},
                      {"peak_rss_bytes", peak_rss_bytes()}};
  if (r.roofline_gbps > 0) {
    const double limit = r.roofline_gbps * 1e9 / decode_bytes_per_token(m, f.cache_type, r);
    j["read_bandwidth_gbps"] = r.roofline_gbps;
    j["roofline_limit_ts"] = limit;
    j["roofline_fraction"] = mean(ts) / limit;
    j["decode_bytes_per_token"] = decode_bytes_per_token(m, f.cache_type, r);
  }
  return j;
}

// The scalar fields of a record, in order, for csv and sql.
std::vector<std::pair<std::string, nlohmann::json>> scalar_fields(const nlohmann::json& j) {
  std::vector<std::pair<std::string, nlohmann::json>> fields;
  for (const auto& [key, value] : j.items())
    if (!value.is_array()) fields.emplace_back(key, value);
  return fields;
}

std::string csv_cell(const nlohmann::json& v) {
  if (!v.is_string()) return v.dump();
  std::string out = "\"";
  for (char c : v.get<std::string>()) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string sql_value(const nlohmann::json& v) {
  if (!v.is_string()) return v.dump();
  std::string out = "'";
  for (char c : v.get<std::string>()) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

void print_records(const std::vector<nlohmann::json>& records, const std::string& format) {
  if (format == "json") {
    std::printf("%s\n", nlohmann::json(records).dump(2).c_str());
  } else if (format == "jsonl") {
    for (const nlohmann::json& j : records) std::printf("%s\n", j.dump().c_str());
  } else if (format == "csv") {
    for (size_t i = 0; i < records.size(); ++i) {
      const auto fields = scalar_fields(records[i]);
      std::string header, line;
      for (const auto& [key, value] : fields) {
        header += (header.empty() ? "" : ",") + key;
        line += (line.empty() ? "" : ",") + csv_cell(value);
      }
      if (i == 0) std::printf("%s\n", header.c_str());
      std::printf("%s\n", line.c_str());
    }
  } else if (format == "sql") {  // llama-bench's: a CREATE TABLE and one INSERT per test
    if (records.empty()) return;
    std::string columns;
    for (const auto& [key, value] : scalar_fields(records[0]))
      columns += std::string(columns.empty() ? "" : ",\n") + "  " + key + " " +
                 (value.is_string() ? "TEXT" : value.is_number_float() ? "REAL" : "INTEGER");
    std::printf("CREATE TABLE IF NOT EXISTS test (\n%s\n);\n\n", columns.c_str());
    for (const nlohmann::json& j : records) {
      std::string keys, values;
      for (const auto& [key, value] : scalar_fields(j)) {
        keys += (keys.empty() ? "" : ", ") + key;
        values += (values.empty() ? "" : ", ") + sql_value(value);
      }
      std::printf("INSERT INTO test (%s) VALUES (%s);\n", keys.c_str(), values.c_str());
    }
  }
}

int run_bench(BenchFlags& f) {
  if (f.n_threads.empty()) f.n_threads = {physical_core_count()};
  if (!f.n_gpu_layers.empty()) std::fprintf(stderr, "hy2bit bench: note: -ngl ignored: hy2bit runs on the CPU only\n");
  for (auto [spec, values, flag] : {std::tuple{&f.n_prompt_spec, &f.n_prompt, "-p"}, std::tuple{&f.n_gen_spec, &f.n_gen, "-n"},
                                    std::tuple{&f.n_depth_spec, &f.n_depth, "-d"}}) {
    Result<std::vector<int64_t>> parsed = parse_values(*spec, flag);
    if (!parsed) return fail("bench", parsed.error().message);
    *values = *parsed;
  }
  for (const std::string& pg : f.pg_spec) {
    const size_t comma = pg.find(',');
    Result<std::vector<int64_t>> pp = parse_values({pg.substr(0, comma)}, "-pg");
    Result<std::vector<int64_t>> tg = parse_values({comma == std::string::npos ? "" : pg.substr(comma + 1)}, "-pg");
    if (comma == std::string::npos || !pp || !tg || pp->size() != 1 || tg->size() != 1 || (*pp)[0] == 0)
      return fail("bench", "-pg '" + pg + "': expected PP,TG (e.g. -pg 512,128)");
    f.pg.emplace_back((*pp)[0], (*tg)[0]);
  }
  const auto longest = [](const std::vector<int64_t>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); };
  int64_t longest_pg = 0;
  for (const auto& [pp, tg] : f.pg) longest_pg = std::max(longest_pg, pp + tg);
  const int64_t n_ctx = std::max<int64_t>({16, longest(f.n_depth) + std::max(longest(f.n_prompt), longest(f.n_gen) + 1), longest_pg});
  const auto label = [](const std::string& test, int64_t depth) {
    return depth == 0 ? test : test + " @ d" + std::to_string(depth);
  };
  size_t n_tests = f.pg.size();
  for (int64_t n : f.n_prompt) n_tests += n > 0 ? f.n_depth.size() : 0;
  for (int64_t n : f.n_gen) n_tests += n > 0 ? f.n_depth.size() : 0;
  n_tests *= f.n_threads.size() * f.model_paths.size();

  std::vector<Row> rows;
  std::vector<ModelSummary> models;
  size_t test_index = 0;
  for (const std::string& model_path : f.model_paths) {
    for (int n_threads : f.n_threads) {
      Result<std::shared_ptr<Model>> model = Model::load({.model_path = model_path, .n_threads = n_threads});
      if (!model) return fail("bench", model.error().message);
      const ModelSummary summary = (*model)->summary();
      if (models.empty() || models.back().path != summary.path) models.push_back(summary);
      const size_t model_index = models.size() - 1;
      Result<std::unique_ptr<Session>> session = Session::create(*model, session_options(n_ctx, f.n_batch, f.cache_type));
      if (!session) return fail("bench", session.error().message);
      std::fprintf(stderr, "hy2bit bench: %s, %d threads, %s kernels\n", summary.path.c_str(), n_threads, summary.isa.c_str());

      // One warm-up run, then -r timed ones, into a row.
      const auto measure = [&](Row row, const auto& warm_up, const auto& time_once) -> Status {
        row.model = model_index;
        if (f.progress)
          std::fprintf(stderr, "hy2bit bench: test %zu/%zu: %s, %d threads\n", ++test_index, n_tests, row.test.c_str(), n_threads);
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
      for (const auto& [pp, tg] : f.pg) {
        const auto once = [&, pp = pp, tg = tg] { return time_prompt_and_generation(**session, pp, tg, summary.n_vocab); };
        const Status done = measure({.test = "pp" + std::to_string(pp) + "+tg" + std::to_string(tg), .n_prompt = pp,
                                     .n_gen = tg, .n_depth = 0, .n_threads = n_threads, .seconds = {}},
                                    once, once);
        if (!done) return fail("bench", done.error().message);
      }
    }
  }

  // llama-bench's caution: a spread over 10% means the machine was busy.
  for (const Row& r : rows) {
    std::vector<double> ts;
    for (size_t i = 0; i < r.seconds.size(); ++i) ts.push_back(r.tokens_per_second(i));
    if (ts.size() > 1 && mean(ts) > 0 && stddev(ts) / mean(ts) > 0.10)
      std::fprintf(stderr, "hy2bit bench: warning: %s (%d threads) varies by %.0f%% between runs; the numbers are noisy (a busy machine?), try more -r\n",
                   r.test.c_str(), r.n_threads, 100.0 * stddev(ts) / mean(ts));
  }

  // Time to first token: the prompt's evaluation time (the first token is
  // sampled from its last logits), reported in milliseconds.
  const auto is_pp = [](const Row& r) { return r.n_gen == 0; };
  const auto is_tg = [](const Row& r) { return r.n_prompt == 0; };
  if (f.roofline) {
    for (int n_threads : f.n_threads) {
      const double gbps = measure_read_bandwidth(n_threads);
      for (Row& r : rows)
        if (r.n_threads == n_threads && is_tg(r)) r.roofline_gbps = gbps;
    }
  }
  if (f.output != "md") {
    std::vector<nlohmann::json> records;
    for (const Row& r : rows) records.push_back(row_json(r, models[r.model], f));
    print_records(records, f.output);
    return 0;
  }

  std::printf("| model | size | params | isa | threads | test | t/s |\n");
  std::printf("| --- | ---: | ---: | --- | ---: | --- | ---: |\n");
  const auto model_cells = [&](const Row& r) {
    const ModelSummary& m = models[r.model];
    char cells[256];
    std::snprintf(cells, sizeof(cells), "%s %s | %s | %.2f B | %s", m.architecture.c_str(), m.weight_types.c_str(),
                  format_bytes(m.weight_bytes).c_str(), static_cast<double>(m.n_params) / 1e9, m.isa.c_str());
    return std::string(cells);
  };
  for (const Row& r : rows) {
    std::vector<double> ts;
    for (size_t i = 0; i < r.seconds.size(); ++i) ts.push_back(r.tokens_per_second(i));
    std::printf("| %s | %d | %s | %.2f ± %.2f |\n", model_cells(r).c_str(), r.n_threads, r.test.c_str(), mean(ts), stddev(ts));
  }
  if (f.ttft)
    for (const Row& r : rows)
      if (is_pp(r))
        std::printf("| %s | %d | %s | %.1f ms ± %.1f |\n", model_cells(r).c_str(), r.n_threads,
                    label("ttft" + std::to_string(r.n_prompt), r.n_depth).c_str(), mean(r.seconds) * 1e3,
                    stddev(r.seconds) * 1e3);
  std::printf("\npeak RSS: %s", format_bytes(peak_rss_bytes()).c_str());
  for (const ModelSummary& m : models)
    std::printf("%s weights %s, repacked copies %s", &m == &models.front() ? " (" : "; ", format_bytes(m.weight_bytes).c_str(),
                format_bytes(m.repacked_bytes).c_str());
  std::printf(")\n");

  if (f.roofline) {
    for (const ModelSummary& m : models)
      std::printf("\nroofline of %s (decode reads %s of weights per token, plus %s of %s cache per position):\n",
                  m.path.c_str(), format_bytes(m.decode_bytes).c_str(),
                  format_bytes(static_cast<uint64_t>(cache_bytes_per_position(m, f.cache_type))).c_str(), f.cache_type.c_str());
    for (const Row& r : rows) {
      if (r.roofline_gbps <= 0) continue;
      std::vector<double> ts;
      for (size_t i = 0; i < r.seconds.size(); ++i) ts.push_back(r.tokens_per_second(i));
      const double tps = mean(ts);
      const double bytes = decode_bytes_per_token(models[r.model], f.cache_type, r);
      const double limit_tps = r.roofline_gbps * 1e9 / bytes;
      std::printf("  %d threads: read bandwidth %.1f GB/s -> limit %.1f t/s; %s %.1f t/s = %.0f%% of the limit (%.1f GB/s)\n",
                  r.n_threads, r.roofline_gbps, limit_tps, r.test.c_str(), tps, 100.0 * tps / limit_tps, tps * bytes / 1e9);
    }
  }
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<BenchFlags>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure prompt and generation speed (like llama-bench)");
  cmd->add_option("-m,--model", f->model_paths, "GGUF model(s): repeat -m or separate with commas")->delimiter(',')->required();
  cmd->add_option("-p,--n-prompt", f->n_prompt_spec, "prompt lengths: 512, 64,128, or ranges 64-512*2, 0-1024+256 (0: skip)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("-n,--n-gen", f->n_gen_spec, "generation lengths, as -p (0: skip)")->delimiter(',')->capture_default_str();
  cmd->add_option("-d,--n-depth", f->n_depth_spec, "context depths: tokens already in the cache before each test, as -p")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--prompt-gen", f->pg_spec, "-pg PP,TG: a prompt of PP tokens then TG generated, timed together (repeatable)");
  cmd->add_option("-t,--threads", f->n_threads, "thread counts, comma-separated (default: physical cores)")->delimiter(',')->check(CLI::PositiveNumber);
  cmd->add_option("-b,--batch-size", f->n_batch, "prompt tokens per forward pass")->check(CLI::PositiveNumber)->capture_default_str();
  add_cache_type_flag(*cmd, f->cache_type);
  cmd->add_option("-r,--repetitions", f->repetitions, "runs per test")->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("-o,--output", f->output, "md, csv, json, jsonl or sql (as llama-bench)")
      ->check(CLI::IsMember({"md", "csv", "json", "jsonl", "sql"}))
      ->capture_default_str();
  cmd->add_flag("--progress", f->progress, "print each test as it starts on stderr");
  cmd->add_option("--n-gpu-layers", f->n_gpu_layers, "-ngl: accepted for llama-bench scripts; hy2bit runs on the CPU");
  cmd->add_flag("--roofline", f->roofline, "also measure read bandwidth and show decode speed against it");
  cmd->add_flag("!--no-ttft", f->ttft, "leave out the time-to-first-token rows");
  cmd->callback([f, &exit_code] { exit_code = run_bench(*f); });
}

}  // namespace hy2bit::tools
