// hy2bit: one binary, llama.cpp-style subcommands (run, chat, serve, bench,
// perplexity, quantize, convert, info, tokenize, logits, make-test-model). This file only
// registers them and maps errors to exit codes.
#include <cstdio>
#include <string>
#include <vector>

#include "commands.h"
#include "llama_args.h"

namespace hy2bit::tools {

int fail(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "hy2bit %s: %s\n", command.c_str(), message.c_str());
  return 1;
}

std::string format_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 4) {
    value /= 1024.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), unit == 0 ? "%.0f %s" : "%.2f %s", value, units[unit]);
  return text;
}

}  // namespace hy2bit::tools

int main(int argc, char** argv) {
  CLI::App app{"hy2bit: run 2-bit LLMs (HY-1.8B-2Bit, hunyuan-dense GGUF) fast on CPUs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "hy2bit 0.1.0");
  int exit_code = 0;
  hy2bit::tools::add_info_command(app, exit_code);
  hy2bit::tools::add_logits_command(app, exit_code);
  hy2bit::tools::add_make_test_model_command(app, exit_code);
  hy2bit::tools::add_run_command(app, exit_code);
  hy2bit::tools::add_chat_command(app, exit_code);
  hy2bit::tools::add_tokenize_command(app, exit_code);
  hy2bit::tools::add_quantize_command(app, exit_code);
  hy2bit::tools::add_serve_command(app, exit_code);
  hy2bit::tools::add_bench_command(app, exit_code);
  hy2bit::tools::add_perplexity_command(app, exit_code);
  hy2bit::tools::add_convert_command(app, exit_code);
  hy2bit::tools::add_env_names(app);
  // llama.cpp's single-dash long flags (-ngl, -hf, -sys, ...): Debian's CLI11
  // takes only one-letter short flags, so they are renamed to their long forms.
  std::vector<std::string> args = hy2bit::tools::llama_spellings_to_cli11(argc, argv);
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
