// Tests of the `hy2bit perplexity` command: its printout (llama-perplexity's
// running [i] estimates and "Final estimate" line, the KLD sections), its
// JSON, and a one-line error with a non-zero exit for every bad input.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>
#include <string>

#include "hy2bit/model.h"
#include "hy2bit/perplexity.h"
#include "support/test_support.h"

namespace hy2bit {
namespace {

std::string tiny() { return test::testdata_path("models/hy-tiny-f16.gguf"); }

// A file under the scratch folder holding `bytes`.
std::string write_file(const std::string& name, const std::string& bytes) {
  const std::string path = test::scratch_dir() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string text_prefix(size_t n) {
  std::ifstream in(std::string(HY2BIT_SOURCE_DIR) + "/data/text/licenses.txt", std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {}).substr(0, n);
}

// The error a failed run printed: exactly one line, starting "hy2bit perplexity: ".
std::string one_line_error(const test::CommandResult& r) {
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.err.rfind("hy2bit perplexity: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  return r.err;
}

TEST(PerplexityCli, PrintsRunningEstimatesAndTheFinalOneLikeLlamaCpp) {
  const std::string text = write_file("text.txt", text_prefix(3000));
  test::CommandResult r = test::run_hy2bit({"perplexity", "-m", tiny(), "-f", text, "-c", "64", "--chunks", "3", "-t", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("seconds per pass - ETA "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[1]"), std::string::npos);
  EXPECT_NE(r.out.find(",[3]"), std::string::npos);
  EXPECT_EQ(r.out.find("[4]"), std::string::npos);
  EXPECT_NE(r.out.find("Final estimate: PPL = "), std::string::npos) << r.out;
}

TEST(PerplexityCli, JsonHoldsTheLibrarysNumbers) {
  const std::string text_bytes = text_prefix(3000);
  const std::string text = write_file("json.txt", text_bytes);
  test::CommandResult r = test::run_hy2bit(
      {"perplexity", "-m", tiny(), "-f", text, "-c", "64", "--chunks", "3", "-t", "1", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);  // stdout is only the JSON
  EXPECT_EQ(j["n_ctx"], 64);
  EXPECT_EQ(j["n_chunks"], 3);
  EXPECT_EQ(j["n_scored"], 3 * 31);
  EXPECT_EQ(j["cache_type"], "f16");
  EXPECT_FALSE(j.contains("kld"));

  auto model = Model::load({.model_path = tiny(), .n_threads = 1});
  ASSERT_TRUE(model.ok());
  auto tokens = tokenize_for_perplexity(**model, text_bytes);
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(j["n_text_tokens"], tokens->size());
  auto lib = perplexity(*model, *tokens, {.n_ctx = 64, .n_chunks = 3});
  ASSERT_TRUE(lib.ok());
  EXPECT_DOUBLE_EQ(j["ppl"].get<double>(), lib->ppl);
  EXPECT_DOUBLE_EQ(j["ppl_error"].get<double>(), lib->ppl_error);
  EXPECT_GT(j["tokens_per_second"].get<double>(), 0);
}

TEST(PerplexityCli, TwoStepKlDivergencePrintsLlamaCppsSections) {
  const std::string text = write_file("kld.txt", text_prefix(3000));
  const std::string base = test::scratch_dir() + "/cli.kld";
  test::CommandResult made = test::run_hy2bit(
      {"perplexity", "-m", tiny(), "-f", text, "-c", "64", "--chunks", "3", "-t", "1", "--kl-divergence-base", base});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  test::CommandResult r = test::run_hy2bit({"perplexity", "-m", test::testdata_path("models/hy-tiny-q8_0.gguf"), "-f",
                                            text, "-t", "1", "--kl-divergence-base", base, "--kl-divergence"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s : {"chunk             PPL               ln(PPL(Q)/PPL(base))", "====== Perplexity statistics ======",
                        "Mean PPL(Q)                   :", "Mean PPL(Q)/PPL(base)         :", "Mean PPL(Q)-PPL(base)         :",
                        "====== KL divergence statistics ======", "Mean    KLD:", "99.9%   KLD:", "Median  KLD:",
                        " 1.0%   KLD:", "====== Token probability statistics ======", "RMS Δp    :", "Same top p:"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  test::CommandResult j = test::run_hy2bit({"perplexity", "-m", tiny(), "-f", text, "-t", "1",
                                            "--kl-divergence-base", base, "--kl-divergence", "-o", "json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const nlohmann::json out = nlohmann::json::parse(j.out);
  EXPECT_EQ(out["kld"]["kld_mean"], 0.0);
  EXPECT_EQ(out["kld"]["same_top"], 1.0);
  EXPECT_EQ(out["kld"]["ppl_diff"], 0.0);
}

TEST(PerplexityCli, BadInputsGiveOneLineErrors) {
  const std::string short_text = write_file("short.txt", text_prefix(300));
  const std::string good_text = write_file("good.txt", text_prefix(3000));
  std::string err = one_line_error(test::run_hy2bit({"perplexity", "-m", tiny(), "-f", write_file("empty.txt", "")}));
  EXPECT_NE(err.find("empty.txt is empty"), std::string::npos) << err;
  err = one_line_error(test::run_hy2bit({"perplexity", "-m", tiny(), "-f", write_file("bad.txt", "ok \xc3\x28 no")}));
  EXPECT_NE(err.find("bad.txt is not valid UTF-8 at byte 3"), std::string::npos) << err;
  err = one_line_error(test::run_hy2bit({"perplexity", "-m", tiny(), "-f", short_text}));
  EXPECT_NE(err.find("needs at least 1024"), std::string::npos) << err;
  err = one_line_error(test::run_hy2bit({"perplexity", "-m", tiny(), "-f", test::scratch_dir() + "/missing.txt"}));
  EXPECT_NE(err.find("cannot open text file"), std::string::npos) << err;
  err = one_line_error(test::run_hy2bit({"perplexity", "-m", tiny(), "-f", good_text, "--kl-divergence"}));
  EXPECT_NE(err.find("--kl-divergence needs --kl-divergence-base"), std::string::npos) << err;
  err = one_line_error(test::run_hy2bit({"perplexity", "-m", tiny(), "-f", good_text, "--kl-divergence",
                                         "--kl-divergence-base", write_file("junk.kld", "HY2BKLDB\x01")}));
  EXPECT_NE(err.find("junk.kld: KLD base is truncated"), std::string::npos) << err;
  err = one_line_error(test::run_hy2bit({"perplexity", "-m", tiny(), "-f", good_text, "--kl-divergence",
                                         "--kl-divergence-base", test::scratch_dir() + "/none.kld"}));
  EXPECT_NE(err.find("none.kld"), std::string::npos) << err;
  // A flag value out of range is CLI11's error, also non-zero.
  EXPECT_NE(test::run_hy2bit({"perplexity", "-m", tiny(), "-f", good_text, "-c", "2"}).exit_code, 0);
}

}  // namespace
}  // namespace hy2bit
