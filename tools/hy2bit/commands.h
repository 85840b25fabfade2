// The subcommands of the hy2bit binary. Each file in tools/hy2bit/ adds one
// to the CLI11 app: it parses flags into an options struct and makes one
// library call. A command's exit status is written to `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace hy2bit::tools {

void add_info_command(CLI::App& app, int& exit_code);
void add_logits_command(CLI::App& app, int& exit_code);
void add_make_test_model_command(CLI::App& app, int& exit_code);
void add_run_command(CLI::App& app, int& exit_code);
void add_chat_command(CLI::App& app, int& exit_code);
void add_tokenize_command(CLI::App& app, int& exit_code);
void add_quantize_command(CLI::App& app, int& exit_code);
void add_serve_command(CLI::App& app, int& exit_code);
void add_bench_command(CLI::App& app, int& exit_code);
void add_perplexity_command(CLI::App& app, int& exit_code);
void add_convert_command(CLI::App& app, int& exit_code);

// Prints "hy2bit <command>: <message>" on stderr and returns 1.
int fail(const std::string& command, const std::string& message);

// "1.23 GiB" style sizes for humans.
std::string format_bytes(uint64_t bytes);

}  // namespace hy2bit::tools
