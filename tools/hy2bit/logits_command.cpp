// hy2bit logits: feeds a token file as one batch and writes float32 logits
// for every position (n_tokens x n_vocab, little-endian), the format of
// ../shared/testdata/logits. Used by conformance tests and for debugging.
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "commands.h"
#include "hy2bit/model.h"

namespace hy2bit::tools {
namespace {

struct LogitsOptions {
  std::string model_path;
  std::string tokens_path;
  std::string out_path;
  int n_threads = 0;
  int64_t n_batch = 512;
};

Result<std::vector<int32_t>> read_token_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error("cannot open token file '", path, "'");
  std::vector<int32_t> ids;
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::istringstream fields(line);
    long long id = 0;
    std::string rest;
    if (!(fields >> id) || (fields >> rest) || id < 0 || id > INT32_MAX)
      return make_error(path, ":", line_no, ": expected one token id per line, found '", line, "'");
    ids.push_back(static_cast<int32_t>(id));
  }
  if (ids.empty()) return make_error("token file '", path, "' holds no token ids");
  return ids;
}

int run_logits(const LogitsOptions& o) {
  Result<std::vector<int32_t>> tokens = read_token_file(o.tokens_path);
  if (!tokens) return fail("logits", tokens.error().message);
  Result<std::shared_ptr<Model>> model = Model::load({.model_path = o.model_path, .n_threads = o.n_threads});
  if (!model) return fail("logits", model.error().message);
  const auto n_tokens = static_cast<int64_t>(tokens->size());
  Result<std::unique_ptr<Session>> session =
      Session::create(*model, {.n_ctx = n_tokens, .n_batch = o.n_batch});
  if (!session) return fail("logits", session.error().message);
  Result<std::span<const float>> logits = (*session)->eval(*tokens, /*all_logits=*/true);
  if (!logits) return fail("logits", logits.error().message);

  std::FILE* out = std::fopen(o.out_path.c_str(), "wb");
  if (!out) return fail("logits", "cannot create '" + o.out_path + "'");
  const size_t written = std::fwrite(logits->data(), sizeof(float), logits->size(), out);
  if (std::fclose(out) != 0 || written != logits->size())
    return fail("logits", "could not write all logits to '" + o.out_path + "'");
  std::fprintf(stderr, "hy2bit logits: %lld tokens x %lld vocab -> %s (kernels: %s)\n",
               static_cast<long long>(n_tokens), static_cast<long long>((*model)->summary().n_vocab),
               o.out_path.c_str(), (*model)->summary().isa.c_str());
  return 0;
}

}  // namespace

void add_logits_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<LogitsOptions>();
  CLI::App* cmd = app.add_subcommand("logits", "Evaluate a token file as one batch and write float32 logits for every position");
  cmd->add_option("-m,--model", options->model_path, "GGUF model file")->required();
  cmd->add_option("--tokens", options->tokens_path, "token ids, one per line")->required();
  cmd->add_option("--out", options->out_path, "output file: n_tokens x n_vocab float32, little-endian")->required();
  cmd->add_option("-t,--threads", options->n_threads, "threads (default: physical cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("-b,--batch-size", options->n_batch, "tokens per forward pass")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->callback([options, &exit_code] { exit_code = run_logits(*options); });
}

}  // namespace hy2bit::tools
