// hy2bit tokenize: text to token ids with the model's tokenizer (only the
// vocabulary is loaded). `--cases FILE` tokenizes each case of a
// llama.cpp vocab-test file (cases separated by "\n__ggml_vocab_test__\n")
// and prints one line of ids per case, the format of its .out files.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "commands.h"
#include "hy2bit/text.h"

namespace hy2bit::tools {
namespace {

struct TokenizeOptionsFlags {
  std::string model_path;
  std::string prompt;
  std::string cases_path;
  bool pieces = false;
  bool no_bos = false;
  bool no_special = false;
};

void print_ids(const std::vector<int32_t>& ids) {
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) line += (i ? " " : "") + std::to_string(ids[i]);
  std::printf("%s\n", line.c_str());
}

int run_cases(const Model& model, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("tokenize", "cannot open cases file '" + path + "'");
  const std::string all{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const std::string separator = "\n__ggml_vocab_test__\n";
  size_t start = 0, n_cases = 0;
  for (size_t end; (end = all.find(separator, start)) != std::string::npos; start = end + separator.size()) {
    // Each case: no BOS, special-token text parsed, as llama.cpp's test-tokenizer-0 does.
    Result<std::vector<int32_t>> ids =
        tokenize(model, std::string_view(all).substr(start, end - start), {.add_bos = false, .parse_special = true});
    if (!ids) return fail("tokenize", path + ": case " + std::to_string(n_cases + 1) + ": " + ids.error().message);
    print_ids(*ids);
    ++n_cases;
  }
  if (start != all.size())
    return fail("tokenize", path + ": text after the last separator (is the file cut short?)");
  return 0;
}

int run_tokenize(const TokenizeOptionsFlags& o) {
  if (o.prompt.empty() == o.cases_path.empty())
    return fail("tokenize", "give exactly one of -p TEXT or --cases FILE");
  Result<std::shared_ptr<Model>> model = Model::load({.model_path = o.model_path, .vocab_only = true});
  if (!model) return fail("tokenize", model.error().message);
  if (!o.cases_path.empty()) return run_cases(**model, o.cases_path);

  Result<std::vector<int32_t>> ids =
      tokenize(**model, o.prompt, {.add_bos = !o.no_bos, .parse_special = !o.no_special});
  if (!ids) return fail("tokenize", ids.error().message);
  if (!o.pieces) {
    print_ids(*ids);
    return 0;
  }
  for (int32_t id : *ids) {
    std::string piece = token_to_piece(**model, id);
    std::string shown;
    for (unsigned char c : piece) {
      if (c == '\n') shown += "\\n";
      else if (c == '\t') shown += "\\t";
      else if (c < 0x20) { char hex[8]; std::snprintf(hex, sizeof(hex), "\\x%02x", c); shown += hex; }
      else shown += static_cast<char>(c);
    }
    std::printf("%6d -> '%s'\n", id, shown.c_str());
  }
  return 0;
}

}  // namespace

void add_tokenize_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<TokenizeOptionsFlags>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Turn text into token ids (loads only the vocabulary)");
  cmd->add_option("-m,--model", o->model_path, "GGUF model or vocabulary file")->required();
  cmd->add_option("-p,--prompt", o->prompt, "text to tokenize");
  cmd->add_option("--cases", o->cases_path, "llama.cpp vocab test file: one line of ids per case (no BOS)");
  cmd->add_flag("--pieces", o->pieces, "print each id with the text it stands for");
  cmd->add_flag("--no-bos", o->no_bos, "do not add BOS even if the model asks for it");
  cmd->add_flag("--no-parse-special", o->no_special, "treat control-token text as plain text");
  cmd->callback([o, &exit_code] { exit_code = run_tokenize(*o); });
}

}  // namespace hy2bit::tools
