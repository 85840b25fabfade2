// The built-in default model (models/README.md): with no -m, run answers
// with real text, not noise. Greedy decoding, so each reply is the model's
// most likely one; the checks are the forms it was trained on.
#include <gtest/gtest.h>

#include <cctype>
#include <sstream>

#include "support/test_support.h"

namespace hy2bit {
namespace {

using test::run_hy2bit;

// The line of `text` that starts with `label`, without the label ("" if none).
std::string line_after(const std::string& text, const std::string& label) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(label, 0) == 0) return line.substr(label.size());
  return "";
}

// The code points of UTF-8 `s` (which the tokenizer guarantees is valid).
std::u32string code_points(const std::string& s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const int n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    char32_t c = n == 1 ? b : b & (0x7F >> n);
    for (int k = 1; k < n && i + k < s.size(); ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(c);
    i += n;
  }
  return out;
}

bool all_han(const std::u32string& s) {
  for (char32_t c : s)
    if (c < 0x4E00 || c > 0x9FFF) return false;
  return !s.empty();
}

TEST(DefaultModel, WithoutMSaysWhichModelItIs) {
  const test::CommandResult r = run_hy2bit({"run", "-p", "写一副春联", "-n", "4", "--temp", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("built-in hy-poet-17m-2bit-q2_0c.gguf"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("-m HY-1.8B-2Bit-q2_0c.gguf"), std::string::npos) << r.err;
}

TEST(DefaultModel, WritesASpringCouplet) {
  const test::CommandResult r = run_hy2bit({"run", "-p", "写一副春联", "-n", "64", "--temp", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::u32string first = code_points(line_after(r.out, "上联："));
  const std::u32string second = code_points(line_after(r.out, "下联："));
  EXPECT_TRUE(all_han(first)) << r.out;
  EXPECT_TRUE(all_han(second)) << r.out;
  EXPECT_EQ(first.size(), second.size()) << "the two lines of a couplet have the same length:\n" << r.out;
  EXPECT_NE(r.out.find("春联"), std::string::npos) << "the think block names the form:\n" << r.out;
}

TEST(DefaultModel, TellsAFortuneInEnglish) {
  const test::CommandResult r =
      run_hy2bit({"run", "-p", "Tell me a fortune about love. /no_think", "-n", "48", "--temp", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t letters = 0, non_ascii = 0;
  for (unsigned char c : r.out) {
    letters += std::isalpha(c) != 0;
    non_ascii += c >= 0x80;
  }
  EXPECT_GE(letters, 40u) << r.out;
  EXPECT_EQ(non_ascii, 0u) << "an English fortune, no Chinese:\n" << r.out;
}

TEST(DefaultModel, ServeHelpNamesTheBuiltInModel) {
  const test::CommandResult r = run_hy2bit({"serve", "--help"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("built-in"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace hy2bit
