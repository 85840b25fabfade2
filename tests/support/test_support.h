// Helpers shared by the test folders: where the reference data and the built
// binary are, and reading whole files. Tests link this file; the library never does.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hy2bit::test {

// Path of a file under ../shared/testdata (e.g. "models/hy-tiny-f16.gguf").
std::string testdata_path(const std::string& relative);
// Path of the built hy2bit binary and of a scratch folder under build/.
std::string hy2bit_binary();
std::string scratch_dir();  // created on first use; unique per test process

std::vector<uint8_t> read_bytes(const std::string& path);
std::vector<float> read_f32(const std::string& path);  // raw little-endian float32
std::vector<int32_t> read_token_ids(const std::string& path);  // one id per line

// GBNF whose start state holds 2^depth distinct stacks: rK ::= rK-1 "b" |
// rK-1 "c", down to r0 ::= "a" (matches "a" then depth letters b or c).
std::string doubling_grammar(int depth);

}  // namespace hy2bit::test

namespace hy2bit::test {

// What running a program printed and returned.
struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs the hy2bit binary with `args` (no shell involved in the arguments),
// feeding `input` on stdin, with a timeout in seconds.
CommandResult run_hy2bit(const std::vector<std::string>& args, const std::string& input = "",
                         int timeout_seconds = 120);
// Runs any program the same way.
CommandResult run_program(const std::vector<std::string>& argv, const std::string& input = "",
                          int timeout_seconds = 120);

}  // namespace hy2bit::test
