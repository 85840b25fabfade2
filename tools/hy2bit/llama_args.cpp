// The single-dash spellings llama.cpp's arg.cpp accepts, mapped to the
// double-dash names hy2bit's commands register; and the HY2BIT_ARG_* names.
#include "llama_args.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace hy2bit::tools {
namespace {

// llama.cpp spelling -> the long name the hy2bit command registers.
constexpr std::array<std::pair<std::string_view, std::string_view>, 20> kSingleDashLong = {{
    {"-ngl", "--n-gpu-layers"},
    {"-cnv", "--conversation"},
    {"-no-cnv", "--no-conversation"},
    {"-ctk", "--cache-type-k"},
    {"-ctv", "--cache-type-v"},
    {"-fa", "--flash-attn"},
    {"-md", "--model-draft"},
    {"-hf", "--hf-repo"},
    {"-hfr", "--hf-repo"},
    {"-hff", "--hf-file"},
    {"-hft", "--hf-token"},
    {"-mu", "--model-url"},
    {"-st", "--single-turn"},
    {"-sp", "--special"},
    {"-ub", "--ubatch-size"},
    {"-np", "--parallel"},
    {"-sys", "--system-prompt"},
    {"-sysf", "--system-prompt-file"},
    {"-co", "--color"},
    {"-pg", "--prompt-gen"},
}};

// Options whose value is free text (a prompt, a path), which may itself look like a flag.
constexpr std::array<std::string_view, 12> kTextValued = {
    "-p", "--prompt", "-sys", "--system-prompt", "-r", "--reverse-prompt",
    "-f", "--file", "-m", "--model", "--alias", "--dry-sequence-breaker"};

}  // namespace

std::string_view llama_long_name(std::string_view single_dash) {
  for (const auto& [from, to] : kSingleDashLong)
    if (from == single_dash) return to;
  return {};
}

std::vector<std::string> llama_spellings_to_cli11(int argc, char** argv) {
  std::vector<std::string> args;
  bool value_is_text = false;  // the previous word was an option taking free text
  bool after_dashdash = false;
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (!value_is_text && !after_dashdash) {
      if (word == "--") after_dashdash = true;
      const size_t eq = word.find('=');
      const std::string_view name = std::string_view(word).substr(0, eq);
      const std::string_view mapped = llama_long_name(name);
      if (!mapped.empty()) word = std::string(mapped) + (eq == std::string::npos ? "" : word.substr(eq));
    }
    value_is_text = !value_is_text && std::find(kTextValued.begin(), kTextValued.end(), word) != kTextValued.end();
    args.push_back(std::move(word));
  }
  std::reverse(args.begin(), args.end());
  return args;
}

void add_env_names(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    if (option == app.get_help_ptr() || option == app.get_help_all_ptr() || option == app.get_version_ptr()) continue;
    if (!option->get_envname().empty() || option->get_lnames().empty()) continue;
    std::string name = "HY2BIT_ARG_";
    for (char c : option->get_lnames().front())
      name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    option->envname(name);
  }
  for (CLI::App* sub : app.get_subcommands({})) add_env_names(*sub);
}

}  // namespace hy2bit::tools
