// The commands a llama.cpp user types, from the model card (hy-model.md) and
// llama.cpp's README, run through `hy2bit run`: single-dash long flags, the
// flags that mean nothing on a CPU (one note), the ones hy2bit refuses (an
// error naming the flag), HY2BIT_ARG_* variables, prompts from a file or
// stdin, escapes, and the end-of-run reason. -hf runs against a local server.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/test_support.h"

namespace hy2bit {
namespace {

using test::run_hy2bit;

const std::string kTinyQ2 = test::testdata_path("models/hy-tiny-q2_0c.gguf");

std::vector<std::string> run_args(std::vector<std::string> extra) {
  std::vector<std::string> args = {"run", "-m", kTinyQ2, "-t", "1", "-s", "7"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

void expect_error_naming(const test::CommandResult& r, const std::string& flag) {
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(flag), std::string::npos) << r.err;
}

TEST(LlamaFlags, TheModelCardCommandRunsWithTheSameSpelling) {
  // hy-model.md: llama-cli -m MODEL -p "写一副春联" -t 1 --seed 4568 -n 32
  const test::CommandResult r = run_hy2bit({"run", "-m", kTinyQ2, "-p", "写一副春联", "-t", "1", "--seed", "4568", "-n", "8"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("stopped by -n 8 reached"), std::string::npos) << r.err;
}

TEST(LlamaFlags, GpuFlagsAreNotedOnceAndIgnored) {
  const test::CommandResult plain = run_hy2bit(run_args({"-p", "hi", "-n", "6"}));
  const test::CommandResult gpu = run_hy2bit(run_args({"-p", "hi", "-n", "6", "-ngl", "99", "-fa", "on"}));
  ASSERT_EQ(gpu.exit_code, 0) << gpu.err;
  EXPECT_EQ(gpu.out, plain.out);  // same text: the flags change nothing
  EXPECT_NE(gpu.err.find("-ngl 99 ignored"), std::string::npos) << gpu.err;
  EXPECT_NE(gpu.err.find("-fa on ignored"), std::string::npos) << gpu.err;
  // -fa alone (older llama.cpp) and --n-gpu-layers are accepted too.
  EXPECT_EQ(run_hy2bit(run_args({"-p", "hi", "-n", "2", "-fa", "--n-gpu-layers", "10"})).exit_code, 0);
}

TEST(LlamaFlags, SingleDashLongFlagsAreNotSplitIntoShortOnes) {
  // Each used to become a misleading error about -n, -c, -m or -h.
  EXPECT_EQ(run_hy2bit(run_args({"-p", "hi", "-n", "2", "-ctk", "q8_0", "-ctv", "q8_0"})).exit_code, 0);
  EXPECT_EQ(run_hy2bit(run_args({"-p", "hi", "-n", "2", "-no-cnv", "-st", "-sp", "-ub", "8"})).exit_code, 0);
  expect_error_naming(run_hy2bit(run_args({"-p", "hi", "-md", "draft.gguf"})), "-md");
  expect_error_naming(run_hy2bit(run_args({"-p", "hi", "-ctk", "q8_0", "-ctv", "f16"})), "-ctk q8_0 and -ctv f16");
  // -hf is not -h -f: it downloads (here: nothing listens, so a clear error, not help and exit 0).
  const test::CommandResult hf = test::run_program(
      {"env", "HF_ENDPOINT=http://127.0.0.1:1", "HY2BIT_CACHE=" + test::scratch_dir() + "/hf-none",
       test::hy2bit_binary(), "run", "-hf", "user/repo", "-p", "hi"});
  EXPECT_NE(hf.exit_code, 0);
  EXPECT_EQ(hf.out.find("Usage"), std::string::npos) << hf.out;
  EXPECT_NE(hf.err.find("user/repo"), std::string::npos) << hf.err;
  // A prompt that looks like a flag is left alone.
  const test::CommandResult dashed = run_hy2bit(run_args({"-p", "-cnv", "-n", "2", "--verbose-prompt"}));
  ASSERT_EQ(dashed.exit_code, 0) << dashed.err;
  EXPECT_NE(dashed.err.find("<｜hy_User｜>-cnv<｜hy_Assistant｜>"), std::string::npos) << dashed.err;
}

TEST(LlamaFlags, WhatHy2bitCannotHonourIsRefusedByName) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--mirostat", "2"}, "--mirostat"},
      {{"--typical", "0.9"}, "--typical"},
      {{"--dry-multiplier", "0.8"}, "--dry-multiplier"},
      {{"--xtc-probability", "0.5"}, "--xtc-probability"},
      {{"--context-shift"}, "--context-shift"},
      {{"--keep", "4"}, "--keep"},
      {{"--no-mmap"}, "--no-mmap"},
      {{"--samplers", "temperature;top_k"}, "--samplers"},
      {{"--samplers", "min_p;bogus"}, "bogus"},
      {{"--logit-bias", "12x"}, "--logit-bias"},
  };
  for (const auto& [flags, name] : cases) {
    std::vector<std::string> args = {"-p", "hi"};
    args.insert(args.end(), flags.begin(), flags.end());
    expect_error_naming(run_hy2bit(run_args(args)), name);
  }
  // Their "off" values are fine, as in llama.cpp.
  EXPECT_EQ(run_hy2bit(run_args({"-p", "hi", "-n", "2", "--mirostat", "0", "--typical", "1", "--dry-multiplier", "0",
                                 "--xtc-probability", "0", "--no-context-shift", "--keep", "0"}))
                .exit_code,
            0);
}

TEST(LlamaFlags, SamplersLogitBiasAndPenaltiesChangeTheText) {
  const test::CommandResult base = run_hy2bit(run_args({"-p", "hi", "-n", "12", "--temp", "0"}));
  ASSERT_EQ(base.exit_code, 0) << base.err;
  const test::CommandResult chain =
      run_hy2bit(run_args({"-p", "hi", "-n", "12", "--temp", "0", "--samplers", "penalties;top_k;temperature"}));
  EXPECT_EQ(chain.exit_code, 0) << chain.err;
  // Biases in llama.cpp's TOKEN(+|-)BIAS form parse and run.
  const test::CommandResult biased = run_hy2bit(run_args({"-p", "hi", "-n", "12", "--temp", "0", "-l", "5-2", "--logit-bias", "6+3.5"}));
  EXPECT_EQ(biased.exit_code, 0) << biased.err;
  const test::CommandResult penalised =
      run_hy2bit(run_args({"-p", "hi", "-n", "12", "--temp", "0", "--presence-penalty", "2", "--frequency-penalty", "2"}));
  ASSERT_EQ(penalised.exit_code, 0) << penalised.err;
  EXPECT_NE(penalised.out, base.out);
}

TEST(LlamaFlags, PromptsFromAFileStdinAndEscapes) {
  const std::string file = test::scratch_dir() + "/prompt.txt";
  std::ofstream(file) << "line one\nline two";
  const test::CommandResult from_file = run_hy2bit(run_args({"-f", file, "-n", "2", "--verbose-prompt"}));
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  EXPECT_NE(from_file.err.find("line one\nline two<｜hy_Assistant｜>"), std::string::npos) << from_file.err;
  const test::CommandResult from_stdin = run_hy2bit(run_args({"-p", "-", "-n", "2", "--verbose-prompt"}), "from stdin");
  ASSERT_EQ(from_stdin.exit_code, 0) << from_stdin.err;
  EXPECT_NE(from_stdin.err.find("<｜hy_User｜>from stdin<｜hy_Assistant｜>"), std::string::npos) << from_stdin.err;
  const test::CommandResult escaped = run_hy2bit(run_args({"-p", "a\\tb\\nc", "-e", "-n", "2", "--verbose-prompt"}));
  EXPECT_NE(escaped.err.find("a\tb\nc<｜hy_Assistant｜>"), std::string::npos) << escaped.err;
  const test::CommandResult literal = run_hy2bit(run_args({"-p", "a\\tb", "-n", "2", "--verbose-prompt"}));
  EXPECT_NE(literal.err.find("a\\tb<｜hy_Assistant｜>"), std::string::npos) << literal.err;
  expect_error_naming(run_hy2bit(run_args({"-f", "/no/such/prompt.txt"})), "-f");
  expect_error_naming(run_hy2bit(run_args({"-p", "x", "-f", file})), "-f");
  expect_error_naming(run_hy2bit(run_args({})), "-p");
}

TEST(LlamaFlags, EveryOptionHasAnEnvironmentVariable) {
  const test::CommandResult r = test::run_program(
      {"env", "HY2BIT_ARG_N_PREDICT=3", "HY2BIT_ARG_PROMPT=hi", test::hy2bit_binary(), "run", "-m", kTinyQ2, "-t", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("generated 3 tokens"), std::string::npos) << r.err;
  EXPECT_NE(run_hy2bit({"run", "--help"}).out.find("HY2BIT_ARG_CTX_SIZE"), std::string::npos);
  EXPECT_NE(run_hy2bit({"bench", "--help"}).out.find("HY2BIT_ARG_REPETITIONS"), std::string::npos);
}

TEST(LlamaFlags, TheSummaryNamesWhyGenerationStopped) {
  const test::CommandResult full = run_hy2bit(run_args({"-p", "hi", "-c", "24", "--ignore-eos"}));
  ASSERT_EQ(full.exit_code, 0) << full.err;
  EXPECT_NE(full.err.find("the context is full"), std::string::npos) << full.err;
  EXPECT_NE(full.err.find("-c"), std::string::npos) << full.err;
  EXPECT_NE(full.err.find("stopped by context full (-c 24)"), std::string::npos) << full.err;
  const test::CommandResult quiet = run_hy2bit(run_args({"-p", "hi", "-n", "3", "--log-disable"}));
  ASSERT_EQ(quiet.exit_code, 0);
  EXPECT_EQ(quiet.err, "");
}

// -hf against a local Hugging Face look-alike: the file is found by its tag,
// downloaded into $HY2BIT_CACHE and run; a second run works offline.
TEST(LlamaFlags, RunDashHfDownloadsAndRunsTheModel) {
  const std::vector<uint8_t> model = test::read_bytes(kTinyQ2);
  httplib::Server hub;
  hub.Get("/api/models/AngelSlim/HY-1.8B-2Bit-GGUF/tree/main", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("[{\"type\":\"file\",\"path\":\"HY-1.8B-2Bit-q2_0c.gguf\"}]", "application/json");
  });
  hub.Get("/AngelSlim/HY-1.8B-2Bit-GGUF/resolve/main/HY-1.8B-2Bit-q2_0c.gguf",
          [&](const httplib::Request&, httplib::Response& res) {
            res.set_content(std::string(model.begin(), model.end()), "application/octet-stream");
          });
  const int port = hub.bind_to_any_port("127.0.0.1");
  std::thread server([&] { hub.listen_after_bind(); });
  while (!hub.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::string cache = test::scratch_dir() + "/hf-cache";
  std::filesystem::remove_all(cache);
  const test::CommandResult r = test::run_program(
      {"env", "HF_ENDPOINT=http://127.0.0.1:" + std::to_string(port), "HY2BIT_CACHE=" + cache, test::hy2bit_binary(),
       "run", "-hf", "AngelSlim/HY-1.8B-2Bit-GGUF:q2_0c", "-p", "hi", "-n", "3", "-t", "1"});
  hub.stop();
  server.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(cache + "/hf/AngelSlim/HY-1.8B-2Bit-GGUF/HY-1.8B-2Bit-q2_0c.gguf"));
  const test::CommandResult offline = test::run_program(
      {"env", "HY2BIT_CACHE=" + cache, test::hy2bit_binary(), "run", "-hf", "AngelSlim/HY-1.8B-2Bit-GGUF", "-p", "hi",
       "-n", "3", "-t", "1", "--offline"});
  EXPECT_EQ(offline.exit_code, 0) << offline.err;
}

}  // namespace
}  // namespace hy2bit

namespace hy2bit {
namespace {

// bench as llama-bench: value ranges, -pg, several -m, and every -o format.
TEST(LlamaBench, RangesPgSeveralModelsAndOutputFormats) {
  const std::string m = test::testdata_path("models/hy-tiny-q2_0c.gguf");
  const test::CommandResult md =
      run_hy2bit({"bench", "-m", m, "-m", m, "-p", "8-32*2", "-n", "4", "-pg", "8,4", "-r", "1", "-t", "1", "--progress"});
  ASSERT_EQ(md.exit_code, 0) << md.err;
  for (const char* test : {"| pp8 |", "| pp16 |", "| pp32 |", "| tg4 |", "| pp8+tg4 |"})
    EXPECT_NE(md.out.find(test), std::string::npos) << test << "\n" << md.out;
  EXPECT_NE(md.err.find("test 10/10"), std::string::npos) << md.err;  // 5 tests x 2 models
  const test::CommandResult csv = run_hy2bit({"bench", "-m", m, "-p", "8", "-n", "0", "-r", "1", "-o", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out.rfind("avg_ns,avg_ts,", 0), 0u) << csv.out;
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 2) << csv.out;
  const test::CommandResult jsonl = run_hy2bit({"bench", "-m", m, "-p", "0-16+8", "-n", "0", "-r", "1", "-o", "jsonl"});
  ASSERT_EQ(jsonl.exit_code, 0) << jsonl.err;
  EXPECT_EQ(std::count(jsonl.out.begin(), jsonl.out.end(), '\n'), 2) << jsonl.out;  // pp8 and pp16 (0 skips)
  const test::CommandResult sql = run_hy2bit({"bench", "-m", m, "-p", "8", "-n", "0", "-r", "1", "-o", "sql"});
  ASSERT_EQ(sql.exit_code, 0) << sql.err;
  EXPECT_NE(sql.out.find("CREATE TABLE IF NOT EXISTS test"), std::string::npos) << sql.out;
  EXPECT_NE(sql.out.find("INSERT INTO test"), std::string::npos) << sql.out;
  for (const char* bad : {"8-x", "8-64*1", "64-8*0", "-3"})
    EXPECT_NE(run_hy2bit({"bench", "-m", m, "-p", bad, "-r", "1"}).exit_code, 0) << bad;
  EXPECT_NE(run_hy2bit({"bench", "-m", m, "-pg", "8", "-r", "1"}).exit_code, 0);
}

TEST(LlamaBench, RooflineFieldsReachTheJson) {
  const test::CommandResult r = run_hy2bit({"bench", "-m", test::testdata_path("models/hy-tiny-q2_0c.gguf"), "-p", "0",
                                            "-n", "4", "-r", "1", "-t", "1", "--roofline", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* field : {"\"read_bandwidth_gbps\"", "\"roofline_limit_ts\"", "\"roofline_fraction\""})
    EXPECT_NE(r.out.find(field), std::string::npos) << field << "\n" << r.out;
}

}  // namespace
}  // namespace hy2bit
