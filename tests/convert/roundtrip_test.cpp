// hy2bit convert, end to end on generated HF folders: the converted GGUF
// holds hy-vocab.gguf's vocabulary (both tokenizer forms) and tokenizes the
// 74 llama.cpp reference cases exactly as it does; its tensors equal the
// source; the QDQ folder converts to hy-tiny-f16.gguf's tensors byte for
// byte, on the 2-bit grid, and gives llama.cpp's logits.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "convert/hf_fixture.h"
#include "convert/hf_vocab.h"
#include "convert/safetensors.h"
#include "formats/convert.h"
#include "gguf/gguf.h"
#include "gguf/mapped_file.h"
#include "hy2bit/convert.h"
#include "hy2bit/model.h"
#include "quantize/quantize.h"
#include "support/test_support.h"
#include "text/tokenizer.h"

namespace hy2bit::convert::test {
namespace {

namespace fs = std::filesystem;

struct Converted {
  std::string hf_dir, gguf_path;
  ConvertReport report;
  std::string error;
};

// Each fixture is generated and converted once per test process.
const Converted& converted(const std::string& which) {
  static std::map<std::string, Converted> cache;
  auto it = cache.find(which);
  if (it != cache.end()) return it->second;
  Converted c;
  const std::string root = hy2bit::test::scratch_dir() + "/" + which;
  if (which == "tokenizer_json") c.hf_dir = make_vocab_fixture(root, TokenizerForm::kTokenizerJson);
  else if (which == "tiktoken") c.hf_dir = make_vocab_fixture(root, TokenizerForm::kTiktoken);
  else c.hf_dir = make_qdq_fixture(root);
  c.gguf_path = root + ".gguf";
  remove_at_exit(c.gguf_path);
  Result<ConvertReport> r = convert_hf_checkpoint({.hf_dir = c.hf_dir, .out_path = c.gguf_path});
  if (r) c.report = *r;
  else c.error = r.error().message;
  return cache.emplace(which, std::move(c)).first->second;
}

struct OpenGguf {
  std::unique_ptr<gguf::MappedFile> mapped;
  std::optional<gguf::File> file;
};
OpenGguf open_gguf(const std::string& path) {
  OpenGguf g;
  auto m = gguf::MappedFile::open(path);
  EXPECT_TRUE(m.ok()) << path;
  if (!m) return g;
  g.mapped = std::move(*m);
  auto f = gguf::File::parse(g.mapped->bytes());
  EXPECT_TRUE(f.ok()) << f.error().message;
  if (f) g.file = std::move(*f);
  return g;
}

std::string read_text(const std::string& path) {
  const std::vector<uint8_t> bytes = hy2bit::test::read_bytes(path);
  return std::string(bytes.begin(), bytes.end());
}

// The 74 reference cases and llama.cpp's ids for them.
std::vector<std::pair<std::string, std::vector<int32_t>>> reference_cases() {
  constexpr std::string_view kSeparator = "\n__ggml_vocab_test__\n";
  const std::string all = read_text(hy2bit::test::testdata_path("tokenizer/cases.inp"));
  std::istringstream out(read_text(hy2bit::test::testdata_path("tokenizer/cases.out")));
  std::vector<std::pair<std::string, std::vector<int32_t>>> cases;
  size_t pos = 0;
  std::string line;
  for (size_t sep = all.find(kSeparator); sep != std::string::npos; sep = all.find(kSeparator, pos)) {
    std::getline(out, line);
    std::istringstream ids(line);
    std::vector<int32_t> expected;
    for (long long id = 0; ids >> id;) expected.push_back(static_cast<int32_t>(id));
    cases.emplace_back(all.substr(pos, sep - pos), expected);
    pos = sep + kSeparator.size();
  }
  return cases;
}

void expect_reference_tokenization(const std::string& gguf_path) {
  OpenGguf g = open_gguf(gguf_path);
  ASSERT_TRUE(g.file);
  Result<text::Tokenizer> tok = text::Tokenizer::from_gguf(*g.file);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  const auto cases = reference_cases();
  ASSERT_EQ(cases.size(), 74u);
  size_t passed = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    Result<std::vector<int32_t>> ids = tok->encode(cases[i].first, {.add_bos = false, .parse_special = true});
    ASSERT_TRUE(ids.ok()) << ids.error().message;
    if (*ids == cases[i].second) ++passed;
    else ADD_FAILURE() << "case " << i << " differs from llama.cpp";
  }
  EXPECT_EQ(passed, 74u);
}

uint64_t get_uint(const gguf::File& f, const char* key) {
  Result<uint64_t> v = f.get_uint(key);
  EXPECT_TRUE(v.ok()) << key;
  return v ? *v : ~uint64_t{0};
}

// Every source tensor (but the skipped ones) is in the GGUF with its values
// unchanged: decoded to f32, the bits are equal.
void expect_tensors_equal_source(const std::string& hf_dir, const std::string& gguf_path) {
  Result<StCheckpoint> ckpt = StCheckpoint::open(hf_dir);
  ASSERT_TRUE(ckpt.ok()) << ckpt.error().message;
  OpenGguf g = open_gguf(gguf_path);
  ASSERT_TRUE(g.file);
  const std::map<std::string, std::string> names = {
      {"model.embed_tokens.weight", "token_embd.weight"}, {"model.norm.weight", "output_norm.weight"},
      {"model.layers.0.mlp.down_proj.weight", "blk.0.ffn_down.weight"},
      {"model.layers.0.self_attn.q_proj.weight", "blk.0.attn_q.weight"},
      {"model.layers.0.self_attn.k_proj.weight", "blk.0.attn_k.weight"},
      {"model.layers.0.self_attn.v_proj.weight", "blk.0.attn_v.weight"},
      {"model.layers.0.self_attn.o_proj.weight", "blk.0.attn_output.weight"},
      {"model.layers.0.self_attn.query_layernorm.weight", "blk.0.attn_q_norm.weight"},
      {"model.layers.0.self_attn.key_layernorm.weight", "blk.0.attn_k_norm.weight"},
      {"model.layers.0.input_layernorm.weight", "blk.0.attn_norm.weight"},
      {"model.layers.0.post_attention_layernorm.weight", "blk.0.ffn_norm.weight"},
      {"model.layers.0.mlp.gate_proj.weight", "blk.0.ffn_gate.weight"},
      {"model.layers.0.mlp.up_proj.weight", "blk.0.ffn_up.weight"}};
  EXPECT_EQ(g.file->tensors().size(), names.size());
  for (const auto& [hf, name] : names) {
    const StCheckpoint::Entry* e = ckpt->find(hf);
    const gguf::TensorInfo* t = g.file->find_tensor(name);
    ASSERT_NE(e, nullptr) << hf;
    ASSERT_NE(t, nullptr) << name;
    const size_t n = e->tensor->n_elements;
    ASSERT_EQ(static_cast<size_t>(t->n_elems()), n) << name;
    ASSERT_EQ(t->ne[0], static_cast<int64_t>(e->tensor->shape.back())) << name << ": ne[0] is the HF row length";
    const bool norm = e->tensor->shape.size() == 1;
    EXPECT_EQ(t->type.id, norm ? formats::TypeId::kF32 : formats::TypeId::kF16) << name;
    std::vector<float> want(n), got(n);
    const std::span<const uint8_t> src = ckpt->bytes(*e);
    for (size_t i = 0; i < n; ++i) {
      uint16_t h = 0;
      switch (e->tensor->dtype) {
        case StDtype::kF32: std::memcpy(&want[i], src.data() + 4 * i, 4); break;
        case StDtype::kF16: std::memcpy(&h, src.data() + 2 * i, 2); want[i] = formats::f16_to_f32(h); break;
        case StDtype::kBF16: std::memcpy(&h, src.data() + 2 * i, 2); want[i] = formats::bf16_to_f32(h); break;
      }
    }
    formats::dequantize(t->type.id, t->data.data(), got.data(), static_cast<int64_t>(n));
    // The F32 attention output weight becomes f16: compare after that rounding.
    if (!norm && e->tensor->dtype == StDtype::kF32)
      for (float& w : want) w = formats::f16_to_f32(formats::f32_to_f16(w));
    EXPECT_EQ(std::memcmp(want.data(), got.data(), n * 4), 0) << name << " differs from " << hf;
  }
}

void ConvertTokenizerJson_VocabularyIsHyVocabs() {
  const Converted& c = converted("tokenizer_json");
  ASSERT_TRUE(c.error.empty()) << c.error;
  const GgufVocabulary want = read_gguf_vocabulary(hy2bit::test::testdata_path("tokenizer/hy-vocab.gguf"));
  const GgufVocabulary got = read_gguf_vocabulary(c.gguf_path);
  EXPECT_TRUE(got.tokens == want.tokens);
  EXPECT_TRUE(got.types == want.types);
  EXPECT_TRUE(got.merges == want.merges);
  EXPECT_EQ(c.report.n_vocab, 102408);
  EXPECT_EQ(c.report.n_merges, 99757);
  EXPECT_EQ(c.report.tokenizer_source, "tokenizer.json");
}

void ConvertTokenizerJson_TokenizesTheReferenceCasesLikeLlamaCpp() {
  const Converted& c = converted("tokenizer_json");
  ASSERT_TRUE(c.error.empty()) << c.error;
  expect_reference_tokenization(c.gguf_path);
}

void ConvertTokenizerJson_TensorsEqualTheSource() {
  const Converted& c = converted("tokenizer_json");
  ASSERT_TRUE(c.error.empty()) << c.error;
  expect_tensors_equal_source(c.hf_dir, c.gguf_path);
  EXPECT_EQ(c.report.n_tensors, 13);
  EXPECT_EQ(c.report.n_skipped, 2);  // tied lm_head, rotary_emb.inv_freq
}

void ConvertTokenizerJson_MetadataFollowsLlamaCpp() {
  const Converted& c = converted("tokenizer_json");
  ASSERT_TRUE(c.error.empty()) << c.error;
  OpenGguf g = open_gguf(c.gguf_path);
  ASSERT_TRUE(g.file);
  const gguf::File& f = *g.file;
  EXPECT_EQ(*f.get_string("general.architecture"), "hunyuan-dense");
  EXPECT_EQ(f.metadata()[0].first, "general.architecture");
  EXPECT_EQ(*f.get_string("general.type"), "model");
  EXPECT_EQ(*f.get_string("general.name"), "tokenizer_json");
  EXPECT_EQ(*f.get_string("general.size_label"), "6.6M");
  EXPECT_EQ(get_uint(f, "hunyuan-dense.block_count"), 1u);
  EXPECT_EQ(get_uint(f, "hunyuan-dense.context_length"), 262144u);
  EXPECT_EQ(get_uint(f, "hunyuan-dense.embedding_length"), 64u);
  EXPECT_EQ(get_uint(f, "hunyuan-dense.feed_forward_length"), 128u);
  EXPECT_EQ(get_uint(f, "hunyuan-dense.attention.head_count"), 2u);
  EXPECT_EQ(get_uint(f, "hunyuan-dense.attention.head_count_kv"), 1u);
  EXPECT_EQ(get_uint(f, "hunyuan-dense.attention.key_length"), 32u);
  EXPECT_EQ(get_uint(f, "hunyuan-dense.attention.value_length"), 32u);
  // 10000 * 1000^(32/30), computed in double and stored as f32, as llama.cpp does.
  EXPECT_EQ(static_cast<float>(*f.get_float("hunyuan-dense.rope.freq_base")),
            static_cast<float>(10000.0 * std::pow(1000.0, 32.0 / 30.0)));
  EXPECT_EQ(*f.get_string("hunyuan-dense.rope.scaling.type"), "none");
  EXPECT_EQ(*f.get_float("hunyuan-dense.rope.scaling.factor"), 1.0);
  EXPECT_EQ(get_uint(f, "hunyuan-dense.rope.scaling.original_context_length"), 262144u);
  EXPECT_EQ(static_cast<float>(*f.get_float("hunyuan-dense.attention.layer_norm_rms_epsilon")), 1e-5f);
  EXPECT_EQ(get_uint(f, "general.file_type"), 1u);
  EXPECT_EQ(get_uint(f, "general.quantization_version"), 2u);
  EXPECT_EQ(*f.get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(*f.get_string("tokenizer.ggml.pre"), "hunyuan-dense");
  EXPECT_EQ(get_uint(f, "tokenizer.ggml.bos_token_id"), 102400u);    // tokenizer_config bos_token
  EXPECT_EQ(get_uint(f, "tokenizer.ggml.eos_token_id"), 102405u);    // eod_token_id
  EXPECT_EQ(get_uint(f, "tokenizer.ggml.padding_token_id"), 102402u);
  EXPECT_EQ(get_uint(f, "tokenizer.ggml.eot_token_id"), 102406u);    // generation_config eos_token_id[0]
  EXPECT_EQ(*f.get_bool("tokenizer.ggml.add_bos_token"), true);
  EXPECT_EQ(*f.get_bool("tokenizer.ggml.add_eos_token"), false);
  const auto tc = Json::parse(read_text(c.hf_dir + "/tokenizer_config.json"));
  EXPECT_EQ(*f.get_string("tokenizer.chat_template"), tc["chat_template"].get<std::string>());  // verbatim
}

void ConvertTiktoken_TokenizesTheReferenceCasesLikeLlamaCpp() {
  const Converted& c = converted("tiktoken");
  ASSERT_TRUE(c.error.empty()) << c.error;
  EXPECT_EQ(c.report.tokenizer_source, "hy.tiktoken");
  expect_reference_tokenization(c.gguf_path);
}

void ConvertTiktoken_MergesRebuiltFromRanksAreHyVocabs() {
  const Converted& c = converted("tiktoken");
  ASSERT_TRUE(c.error.empty()) << c.error;
  const GgufVocabulary want = read_gguf_vocabulary(hy2bit::test::testdata_path("tokenizer/hy-vocab.gguf"));
  const GgufVocabulary got = read_gguf_vocabulary(c.gguf_path);
  EXPECT_TRUE(got.merges == want.merges) << got.merges.size() << " merges rebuilt, hy-vocab has " << want.merges.size();
  EXPECT_TRUE(got.tokens == want.tokens);
  // tiktoken has no user-defined tokens: hy-vocab's added single bytes are
  // ranks (normal), and its "[PADn]" fillers, absent from the ranks, are
  // written as unused by llama.cpp's tiktoken path; all else is equal.
  ASSERT_EQ(got.types.size(), want.types.size());
  for (size_t i = 0; i < want.types.size(); ++i) {
    const bool filler = want.tokens[i] == "[PAD" + std::to_string(i) + "]";
    const int32_t expected = want.types[i] != kTokenUserDefined ? want.types[i] : filler ? kTokenUnused : kTokenNormal;
    ASSERT_EQ(got.types[i], expected) << "token " << i;
  }
  OpenGguf g = open_gguf(c.gguf_path);
  ASSERT_TRUE(g.file);
  EXPECT_EQ(get_uint(*g.file, "tokenizer.ggml.bos_token_id"), 102400u);  // config.json bos_token_id
  EXPECT_EQ(get_uint(*g.file, "tokenizer.ggml.eos_token_id"), 102405u);  // eod_token_id over eos_token_id
}

void ConvertTiktoken_TensorsEqualTheSource() {
  const Converted& c = converted("tiktoken");
  ASSERT_TRUE(c.error.empty()) << c.error;
  expect_tensors_equal_source(c.hf_dir, c.gguf_path);
}

void ConvertQdq_TensorsAreHyTinyF16sByteForByte() {
  const Converted& c = converted("qdq");
  ASSERT_TRUE(c.error.empty()) << c.error;
  OpenGguf want = open_gguf(hy2bit::test::testdata_path("models/hy-tiny-f16.gguf"));
  OpenGguf got = open_gguf(c.gguf_path);
  ASSERT_TRUE(want.file && got.file);
  ASSERT_EQ(got.file->tensors().size(), want.file->tensors().size());
  for (const gguf::TensorInfo& w : want.file->tensors()) {
    const gguf::TensorInfo* t = got.file->find_tensor(w.name);
    ASSERT_NE(t, nullptr) << w.name;
    EXPECT_EQ(t->type.id, w.type.id) << w.name;
    EXPECT_TRUE(std::equal(t->ne, t->ne + 4, w.ne)) << w.name;
    EXPECT_TRUE(std::equal(t->data.begin(), t->data.end(), w.data.begin(), w.data.end())) << w.name;
  }
  EXPECT_TRUE(read_gguf_vocabulary(c.gguf_path).tokens ==
              read_gguf_vocabulary(hy2bit::test::testdata_path("models/hy-tiny-f16.gguf")).tokens);
}

void ConvertQdq_EveryLinearRowIsOnTheGridAndQuantizesLosslessly() {
  const Converted& c = converted("qdq");
  ASSERT_TRUE(c.error.empty()) << c.error;
  EXPECT_EQ(c.report.linear_rows, 8192);
  EXPECT_EQ(c.report.grid_rows, 8192);
  EXPECT_EQ(c.report.unchecked_rows, 0);
  const std::string q2 = hy2bit::test::scratch_dir() + "/qdq-q2_0c.gguf";
  remove_at_exit(q2);
  Result<QuantizeReport> q = quantize::quantize_model(
      c.gguf_path, q2, {.target = formats::TypeId::kQ2_0C, .n_threads = 2});
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(q->q2_0c_rows, 8192);
  EXPECT_EQ(q->q2_0c_exact_rows, 8192);
}

void ConvertQdq_LogitsMatchLlamaCppsForTheSameWeights() {
  const Converted& c = converted("qdq");
  ASSERT_TRUE(c.error.empty()) << c.error;
  const std::vector<int32_t> tokens = hy2bit::test::read_token_ids(hy2bit::test::testdata_path("logits/tiny-short.tokens"));
  const std::vector<float> expected =
      hy2bit::test::read_f32(hy2bit::test::testdata_path("logits/hy-tiny-f16.short.logits.f32"));
  Result<std::shared_ptr<Model>> model = Model::load({.model_path = c.gguf_path, .n_threads = 2});
  ASSERT_TRUE(model.ok()) << model.error().message;
  Result<std::unique_ptr<Session>> session = Session::create(*model, {.n_ctx = static_cast<int64_t>(tokens.size())});
  ASSERT_TRUE(session.ok()) << session.error().message;
  Result<std::span<const float>> logits = (*session)->eval(tokens, /*all_logits=*/true);
  ASSERT_TRUE(logits.ok()) << logits.error().message;
  ASSERT_EQ(logits->size(), expected.size());
  double max_abs = 0;
  for (size_t i = 0; i < expected.size(); ++i) max_abs = std::max(max_abs, std::fabs(double((*logits)[i]) - expected[i]));
  EXPECT_LE(max_abs, 0.02);  // the f16 tolerance of testdata/README.md
}

TEST(Convert, OutTypesAndVocabOnly) {
  const Converted& c = converted("qdq");
  ASSERT_TRUE(c.error.empty()) << c.error;
  const std::string dir = hy2bit::test::scratch_dir();
  for (const auto& [type, id, ft] : {std::tuple{ConvertOutType::kBF16, formats::TypeId::kBF16, 32u},
                                     std::tuple{ConvertOutType::kF32, formats::TypeId::kF32, 0u}}) {
    const std::string out = dir + "/qdq-" + std::to_string(static_cast<int>(id)) + ".gguf";
    remove_at_exit(out);
    Result<ConvertReport> r = convert_hf_checkpoint({.hf_dir = c.hf_dir, .out_path = out, .outtype = type});
    ASSERT_TRUE(r.ok()) << r.error().message;
    OpenGguf g = open_gguf(out);
    ASSERT_TRUE(g.file);
    EXPECT_EQ(g.file->find_tensor("blk.1.ffn_down.weight")->type.id, id);
    EXPECT_EQ(g.file->find_tensor("token_embd.weight")->type.id, id);
    EXPECT_EQ(g.file->find_tensor("blk.1.ffn_norm.weight")->type.id, formats::TypeId::kF32);
    EXPECT_EQ(get_uint(*g.file, "general.file_type"), ft);
  }
  const std::string vocab_out = dir + "/qdq-vocab.gguf";
  remove_at_exit(vocab_out);
  Result<ConvertReport> r = convert_hf_checkpoint({.hf_dir = c.hf_dir, .out_path = vocab_out, .vocab_only = true});
  ASSERT_TRUE(r.ok()) << r.error().message;
  OpenGguf g = open_gguf(vocab_out);
  ASSERT_TRUE(g.file);
  EXPECT_TRUE(g.file->tensors().empty());
  EXPECT_EQ(g.file->find("general.size_label"), nullptr);
  EXPECT_EQ(get_uint(*g.file, "tokenizer.ggml.bos_token_id"), 984u);
}


// One test per fixture: each test process generates and converts its fixture
// once (the slow part), then checks every aspect of it.
TEST(ConvertTokenizerJson, MatchesHyVocabAndTheSource) {
  {
    SCOPED_TRACE("VocabularyIsHyVocabs");
    ConvertTokenizerJson_VocabularyIsHyVocabs();
  }
  {
    SCOPED_TRACE("TokenizesTheReferenceCasesLikeLlamaCpp");
    ConvertTokenizerJson_TokenizesTheReferenceCasesLikeLlamaCpp();
  }
  {
    SCOPED_TRACE("TensorsEqualTheSource");
    ConvertTokenizerJson_TensorsEqualTheSource();
  }
  {
    SCOPED_TRACE("MetadataFollowsLlamaCpp");
    ConvertTokenizerJson_MetadataFollowsLlamaCpp();
  }
}

TEST(ConvertTiktoken, MatchesHyVocabAndTheSource) {
  {
    SCOPED_TRACE("TokenizesTheReferenceCasesLikeLlamaCpp");
    ConvertTiktoken_TokenizesTheReferenceCasesLikeLlamaCpp();
  }
  {
    SCOPED_TRACE("MergesRebuiltFromRanksAreHyVocabs");
    ConvertTiktoken_MergesRebuiltFromRanksAreHyVocabs();
  }
  {
    SCOPED_TRACE("TensorsEqualTheSource");
    ConvertTiktoken_TensorsEqualTheSource();
  }
}

TEST(ConvertQdq, IsHyTinyOnTheGridWithLlamaCppsLogits) {
  {
    SCOPED_TRACE("TensorsAreHyTinyF16sByteForByte");
    ConvertQdq_TensorsAreHyTinyF16sByteForByte();
  }
  {
    SCOPED_TRACE("EveryLinearRowIsOnTheGridAndQuantizesLosslessly");
    ConvertQdq_EveryLinearRowIsOnTheGridAndQuantizesLosslessly();
  }
  {
    SCOPED_TRACE("LogitsMatchLlamaCppsForTheSameWeights");
    ConvertQdq_LogitsMatchLlamaCppsForTheSameWeights();
  }
}

}  // namespace
}  // namespace hy2bit::convert::test
