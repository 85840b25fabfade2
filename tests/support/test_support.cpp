// Implementation of the shared test helpers (paths, whole-file reads).
#include "support/test_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace hy2bit::test {

std::string testdata_path(const std::string& relative) {
  return std::string(HY2BIT_TESTDATA_DIR) + "/" + relative;
}

std::string hy2bit_binary() { return std::string(HY2BIT_BINARY_DIR) + "/bin/hy2bit"; }

std::string scratch_dir() {
  static const std::string dir = [] {
    std::string d = std::string(HY2BIT_BINARY_DIR) + "/test-scratch/" + std::to_string(getpid());
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<float> read_f32(const std::string& path) {
  std::vector<uint8_t> bytes = read_bytes(path);
  std::vector<float> values(bytes.size() / sizeof(float));
  std::memcpy(values.data(), bytes.data(), values.size() * sizeof(float));
  return values;
}

std::vector<int32_t> read_token_ids(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<int32_t> ids;
  long long id = 0;
  while (in >> id) ids.push_back(static_cast<int32_t>(id));
  return ids;
}

}  // namespace hy2bit::test

namespace hy2bit::test {
namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out.append("'\\''");
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

CommandResult run_program(const std::vector<std::string>& argv, const std::string& input, int timeout_seconds) {
  static int counter = 0;
  const std::string base = scratch_dir() + "/cmd" + std::to_string(counter++);
  {
    std::ofstream in(base + ".in", std::ios::binary);
    in << input;
  }
  std::string command = "timeout ";
  command.append(std::to_string(timeout_seconds));
  for (const std::string& a : argv) {
    command.push_back(' ');
    command.append(shell_quote(a));
  }
  for (const auto& [redirect, suffix] : {std::pair{" < ", ".in"}, {" > ", ".out"}, {" 2> ", ".err"}}) {
    command.append(redirect);
    command.append(shell_quote(base + suffix));
  }
  const int status = std::system(command.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_all(base + ".out");
  r.err = read_all(base + ".err");
  return r;
}

CommandResult run_hy2bit(const std::vector<std::string>& args, const std::string& input, int timeout_seconds) {
  std::vector<std::string> argv = {hy2bit_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv, input, timeout_seconds);
}

std::string doubling_grammar(int depth) {
  std::string g = "root ::= r";
  g.append(std::to_string(depth)).append("\nr0 ::= \"a\"\n");
  for (int i = 1; i <= depth; ++i) {
    std::string prev = "r";
    prev += std::to_string(i - 1);
    g.append("r").append(std::to_string(i)).append(" ::= ").append(prev).append(" \"b\" | ").append(prev).append(" \"c\"\n");
  }
  return g;
}

}  // namespace hy2bit::test
