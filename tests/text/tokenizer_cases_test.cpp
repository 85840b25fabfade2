// Conformance of the tokenizer with llama.cpp: every text of
// testdata/tokenizer/cases.inp, tokenized with no BOS and special-token
// parsing on, must give exactly the ids llama.cpp gave (cases.out); decoding
// those ids must give the text back.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/test_support.h"
#include "text/text_test_util.h"

namespace hy2bit::text {
namespace {

constexpr std::string_view kSeparator = "\n__ggml_vocab_test__\n";

std::string read_text(const std::string& path) {
  const std::vector<uint8_t> bytes = hy2bit::test::read_bytes(path);
  return std::string(bytes.begin(), bytes.end());
}

// Each case is everything up to the next separator, its own newlines included.
std::vector<std::string> read_cases() {
  const std::string all = read_text(hy2bit::test::testdata_path("tokenizer/cases.inp"));
  std::vector<std::string> cases;
  size_t pos = 0;
  for (size_t sep = all.find(kSeparator); sep != std::string::npos; sep = all.find(kSeparator, pos)) {
    cases.push_back(all.substr(pos, sep - pos));
    pos = sep + kSeparator.size();
  }
  EXPECT_EQ(pos, all.size()) << "text after the last separator";
  return cases;
}

std::vector<std::vector<int32_t>> read_expected() {
  std::ifstream in(hy2bit::test::testdata_path("tokenizer/cases.out"));
  std::vector<std::vector<int32_t>> expected;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    std::vector<int32_t> ids;
    long long id = 0;
    while (s >> id) ids.push_back(static_cast<int32_t>(id));
    expected.push_back(std::move(ids));
  }
  return expected;
}

// Shows control characters so a failing case is readable.
std::string printable(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else out += c;
  }
  return out;
}

TEST(TokenizerCases, MatchLlamaCpp) {
  const Tokenizer* tok = test::vocab_tokenizer();
  ASSERT_NE(tok, nullptr);
  const std::vector<std::string> cases = read_cases();
  const std::vector<std::vector<int32_t>> expected = read_expected();
  ASSERT_EQ(cases.size(), 74u);
  ASSERT_EQ(expected.size(), cases.size());

  size_t passed = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    Result<std::vector<int32_t>> ids = tok->encode(cases[i], {.add_bos = false, .parse_special = true});
    ASSERT_TRUE(ids.ok()) << "case " << i << ": " << ids.error().message;
    if (*ids == expected[i]) {
      ++passed;
    } else {
      ADD_FAILURE() << "case " << i << " text: \"" << printable(cases[i]) << "\"\n  expected: "
                    << test::ids_to_string(expected[i]) << "\n  actual:   " << test::ids_to_string(*ids);
    }
  }
  std::printf("[ cases    ] %zu / %zu tokenizer cases match llama.cpp\n", passed, cases.size());
}

TEST(TokenizerCases, DecodeRoundTrip) {
  const Tokenizer* tok = test::vocab_tokenizer();
  ASSERT_NE(tok, nullptr);
  for (const std::string& text : read_cases()) {
    Result<std::vector<int32_t>> ids = tok->encode(text, {.add_bos = false, .parse_special = true});
    ASSERT_TRUE(ids.ok()) << ids.error().message;
    EXPECT_EQ(tok->decode(*ids, /*render_special=*/true), text) << "text: \"" << printable(text) << "\"";
    // Without special parsing the control-token text is plain text, and still round-trips.
    Result<std::vector<int32_t>> plain = tok->encode(text, {.add_bos = false, .parse_special = false});
    ASSERT_TRUE(plain.ok()) << plain.error().message;
    EXPECT_EQ(tok->decode(*plain), text) << "text: \"" << printable(text) << "\"";
  }
}

}  // namespace
}  // namespace hy2bit::text
