// hy2bit run --json-schema / --grammar on the random tiny model: the reply on
// stdout is exactly what the schema or grammar allows; bad files and bad
// grammars are one-line errors naming the problem.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace hy2bit {
namespace {

using test::run_hy2bit;

const std::string kTiny = test::testdata_path("models/hy-tiny-q2_0c.gguf");

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = test::scratch_dir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(CliStructured, JsonSchemaReplyValidates) {
  const std::string schema = write_file(
      "schema.json", R"({"type": "object", "properties": {"n": {"type": "integer"}, "s": {"enum": ["x", "y"]}}, "required": ["n", "s"]})");
  for (const char* seed : {"1", "2", "3"}) {
    const test::CommandResult r = run_hy2bit(
        {"run", "-m", kTiny, "-p", "hi", "-t", "1", "-n", "48", "--temp", "1.5", "--seed", seed, "--json-schema", schema});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json v = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_TRUE(v.is_object()) << r.out;
    EXPECT_TRUE(v["n"].is_number_integer()) << r.out;
    EXPECT_TRUE(v["s"] == "x" || v["s"] == "y") << r.out;
    EXPECT_EQ(v.size(), 2u) << r.out;
  }
}

TEST(CliStructured, GrammarAsTextOrFile) {
  const test::CommandResult text = run_hy2bit(
      {"run", "-m", kTiny, "-p", "hi", "-t", "1", "-n", "16", "--seed", "4", "--grammar", "root ::= (\"yes\" | \"no\") \"!\""});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_TRUE(text.out == "yes!\n" || text.out == "no!\n") << text.out;  // run ends the reply with a newline
  const std::string file = write_file("digits.gbnf", "root ::= [0-9]{3}\n");
  const test::CommandResult from_file =
      run_hy2bit({"run", "-m", kTiny, "-p", "hi", "-t", "1", "-n", "16", "--seed", "5", "--grammar", file});
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  ASSERT_EQ(from_file.out.size(), 4u) << from_file.out;
  EXPECT_EQ(from_file.out.find_first_not_of("0123456789"), 3u) << from_file.out;
}

TEST(CliStructured, BadInputIsAOneLineError) {
  auto expect_error = [](const test::CommandResult& r, const std::string& needle) {
    EXPECT_NE(r.exit_code, 0);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  };
  expect_error(run_hy2bit({"run", "-m", kTiny, "-p", "hi", "--json-schema", "/no/such.json"}), "/no/such.json");
  expect_error(run_hy2bit({"run", "-m", kTiny, "-p", "hi", "--json-schema",
                           write_file("bad.json", R"({"type": "string", "format": "email"})")}),
               "'format' is not supported");
  expect_error(run_hy2bit({"run", "-m", kTiny, "-p", "hi", "--grammar", "root ::= undefined-rule"}),
               "'undefined-rule' is used but never defined");
  EXPECT_NE(run_hy2bit({"run", "-m", kTiny, "-p", "hi", "--grammar", "root ::= \"a\"", "--json-schema", "x"}).exit_code, 0);
}

}  // namespace
}  // namespace hy2bit
