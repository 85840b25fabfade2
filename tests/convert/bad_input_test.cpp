// Bad HF folders: each is a small valid folder with one thing broken, and
// convert must fail with a one-line error naming it, leaving any existing
// output untouched. Also the command line: --help, the QDQ path
// convert -> quantize q2_0c reporting every row lossless.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "convert/hf_fixture.h"
#include "hy2bit/convert.h"
#include "support/test_support.h"

namespace hy2bit::convert::test {
namespace {

namespace fs = std::filesystem;

struct SmallFolder {
  Json config = vocab_fixture_config();
  std::vector<FixtureTensor> tensors;
};

std::vector<uint8_t> zeros_f16(uint64_t n) { return std::vector<uint8_t>(n * 2, 0); }

// hy-tiny's 1000-token vocabulary and a 1-layer model of hidden 64.
SmallFolder small_folder() {
  SmallFolder f;
  f.config.update({{"vocab_size", 1000}, {"bos_token_id", 984}, {"eos_token_id", 989}, {"pad_token_id", 986},
                   {"eod_token_id", 989}});
  const uint64_t v = 1000, h = 64, q = 64, kv = 32, hd = 32, ff = 128;
  const std::string l = "model.layers.0.";
  f.tensors = {{"model.embed_tokens.weight", "F16", {v, h}, zeros_f16(v * h)},
               {"model.norm.weight", "F16", {h}, zeros_f16(h)},
               {l + "input_layernorm.weight", "F16", {h}, zeros_f16(h)},
               {l + "self_attn.q_proj.weight", "F16", {q, h}, zeros_f16(q * h)},
               {l + "self_attn.k_proj.weight", "F16", {kv, h}, zeros_f16(kv * h)},
               {l + "self_attn.v_proj.weight", "F16", {kv, h}, zeros_f16(kv * h)},
               {l + "self_attn.o_proj.weight", "F16", {h, q}, zeros_f16(h * q)},
               {l + "self_attn.query_layernorm.weight", "F16", {hd}, zeros_f16(hd)},
               {l + "self_attn.key_layernorm.weight", "F16", {hd}, zeros_f16(hd)},
               {l + "post_attention_layernorm.weight", "F16", {h}, zeros_f16(h)},
               {l + "mlp.gate_proj.weight", "F16", {ff, h}, zeros_f16(ff * h)},
               {l + "mlp.up_proj.weight", "F16", {ff, h}, zeros_f16(ff * h)},
               {l + "mlp.down_proj.weight", "F16", {h, ff}, zeros_f16(h * ff)}};
  return f;
}

const GgufVocabulary& tiny_vocab() {
  static const GgufVocabulary v = read_gguf_vocabulary(hy2bit::test::testdata_path("models/hy-tiny-f16.gguf"));
  return v;
}

std::string write_folder(const std::string& name, const SmallFolder& f, TokenizerForm form = TokenizerForm::kTokenizerJson) {
  const std::string dir = hy2bit::test::scratch_dir() + "/bad-" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  remove_at_exit(dir);
  remove_at_exit(dir + ".gguf");
  write_text(dir + "/config.json", f.config.dump());
  write_tokenizer(dir, tiny_vocab(), form, Json::object());
  write_safetensors(dir + "/model.safetensors", f.tensors);
  return dir;
}

// Converts dir over an existing output and checks the error and that the
// output kept its old contents.
void expect_error(const std::string& dir, const std::string& error) {
  const std::string out = dir + ".gguf";
  write_text(out, "old contents");
  Result<ConvertReport> r = convert_hf_checkpoint({.hf_dir = dir, .out_path = out});
  ASSERT_FALSE(r.ok()) << dir << " converted";
  EXPECT_NE(r.error().message.find(error), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  const std::vector<uint8_t> kept = hy2bit::test::read_bytes(out);
  EXPECT_EQ(std::string(kept.begin(), kept.end()), "old contents");
  EXPECT_FALSE(fs::exists(out + ".tmp"));
}

TEST(ConvertBadInput, TheSmallFolderIsGood) {
  const std::string dir = write_folder("good", small_folder());
  Result<ConvertReport> r = convert_hf_checkpoint({.hf_dir = dir, .out_path = dir + ".gguf"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->n_tensors, 13);
  EXPECT_EQ(r->unchecked_rows, 64 + 32 + 32 + 64 + 128 + 128 + 64);  // hidden 64: no row can be q2_0c
}

TEST(ConvertBadInput, NotAFolderOrNoConfig) {
  expect_error(hy2bit::test::scratch_dir() + "/no-such-folder", "is not a folder");
  const std::string dir = write_folder("no-config", small_folder());
  fs::remove(dir + "/config.json");
  expect_error(dir, "config.json' is missing");
}

TEST(ConvertBadInput, AnotherArchitectureIsNamed) {
  SmallFolder f = small_folder();
  f.config["architectures"] = {"LlamaForCausalLM"};
  expect_error(write_folder("arch", f), "architecture LlamaForCausalLM is not supported");
}

TEST(ConvertBadInput, ConfigValues) {
  SmallFolder f = small_folder();
  f.config["hidden_size"] = -64;
  expect_error(write_folder("neg-hidden", f), "\"hidden_size\" is -64, expected a positive size");
  f = small_folder();
  f.config.erase("num_hidden_layers");
  expect_error(write_folder("no-layers", f), "missing \"num_hidden_layers\"");
  f = small_folder();
  f.config["rope_scaling"] = {{"type", "yarn"}, {"factor", 4.0}};
  expect_error(write_folder("yarn", f), "rope type \"yarn\" is not supported");
  f = small_folder();
  f.config["rope_theta"] = 500000.0;
  expect_error(write_folder("theta", f), "breaks llama.cpp's HunYuan assumptions");
  f = small_folder();
  f.config["bos_token_id"] = 5000;
  expect_error(write_folder("bos-range", f), "bos token id 5000 is outside the vocabulary");
  f = small_folder();
  f.config["vocab_size"] = 2000000000;
  expect_error(write_folder("vocab-huge", f), "\"vocab_size\" is 2000000000, more than 16777216");
  f = small_folder();
  f.config["rms_norm_eps"] = "small";
  expect_error(write_folder("eps-type", f), "\"rms_norm_eps\" must be a number");
}

TEST(ConvertBadInput, TensorProblems) {
  SmallFolder f = small_folder();
  f.tensors.pop_back();
  expect_error(write_folder("missing", f), "no tensor for blk.0.ffn_down.weight");
  f = small_folder();
  f.tensors[3].shape = {32, 128};
  expect_error(write_folder("shape", f),
               "\"model.layers.0.self_attn.q_proj.weight\" has shape [32, 128] but config.json implies [64, 64]");
  f = small_folder();
  f.tensors.push_back({"model.layers.0.mlp.extra.weight", "F16", {2}, zeros_f16(2)});
  expect_error(write_folder("unknown", f), "\"model.layers.0.mlp.extra.weight\" has no place");
  f = small_folder();
  f.tensors.push_back({"model.layers.1.mlp.up_proj.weight", "F16", {2}, zeros_f16(2)});
  expect_error(write_folder("layer", f), "has no place in a hunyuan-dense model of 1 layers");
  f = small_folder();
  f.config["tie_word_embeddings"] = false;
  expect_error(write_folder("untied", f), "no tensor for output.weight (lm_head.weight; tie_word_embeddings is false)");
  f = small_folder();
  f.tensors[1].dtype = "I16";
  expect_error(write_folder("dtype", f), "model.safetensors: tensor \"model.norm.weight\": dtype I16 is not supported");
}

TEST(ConvertBadInput, Shards) {
  const std::string dir = write_folder("dup-shards", small_folder());
  write_safetensors(dir + "/model-extra.safetensors", {{"model.norm.weight", "F16", {64}, zeros_f16(64)}});
  expect_error(dir, "tensor \"model.norm.weight\" is in both 'model-extra.safetensors' and 'model.safetensors'");
  fs::remove(dir + "/model-extra.safetensors");
  write_text(dir + "/model.safetensors.index.json", R"({"weight_map":{"model.norm.weight":"model-00001.safetensors"}})");
  expect_error(dir, "model-00001.safetensors': No such file");
  write_text(dir + "/model.safetensors.index.json", R"({"weight_map":{"model.norm.weight":"model.safetensors"}})");
  expect_error(dir, "the shards hold 13 tensors but model.safetensors.index.json lists 1");
  write_text(dir + "/model.safetensors.index.json", R"({"weight_map":{"model.nope":"model.safetensors"}})");
  expect_error(dir, "lists tensor \"model.nope\" in 'model.safetensors', which does not hold it");
}

TEST(ConvertBadInput, TokenizerProblems) {
  std::string dir = write_folder("no-tokenizer", small_folder());
  fs::remove(dir + "/tokenizer.json");
  expect_error(dir, "has neither tokenizer.json nor a *.tiktoken ranks file");

  dir = write_folder("tok-range", small_folder());
  {
    Json tok = Json::parse(hy2bit::test::read_bytes(dir + "/tokenizer.json"));
    tok["model"]["vocab"]["zzzz"] = 1000;
    write_text(dir + "/tokenizer.json", tok.dump());
  }
  expect_error(dir, "tokenizer.json: token \"zzzz\" has id 1000 but config.json's vocab_size is 1000");
  {
    Json tok = Json::parse(hy2bit::test::read_bytes(dir + "/tokenizer.json"));
    tok["model"]["vocab"]["zzzz"] = 5;
    write_text(dir + "/tokenizer.json", tok.dump());
  }
  expect_error(dir, "share id 5");
  write_text(dir + "/tokenizer.json", "{\"model\":{\"type\":\"Unigram\"}}");
  expect_error(dir, "model type \"Unigram\" is not supported (expected BPE)");
  write_text(dir + "/tokenizer.json", "{\"model\":");
  expect_error(dir, "tokenizer.json: not valid JSON");

  dir = write_folder("tiktoken", small_folder(), TokenizerForm::kTiktoken);
  remove_at_exit(dir + "-ok.gguf");
  ASSERT_TRUE(convert_hf_checkpoint({.hf_dir = dir, .out_path = dir + "-ok.gguf"}).ok());
  fs::copy_file(dir + "/hy.tiktoken", dir + "/other.tiktoken");
  ASSERT_TRUE(convert_hf_checkpoint({.hf_dir = dir, .out_path = dir + "-ok.gguf"}).ok()) << "hy.tiktoken is preferred";
  fs::rename(dir + "/hy.tiktoken", dir + "/third.tiktoken");
  expect_error(dir, "has several tiktoken files");
  fs::remove(dir + "/third.tiktoken");
  fs::remove(dir + "/tokenizer_config.json");
  expect_error(dir, "tokenizer_config.json' is missing (it lists the special tokens of other.tiktoken)");
  write_text(dir + "/tokenizer_config.json", "{}");
  write_text(dir + "/other.tiktoken", "IQ== 0\nnot*base64 1\n");
  expect_error(dir, "other.tiktoken: tiktoken ranks line 2: the token is not valid base64");
  write_text(dir + "/other.tiktoken", "IQ== 0\nIg== 0\n");
  expect_error(dir, "rank 0 is given to two tokens");
  write_text(dir + "/other.tiktoken", "IQ== 0\nIg== 1000\n");
  expect_error(dir, "rank 1000 is past config.json's vocab_size 1000");
}

TEST(ConvertBadInput, ASymlinkAtTheTemporaryNameIsNotFollowed) {
  const std::string dir = write_folder("symlink", small_folder());
  const std::string victim = dir + "-victim.txt";
  remove_at_exit(victim);
  write_text(victim, "keep me");
  fs::remove(dir + ".gguf.tmp");
  fs::create_symlink(victim, dir + ".gguf.tmp");
  Result<ConvertReport> r = convert_hf_checkpoint({.hf_dir = dir, .out_path = dir + ".gguf"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const std::vector<uint8_t> kept = hy2bit::test::read_bytes(victim);
  EXPECT_EQ(std::string(kept.begin(), kept.end()), "keep me");
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(dir + ".gguf")));  // written beside it, not through it
}

TEST(ConvertCli, HelpAndBadFlags) {
  hy2bit::test::CommandResult help = hy2bit::test::run_hy2bit({"convert", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--outtype"), std::string::npos);
  EXPECT_NE(help.out.find("--vocab-only"), std::string::npos);
  const std::string dir = write_folder("cli", small_folder());
  hy2bit::test::CommandResult bad = hy2bit::test::run_hy2bit({"convert", dir, dir + ".gguf", "--outtype", "q4_0"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err, "hy2bit convert: unknown --outtype 'q4_0' (expected f16, bf16 or f32)\n");
  hy2bit::test::CommandResult missing = hy2bit::test::run_hy2bit({"convert", dir + "-nope", dir + ".gguf"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("is not a folder"), std::string::npos);
}

// The README's path: convert the QDQ folder, quantize to q2_0c, all rows lossless.
TEST(ConvertCli, ConvertThenQuantizeIsLossless) {
  const std::string dir = make_qdq_fixture(hy2bit::test::scratch_dir() + "/cli-qdq");
  const std::string f16 = dir + ".gguf", q2 = dir + "-q2_0c.gguf";
  remove_at_exit(f16);
  remove_at_exit(q2);
  hy2bit::test::CommandResult c = hy2bit::test::run_hy2bit({"convert", dir, f16});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("2-bit grid: 8192 of 8192 linear rows on the grid (quantize ... q2_0c will be lossless)"),
            std::string::npos) << c.out;
  hy2bit::test::CommandResult q = hy2bit::test::run_hy2bit({"quantize", f16, q2, "q2_0c"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_NE(q.out.find("q2_0c: 8192 of 8192 rows on the 2-bit grid (lossless)"), std::string::npos) << q.out;
  hy2bit::test::CommandResult run = hy2bit::test::run_hy2bit({"run", "-m", q2, "-p", "hi", "-n", "4", "--seed", "1"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
}

}  // namespace
}  // namespace hy2bit::convert::test
