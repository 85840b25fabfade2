// The fuzz targets' shared pieces (support.h).
#include "support.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <vector>

#include "gguf/gguf.h"

namespace hy2bit::fuzz {
namespace {

[[noreturn]] void die(std::string_view what) {
  std::fprintf(stderr, "fuzz: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

}  // namespace

const text::Tokenizer& tiny_vocab() {
  static const text::Tokenizer* tokenizer = [] {
    const std::string path = std::string(HY2BIT_FUZZ_DIR) + "/data/hy-tiny-vocab.gguf";
    std::ifstream in(path, std::ios::binary);
    if (!in) die("cannot read " + path + " (run fuzz/make_seeds.py)");
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Result<gguf::File> file = gguf::File::parse(bytes);
    if (!file) die(path + ": " + file.error().message);
    Result<text::Tokenizer> t = text::Tokenizer::from_gguf(*file);
    if (!t) die(path + ": " + t.error().message);
    return new text::Tokenizer(std::move(t).value());  // lives for the whole run
  }();
  return *tokenizer;
}

void check(bool ok, std::string_view what) {
  if (!ok) die(std::string("invariant broken: ") + std::string(what));
}

void trace_refusal(std::string_view stage, const Error& error) {
  static const bool verbose = [] {
    const char* v = std::getenv("HY2BIT_FUZZ_VERBOSE");
    return v != nullptr && std::string_view(v) == "1";
  }();
  if (verbose)
    std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(stage.size()), stage.data(), error.message.c_str());
}

}  // namespace hy2bit::fuzz
