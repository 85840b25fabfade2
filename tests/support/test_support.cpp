// Implementation of the shared test helpers (paths, whole-file reads).
#include "support/test_support.h"

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
