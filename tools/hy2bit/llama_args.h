// llama.cpp's command-line spellings on top of CLI11: its single-dash long
// flags (-ngl, -cnv, -hf, ...) renamed to their double-dash forms before
// parsing (Debian's CLI11 2.1 only takes one-letter short flags), and an
// HY2BIT_ARG_* environment variable for every option (llama.cpp's LLAMA_ARG_*).
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace hy2bit::tools {

// argv[1..] with llama.cpp's single-dash long flags replaced by their
// double-dash names ("-ngl" -> "--n-gpu-layers", "-ngl=99" -> "--n-gpu-layers=99"),
// in the reversed order CLI::App::parse(std::vector&) takes. The word after
// an option that takes free text (-p, -sys, -r, ...) is never renamed, so
// `-p -cnv` still sends the prompt "-cnv".
std::vector<std::string> llama_spellings_to_cli11(int argc, char** argv);

// The double-dash name a single-dash llama.cpp flag stands for, or "" (for --help texts and tests).
std::string_view llama_long_name(std::string_view single_dash);

// Gives every option of `app` and its subcommands that has a long name an
// environment variable: --ctx-size reads HY2BIT_ARG_CTX_SIZE when not given.
void add_env_names(CLI::App& app);

}  // namespace hy2bit::tools
