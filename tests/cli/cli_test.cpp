// The hy2bit binary run as a user runs it: help, exit codes and one-line
// errors, deterministic output, prefill/decode agreement through `logits`,
// and the interactive chat through a pseudo-terminal.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "support/test_support.h"

namespace hy2bit {
namespace {

using test::run_hy2bit;

const std::string kTinyQ2 = test::testdata_path("models/hy-tiny-q2_0c.gguf");
const std::string kTinyF16 = test::testdata_path("models/hy-tiny-f16.gguf");

// Error output is one line that names the command.
void expect_one_line_error(const test::CommandResult& r, const std::string& must_contain) {
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(must_contain), std::string::npos) << r.err;
}

TEST(Cli, HelpForEveryCommand) {
  const test::CommandResult root = run_hy2bit({"--help"});
  EXPECT_EQ(root.exit_code, 0);
  for (const char* command : {"info", "logits", "make-test-model", "run", "chat", "tokenize"}) {
    EXPECT_NE(root.out.find(command), std::string::npos) << command;
    const test::CommandResult r = run_hy2bit({command, "--help"});
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_NE(r.out.find("--"), std::string::npos) << command;
  }
}

TEST(Cli, NoCommandOrUnknownFlagFails) {
  EXPECT_NE(run_hy2bit({}).exit_code, 0);
  const test::CommandResult r = run_hy2bit({"run", "-m", kTinyQ2, "-p", "hi", "--no-such-flag"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no-such-flag"), std::string::npos) << r.err;
  EXPECT_NE(run_hy2bit({"run", "-m", kTinyQ2, "-p", "hi", "--temp", "banana"}).exit_code, 0);
}

TEST(Cli, MissingModelFileIsAClearError) {
  expect_one_line_error(run_hy2bit({"run", "-m", "/no/such/model.gguf", "-p", "hi"}), "/no/such/model.gguf");
  expect_one_line_error(run_hy2bit({"info", "-m", "/no/such/model.gguf"}), "/no/such/model.gguf");
}

TEST(Cli, NotAGgufFileIsAClearError) {
  const std::string path = test::scratch_dir() + "/not-a-model.gguf";
  std::ofstream(path) << "this is not a gguf file at all";
  expect_one_line_error(run_hy2bit({"run", "-m", path, "-p", "hi"}), path);
}

TEST(Cli, InfoListsTensorsAndKernels) {
  const test::CommandResult r = run_hy2bit({"info", "-m", kTinyQ2});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("blk.1.ffn_down.weight"), std::string::npos);
  EXPECT_NE(r.out.find("q2_0c"), std::string::npos);
  EXPECT_NE(r.out.find("kernels:"), std::string::npos);
  EXPECT_NE(r.out.find("hunyuan-dense"), std::string::npos);
}

TEST(Cli, SameSeedSameText) {
  const std::vector<std::string> args = {"run", "-m", kTinyQ2, "-p", "写一副春联", "-n", "24", "--seed", "4568", "-t", "1"};
  const test::CommandResult a = run_hy2bit(args);
  const test::CommandResult b = run_hy2bit(args);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_FALSE(a.out.empty());
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.err.find("generated"), std::string::npos) << a.err;
  EXPECT_NE(a.err.find("t/s"), std::string::npos) << a.err;
}

TEST(Cli, CacheTypeQ8_0RunsAndBadTypesAreRefused) {
  const test::CommandResult r =
      run_hy2bit({"run", "-m", kTinyQ2, "-p", "hi", "-n", "4", "--seed", "1", "--cache-type", "q8_0"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(r.out.empty());
  const test::CommandResult bad = run_hy2bit({"run", "-m", kTinyQ2, "-p", "hi", "--cache-type", "q4_0"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("cache-type"), std::string::npos) << bad.err;
  const test::CommandResult bench = run_hy2bit(
      {"bench", "-m", kTinyQ2, "-p", "16", "-n", "4", "-r", "1", "-o", "json", "--cache-type", "q8_0"});
  EXPECT_EQ(bench.exit_code, 0) << bench.err;
  EXPECT_NE(bench.out.find("\"type_k\": \"q8_0\""), std::string::npos) << bench.out;
}

TEST(Cli, BenchRunsTestsAtAContextDepth) {
  const test::CommandResult md =
      run_hy2bit({"bench", "-m", kTinyQ2, "-p", "8", "-n", "4", "-d", "0,16", "-r", "1"});
  ASSERT_EQ(md.exit_code, 0) << md.err;
  for (const char* test : {"| pp8 |", "| tg4 |", "| pp8 @ d16 |", "| tg4 @ d16 |", "| ttft8 @ d16 |"})
    EXPECT_NE(md.out.find(test), std::string::npos) << test << "\n" << md.out;
  const test::CommandResult json =
      run_hy2bit({"bench", "-m", kTinyQ2, "-p", "0", "-n", "4", "-d", "16", "-r", "1", "-o", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(json.out.find("\"n_depth\": 16"), std::string::npos) << json.out;
  EXPECT_NE(run_hy2bit({"bench", "-m", kTinyQ2, "-d", "-5", "-r", "1"}).exit_code, 0);
  for (const char* huge : {"9223372036854775000", "99999999999999"})
    EXPECT_NE(run_hy2bit({"bench", "-m", kTinyQ2, "-p", huge, "-d", "1", "-r", "1"}).exit_code, 0) << huge;
}

TEST(Cli, NoThinkPutsAnEmptyThinkBlockInThePrompt) {
  const test::CommandResult r =
      run_hy2bit({"run", "-m", kTinyQ2, "-p", "/no_think写一副春联", "-n", "4", "--seed", "1", "--verbose-prompt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("<｜hy_User｜>/no_think写一副春联<｜hy_Assistant｜><think>\n\n</think>\n"), std::string::npos)
      << r.err;
  const test::CommandResult thinking =
      run_hy2bit({"run", "-m", kTinyQ2, "-p", "写一副春联", "-n", "4", "--seed", "1", "--verbose-prompt"});
  ASSERT_EQ(thinking.exit_code, 0) << thinking.err;
  EXPECT_EQ(thinking.err.find("<think>"), std::string::npos) << thinking.err;
}

TEST(Cli, OverLongPromptIsRefused) {
  std::string prompt;
  for (int i = 0; i < 200; ++i) prompt += "word ";
  expect_one_line_error(run_hy2bit({"run", "-m", kTinyQ2, "-p", prompt, "-c", "64"}), "context");
}

TEST(Cli, InvalidUtf8PromptIsRefused) {
  expect_one_line_error(run_hy2bit({"run", "-m", kTinyQ2, "-p", "bad \xff\xfe bytes"}), "UTF-8");
}

// Prefill of the whole sequence and token-by-token decode give the same logits.
TEST(Cli, PrefillAndDecodeAgreeOnAGeneratedModel) {
  const std::string model = test::scratch_dir() + "/generated-tiny.gguf";
  const test::CommandResult made =
      run_hy2bit({"make-test-model", "--out", model, "--preset", "tiny", "--layers", "3", "--seed", "11"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string tokens = test::scratch_dir() + "/ids.tokens";
  {
    std::ofstream out(tokens);
    for (int i = 0; i < 40; ++i) out << (i * 37 + 5) % 980 << "\n";
  }
  const std::string prefill = test::scratch_dir() + "/prefill.f32", decode = test::scratch_dir() + "/decode.f32";
  const test::CommandResult a = run_hy2bit({"logits", "-m", model, "--tokens", tokens, "--out", prefill});
  const test::CommandResult b = run_hy2bit({"logits", "-m", model, "--tokens", tokens, "--out", decode, "-b", "1"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const std::vector<float> x = test::read_f32(prefill), y = test::read_f32(decode);
  ASSERT_EQ(x.size(), 40u * 1000u);
  ASSERT_EQ(x.size(), y.size());
  double max_diff = 0;
  for (size_t i = 0; i < x.size(); ++i) max_diff = std::max(max_diff, std::fabs(double(x[i]) - y[i]));
  EXPECT_LE(max_diff, 1e-3);
}

TEST(Cli, TokenizeCasesMatchLlamaCpp) {
  const test::CommandResult r = run_hy2bit({"tokenize", "-m", test::testdata_path("tokenizer/hy-vocab.gguf"),
                                            "--cases", test::testdata_path("tokenizer/cases.inp")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<uint8_t> expected = test::read_bytes(test::testdata_path("tokenizer/cases.out"));
  EXPECT_EQ(r.out, std::string(expected.begin(), expected.end()));
}

// The chat command on a real pseudo-terminal (util-linux `script`): two turns answered.
TEST(Cli, ChatAnswersTwoTurnsOnATerminal) {
  const std::string command = test::hy2bit_binary() + " chat -m " + kTinyQ2 + " -n 6 --seed 3 -t 1";
  const test::CommandResult r =
      test::run_program({"script", "-qfec", command, "/dev/null"}, "hello there\nand again\n/exit\n", 120);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // Three prompts: before turn one, before turn two, and before /exit.
  size_t prompts = 0;
  for (size_t at = 0; (at = r.out.find("> ", at)) != std::string::npos; at += 2) ++prompts;
  EXPECT_GE(prompts, 3u) << r.out;
}

}  // namespace
}  // namespace hy2bit
