// Tests for make-test-model (src/model/test_model.cpp) and its synthetic
// vocab: the tiny preset parses back with testdata's hy-tiny layout, every
// linear row is on the 2-bit grid, output is deterministic, bad specs are
// refused, and the vocab is a valid byte-level BPE vocab (checked with an
// independent BPE written here). The 3.6 GB hy-1.8b preset is not written.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "formats/convert.h"
#include "gguf/gguf.h"
#include "gguf/mapped_file.h"
#include "model/config.h"
#include "model/synthetic_vocab.h"
#include "model/test_model.h"
#include "support/test_support.h"
#include "text/tokenizer.h"

namespace hy2bit::model {
namespace {

using formats::TypeId;

// A written model, mapped and parsed.
struct Opened {
  std::unique_ptr<gguf::MappedFile> mapped;
  gguf::File file;
};

// Maps and parses a file; a failure throws, which GoogleTest reports as a
// failed test with the message.
Opened open_model(const std::string& path) {
  Result<std::unique_ptr<gguf::MappedFile>> mapped = gguf::MappedFile::open(path);
  if (!mapped.ok()) throw std::runtime_error(mapped.error().message);
  Result<gguf::File> file = gguf::File::parse((*mapped)->bytes());
  if (!file.ok()) throw std::runtime_error(path + ": " + file.error().message);
  return {std::move(*mapped), std::move(*file)};
}

// A file in the scratch folder, removed when the test ends (declare it
// before anything that maps it).
struct ScratchFile {
  std::string path;
  explicit ScratchFile(const std::string& name) : path(test::scratch_dir() + "/" + name) {}
  ~ScratchFile() { std::filesystem::remove(path); }
};

const std::string& write_or_fail(const TestModelSpec& spec, const ScratchFile& file) {
  const Status st = write_test_model(spec, file.path);
  EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message);
  return file.path;
}

bool is_linear(std::string_view name) {
  for (std::string_view part : {"attn_q.", "attn_k.", "attn_v.", "attn_output.", "ffn_gate.", "ffn_up.", "ffn_down."})
    if (name.find(part) != std::string_view::npos) return true;
  return false;
}

// Empty if row x[0..n) is {-3d, -d, d, 3d} for one d > 0 with both extremes
// present and q2_0c converts it losslessly; otherwise what is wrong.
std::string check_grid_row(const float* x, int64_t n) {
  const float hi = *std::max_element(x, x + n);
  const float lo = *std::min_element(x, x + n);
  if (!(hi > 0.0f) || lo != -hi) return "max " + std::to_string(hi) + " and min " + std::to_string(lo) + " differ";
  const float d = hi / 3.0f;
  if (3.0f * d != hi) return "max " + std::to_string(hi) + " is not 3 * d exactly";
  for (int64_t i = 0; i < n; ++i) {
    if (x[i] != -hi && x[i] != -d && x[i] != d && x[i] != hi)
      return "value " + std::to_string(x[i]) + " at " + std::to_string(i) + " is off the grid of d = " + std::to_string(d);
  }
  std::vector<uint8_t> q2(static_cast<size_t>(n / 512 * 130));
  formats::quantize_row(TypeId::kQ2_0C, x, q2.data(), n);
  const formats::RowFit fit = formats::q2_0c_row_fit(x, q2.data(), n);
  if (!fit.exact) return "q2_0c is not lossless, max error " + std::to_string(fit.max_abs_error);
  return {};
}

// Checks every linear row of a parsed model; returns the number of rows checked.
int64_t check_all_linear_rows(const gguf::File& file, TypeId expected_type) {
  int64_t rows = 0;
  for (const gguf::TensorInfo& t : file.tensors()) {
    if (!is_linear(t.name)) continue;
    EXPECT_EQ(t.type.id, expected_type) << t.name;
    const int64_t n_in = t.ne[0];
    std::vector<float> row(static_cast<size_t>(n_in));
    const auto row_bytes = static_cast<size_t>(n_in * t.type.block_bytes);
    for (int64_t r = 0; r < t.n_rows(); ++r) {
      formats::dequantize(t.type.id, t.data.data() + r * row_bytes, row.data(), n_in);
      const std::string problem = check_grid_row(row.data(), n_in);
      if (!problem.empty()) {
        ADD_FAILURE() << t.name << " row " << r << ": " << problem;
        return rows;
      }
      // s = 2d is drawn from [0.5, 1.5] / sqrt(n_in); d keeps 6 bits (relative error <= 1/64).
      const float d_scaled = *std::max_element(row.begin(), row.end()) / 3.0f * std::sqrt(static_cast<float>(n_in));
      EXPECT_GE(d_scaled, 0.25f * (1.0f - 1.0f / 64)) << t.name << " row " << r;
      EXPECT_LE(d_scaled, 0.75f * (1.0f + 1.0f / 64)) << t.name << " row " << r;
      ++rows;
    }
  }
  return rows;
}

// ---- presets and validation ------------------------------------------------------

TEST(TestModelSpec, PresetsHaveTheDocumentedShapes) {
  const TestModelSpec tiny = test_model_preset_tiny();
  EXPECT_EQ(tiny.n_layer, 2);
  EXPECT_EQ(tiny.n_embd, 512);
  EXPECT_EQ(tiny.n_ff, 1024);
  EXPECT_EQ(tiny.n_head, 4);
  EXPECT_EQ(tiny.n_head_kv, 2);
  EXPECT_EQ(tiny.head_dim, 128);
  EXPECT_EQ(tiny.n_vocab, 1000);
  const TestModelSpec big = test_model_preset_hy_1_8b();
  EXPECT_EQ(big.n_layer, 32);
  EXPECT_EQ(big.n_embd, 2048);
  EXPECT_EQ(big.n_ff, 6144);
  EXPECT_EQ(big.n_head, 16);
  EXPECT_EQ(big.n_head_kv, 4);
  EXPECT_EQ(big.head_dim, 128);
  EXPECT_EQ(big.n_vocab, 120818);
  EXPECT_EQ(big.n_ctx_train, 262144);
  EXPECT_TRUE(validate(tiny).ok());
  EXPECT_TRUE(validate(big).ok());
  ASSERT_TRUE(test_model_preset("tiny").has_value());
  EXPECT_EQ(test_model_preset("tiny")->n_embd, 512);
  ASSERT_TRUE(test_model_preset("hy-1.8b").has_value());
  EXPECT_EQ(test_model_preset("hy-1.8b")->n_vocab, 120818);
  EXPECT_FALSE(test_model_preset("huge").has_value());
  EXPECT_EQ(test_model_preset_names().size(), 2u);
}

TEST(TestModelSpec, ValidateRejectsBadSpecsWithClearMessages) {
  struct Case {
    const char* what;
    void (*mutate)(TestModelSpec&);
    const char* expected;  // substring of the message
  };
  const Case cases[] = {
      {"no layers", [](TestModelSpec& s) { s.n_layer = 0; }, "n_layer is 0, expected 1.."},
      {"negative hidden", [](TestModelSpec& s) { s.n_embd = -512; }, "n_embd is -512"},
      {"hidden off blocks", [](TestModelSpec& s) { s.n_embd = 640; }, "n_embd is 640, expected a multiple of 512"},
      {"ffn off blocks", [](TestModelSpec& s) { s.n_ff = 1000; }, "n_ff is 1000, expected a multiple of 512"},
      {"q width off blocks", [](TestModelSpec& s) { s.head_dim = 96; }, "n_head * head_dim is 384"},
      {"gqa", [](TestModelSpec& s) { s.n_head_kv = 3; }, "expected a multiple of n_head_kv (3)"},
      {"odd head dim", [](TestModelSpec& s) { s.head_dim = 127; }, "head_dim is 127, expected an even number"},
      {"no kv heads", [](TestModelSpec& s) { s.n_head_kv = 0; }, "n_head_kv is 0"},
      {"vocab too small", [](TestModelSpec& s) { s.n_vocab = 272; }, "n_vocab is 272, expected 273.."},
      {"vocab too big", [](TestModelSpec& s) { s.n_vocab = int64_t{1} << 30; }, "n_vocab is 1073741824"},
      {"quantized type", [](TestModelSpec& s) { s.type = TypeId::kQ8_0; }, "type is q8_0, expected f16, bf16 or f32"},
      {"rope base", [](TestModelSpec& s) { s.rope_freq_base = -1.0f; }, "rope_freq_base is"},
      {"eps", [](TestModelSpec& s) { s.rms_norm_eps = NAN; }, "rms_norm_eps is"},
      {"embd std", [](TestModelSpec& s) { s.embd_std = -1.0f; }, "embd_std is"},
      {"context", [](TestModelSpec& s) { s.n_ctx_train = 0; }, "n_ctx_train is 0"},
  };
  for (const Case& c : cases) {
    TestModelSpec spec = test_model_preset_tiny();
    c.mutate(spec);
    const Status st = validate(spec);
    ASSERT_FALSE(st.ok()) << c.what;
    EXPECT_NE(st.error().message.find(c.expected), std::string::npos)
        << c.what << ": message was: " << st.error().message;
  }
  // The multiple-of-512 message says why.
  TestModelSpec spec = test_model_preset_tiny();
  spec.n_embd = 640;
  EXPECT_NE(validate(spec).error().message.find("q2_0c"), std::string::npos);
}

TEST(TestModelWriter, RefusesBadSpecAndBadPathWithoutLeavingFiles) {
  TestModelSpec spec = test_model_preset_tiny();
  spec.n_ff = 1000;
  const std::string path = test::scratch_dir() + "/bad.gguf";
  const Status st = write_test_model(spec, path);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("n_ff"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path));

  const Status st2 = write_test_model(test_model_preset_tiny(), "/nonexistent-dir/x/tiny.gguf");
  ASSERT_FALSE(st2.ok());
  EXPECT_NE(st2.error().message.find("/nonexistent-dir/x/tiny.gguf"), std::string::npos) << st2.error().message;
}

// ---- the written file ---------------------------------------------------------------

// The tiny preset has testdata's hy-tiny-f16.gguf layout: the same metadata
// keys in the same order with the same value types (and the same values except
// the vocab's strings), and the same tensor table.
TEST(TestModelWriter, TinyPresetMatchesTestdataLayout) {
  std::vector<std::pair<size_t, size_t>> progress;
  const ScratchFile scratch("tiny-layout.gguf");
  const std::string& path = scratch.path;
  const Status st = write_test_model(test_model_preset_tiny(), path,
                                     [&](size_t done, size_t total) { progress.emplace_back(done, total); });
  ASSERT_TRUE(st.ok()) << st.error().message;
  const Opened ours = open_model(path);
  const Opened ref = open_model(test::testdata_path("models/hy-tiny-f16.gguf"));

  ASSERT_EQ(progress.size(), 24u);
  for (size_t i = 0; i < progress.size(); ++i) EXPECT_EQ(progress[i], std::make_pair(i + 1, size_t{24}));

  const auto& om = ours.file.metadata();
  const auto& rm = ref.file.metadata();
  ASSERT_EQ(om.size(), rm.size());
  const std::set<std::string_view> vocab_strings = {"tokenizer.ggml.tokens", "tokenizer.ggml.merges"};
  for (size_t i = 0; i < om.size(); ++i) {
    EXPECT_EQ(om[i].first, rm[i].first) << "key " << i;
    EXPECT_EQ(om[i].second.type, rm[i].second.type) << om[i].first;
    if (vocab_strings.contains(om[i].first)) {
      ASSERT_NE(om[i].second.as_array(), nullptr);
      EXPECT_EQ(om[i].second.as_array()->elem_type, rm[i].second.as_array()->elem_type);
      EXPECT_EQ(om[i].second.as_array()->elems.size(), rm[i].second.as_array()->elems.size()) << om[i].first;
      continue;
    }
    if (const gguf::Array* oa = om[i].second.as_array()) {  // token_type
      const gguf::Array* ra = rm[i].second.as_array();
      ASSERT_EQ(oa->elems.size(), ra->elems.size());
      for (size_t j = 0; j < oa->elems.size(); ++j)
        EXPECT_EQ(oa->elems[j].as_int(), ra->elems[j].as_int()) << om[i].first << "[" << j << "]";
      continue;
    }
    if (om[i].second.type == gguf::ValueType::kString) {
      EXPECT_EQ(om[i].second.as_string(), rm[i].second.as_string()) << om[i].first;
    } else {
      EXPECT_EQ(om[i].second.as_float(), rm[i].second.as_float()) << om[i].first;
    }
  }
  // Control tokens: the same strings at the same ids.
  const gguf::Array* ot = ours.file.find("tokenizer.ggml.tokens")->as_array();
  const gguf::Array* rt = ref.file.find("tokenizer.ggml.tokens")->as_array();
  for (size_t j = 984; j < 1000; ++j) EXPECT_EQ(ot->elems[j].as_string(), rt->elems[j].as_string()) << j;
  for (size_t j = 0; j < 256; ++j) EXPECT_EQ(ot->elems[j].as_string(), rt->elems[j].as_string()) << j;

  ASSERT_EQ(ours.file.tensors().size(), ref.file.tensors().size());
  for (size_t i = 0; i < ours.file.tensors().size(); ++i) {
    const gguf::TensorInfo& a = ours.file.tensors()[i];
    const gguf::TensorInfo& b = ref.file.tensors()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.type.id, b.type.id) << a.name;
    EXPECT_EQ(a.n_dims, b.n_dims) << a.name;
    for (int d = 0; d < gguf::kMaxDims; ++d) EXPECT_EQ(a.ne[d], b.ne[d]) << a.name << " dim " << d;
    EXPECT_EQ(a.offset, b.offset) << a.name;
  }
  EXPECT_EQ(ours.file.find_tensor("output.weight"), nullptr);

  // hy2bit's own config reader accepts it.
  Result<ModelConfig> config = read_config(ours.file);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->n_layer, 2);
  EXPECT_EQ(config->n_embd, 512);
  EXPECT_EQ(config->n_head_kv, 2);
  EXPECT_EQ(config->n_vocab, 1000);
}

TEST(TestModelWriter, F16LinearRowsAreOnTheGridAndOtherTensorsAreSane) {
  const ScratchFile scratch("tiny-grid.gguf");
  const std::string& path = write_or_fail(test_model_preset_tiny(), scratch);
  const Opened m = open_model(path);
  EXPECT_EQ(check_all_linear_rows(m.file, TypeId::kF16), 2 * (512 + 256 + 256 + 512 + 1024 + 1024 + 512));

  // Norms: f32 around 1.
  for (const gguf::TensorInfo& t : m.file.tensors()) {
    if (t.name.find("norm") == std::string_view::npos) continue;
    ASSERT_EQ(t.type.id, TypeId::kF32) << t.name;
    std::vector<float> w(static_cast<size_t>(t.n_elems()));
    formats::dequantize(TypeId::kF32, t.data.data(), w.data(), t.n_elems());
    for (float x : w) ASSERT_TRUE(x >= 0.8f && x < 1.2f) << t.name << " holds " << x;
    EXPECT_NE(w.front(), w.back()) << t.name << " is not random";
  }
  // Embedding: f16, mean ~0, standard deviation ~1/sqrt(n_embd), not all rows alike.
  const gguf::TensorInfo* e = m.file.find_tensor("token_embd.weight");
  ASSERT_NE(e, nullptr);
  ASSERT_EQ(e->type.id, TypeId::kF16);
  std::vector<float> v(static_cast<size_t>(e->n_elems()));
  formats::dequantize(TypeId::kF16, e->data.data(), v.data(), e->n_elems());
  double sum = 0, sum2 = 0;
  for (float x : v) {
    sum += x;
    sum2 += double(x) * x;
  }
  const double mean = sum / double(v.size());
  const double std_dev = std::sqrt(sum2 / double(v.size()) - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.001);
  EXPECT_NEAR(std_dev, 1.0 / std::sqrt(512.0), 0.002);
  EXPECT_NE(v[0], v[512]);
}

TEST(TestModelWriter, Bf16AndF32ModelsAreOnTheGridToo) {
  for (TypeId type : {TypeId::kBF16, TypeId::kF32}) {
    TestModelSpec spec = test_model_preset_tiny();
    spec.type = type;
    spec.n_layer = 1;
    spec.seed = 3;
    const ScratchFile scratch("tiny-" + std::to_string(static_cast<int>(type)) + ".gguf");
    const std::string& path = write_or_fail(spec, scratch);
    const Opened m = open_model(path);
    EXPECT_EQ(m.file.get_uint("general.file_type").value(), test_model_file_type(type));
    EXPECT_EQ(m.file.find_tensor("token_embd.weight")->type.id, type);
    EXPECT_EQ(check_all_linear_rows(m.file, type), 512 + 256 + 256 + 512 + 1024 + 1024 + 512);
  }
  EXPECT_EQ(test_model_file_type(TypeId::kF32), 0u);
  EXPECT_EQ(test_model_file_type(TypeId::kF16), 1u);
  EXPECT_EQ(test_model_file_type(TypeId::kBF16), 32u);
}

// FNV-1a of a tensor's bytes.
uint64_t fnv1a(std::span<const uint8_t> bytes) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (uint8_t b : bytes) h = (h ^ b) * 0x100000001B3ull;
  return h;
}

TEST(TestModelWriter, SameSeedSameBytesOtherSeedOtherWeights) {
  TestModelSpec spec = test_model_preset_tiny();
  spec.seed = 7;
  const ScratchFile file7a("seed7a.gguf"), file7b("seed7b.gguf"), file8("seed8.gguf");
  write_or_fail(spec, file7a);
  write_or_fail(spec, file7b);
  spec.seed = 8;
  write_or_fail(spec, file8);
  const Opened m7 = open_model(file7a.path);
  const Opened m7b = open_model(file7b.path);
  const Opened m8 = open_model(file8.path);
  const std::span<const uint8_t> a = m7.mapped->bytes(), b = m7b.mapped->bytes(), c = m8.mapped->bytes();
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size()), 0) << "two writes with seed 7 differ";
  ASSERT_EQ(a.size(), c.size());
  EXPECT_NE(std::memcmp(a.data(), c.data(), a.size()), 0) << "seeds 7 and 8 give the same file";

  // Every weight tensor changes with the seed.
  for (size_t i = 0; i < m7.file.tensors().size(); ++i) {
    const auto& t7 = m7.file.tensors()[i];
    const auto& t8 = m8.file.tensors()[i];
    ASSERT_EQ(t7.n_bytes, t8.n_bytes) << t7.name;
    EXPECT_NE(std::memcmp(t7.data.data(), t8.data.data(), t7.n_bytes), 0) << t7.name;
  }
}

// The generators are fixed code (no <random> distributions), so a seed's
// weights are pinned: these hashes only change if the generation changes.
TEST(TestModelWriter, SeedOneWeightsArePinned) {
  const ScratchFile scratch("pinned.gguf");
  const Opened m = open_model(write_or_fail(test_model_preset_tiny(), scratch));
  EXPECT_EQ(fnv1a(m.file.find_tensor("token_embd.weight")->data), 1487088165333036278ull);
  EXPECT_EQ(fnv1a(m.file.find_tensor("blk.1.ffn_down.weight")->data), 4240299081274680413ull);
  EXPECT_EQ(fnv1a(m.file.find_tensor("blk.0.attn_k_norm.weight")->data), 1551727718448780497ull);
}

// hy2bit's tokenizer loads the vocab, round-trips text, and splits the demo
// prompt into whole characters and words as llama.cpp does.
TEST(TestModelWriter, TokenizerEncodesTheDemoPrompt) {
  const ScratchFile scratch("tiny-tok.gguf");
  const Opened m = open_model(write_or_fail(test_model_preset_tiny(), scratch));
  Result<text::Tokenizer> tok = text::Tokenizer::from_gguf(m.file);
  ASSERT_TRUE(tok.ok()) << tok.error().message;
  for (std::string_view prompt : {"写一副春联", "/no_think写一副春联", "Hello world, the model 123"}) {
    Result<std::vector<int32_t>> ids = tok->encode(prompt);
    ASSERT_TRUE(ids.ok()) << ids.error().message;
    EXPECT_EQ(tok->decode(*ids), prompt);
  }
  // The ids llama.cpp (node-llama-cpp 3.x) gives for this file: 写 一副 春联.
  EXPECT_EQ(*tok->encode("写一副春联"), (std::vector<int32_t>{323, 333, 332}));
  EXPECT_EQ(*tok->encode("<｜hy_User｜>hi<｜hy_Assistant｜>"), (std::vector<int32_t>{987, 104, 105, 988}));
  EXPECT_EQ(*tok->encode("Hello world, the model 123"), (std::vector<int32_t>{793, 705, 44, 508, 697, 32, 394, 51}));
  EXPECT_EQ(tok->bos(), 984);
  EXPECT_EQ(tok->eos(), 989);
}

// ---- the synthetic vocab --------------------------------------------------------------

// GPT-2's bytes_to_unicode, written out the way its reference code builds it.
std::vector<std::string> reference_byte_tokens() {
  std::vector<int> bs;
  for (int b = '!'; b <= '~'; ++b) bs.push_back(b);
  for (int b = 0xA1; b <= 0xAC; ++b) bs.push_back(b);
  for (int b = 0xAE; b <= 0xFF; ++b) bs.push_back(b);
  std::map<int, uint32_t> cp;
  for (int b : bs) cp[b] = static_cast<uint32_t>(b);
  uint32_t next = 256;
  for (int b = 0; b < 256; ++b)
    if (!cp.contains(b)) cp[b] = next++;
  std::vector<std::string> out;
  for (int b = 0; b < 256; ++b) {
    const uint32_t c = cp[b];
    std::string s;
    if (c < 0x80) {
      s += static_cast<char>(c);
    } else {  // all code points here are < 0x800
      s += static_cast<char>(0xC0 | (c >> 6));
      s += static_cast<char>(0x80 | (c & 0x3F));
    }
    out.push_back(s);
  }
  return out;
}

// Splits UTF-8 into characters (each one symbol of byte-level BPE text).
std::vector<std::string> chars_of(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    const auto lead = static_cast<uint8_t>(s[i]);
    const size_t len = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

// Checks the vocab's invariants; `bpe_stride` picks which tokens get the
// (slower) BPE check: 1 = all.
void check_vocab(const SyntheticVocab& v, int64_t n_vocab, size_t bpe_stride) {
  const auto n = static_cast<size_t>(n_vocab);
  const size_t n_normal = n - kSyntheticControlCount;
  ASSERT_EQ(v.tokens.size(), n);
  ASSERT_EQ(v.token_types.size(), n);
  ASSERT_EQ(v.merges.size(), n_normal - 256);

  // Byte tokens first, in byte order.
  const std::vector<std::string> bytes = reference_byte_tokens();
  for (size_t b = 0; b < 256; ++b) ASSERT_EQ(v.tokens[b], bytes[b]) << "byte " << b;
  // Unique tokens.
  std::unordered_map<std::string, size_t> id_of;
  for (size_t i = 0; i < n; ++i) ASSERT_TRUE(id_of.emplace(v.tokens[i], i).second) << "duplicate token " << v.tokens[i];
  // Types: normal, then 16 control tokens.
  for (size_t i = 0; i < n; ++i)
    ASSERT_EQ(v.token_types[i], i < n_normal ? kTokenTypeNormal : kTokenTypeControl) << "token " << i;
  EXPECT_EQ(v.tokens[n_normal], "<｜hy_begin▁of▁sentence｜>");
  EXPECT_EQ(v.tokens[n_normal + 3], "<｜hy_User｜>");
  EXPECT_EQ(v.tokens[n_normal + 4], "<｜hy_Assistant｜>");
  EXPECT_EQ(v.tokens[n_normal + 5], "<｜hy_place▁holder▁no▁2｜>");
  EXPECT_EQ(v.tokens[n_normal + 6], "<｜hy_place▁holder▁no▁3｜>");
  EXPECT_EQ(v.bos_id, static_cast<int32_t>(n_normal));
  EXPECT_EQ(v.pad_id, static_cast<int32_t>(n_normal + 2));
  EXPECT_EQ(v.user_id, static_cast<int32_t>(n_normal + 3));
  EXPECT_EQ(v.assistant_id, static_cast<int32_t>(n_normal + 4));
  EXPECT_EQ(v.eos_id, static_cast<int32_t>(n_normal + 5));
  EXPECT_EQ(v.end_system_id, static_cast<int32_t>(n_normal + 6));

  // Merge i is "a b" with a and b earlier tokens and a + b == token 256 + i.
  std::unordered_map<std::string, size_t> rank;
  for (size_t i = 0; i < v.merges.size(); ++i) {
    const std::string& m = v.merges[i];
    const size_t space = m.find(' ');
    ASSERT_NE(space, std::string::npos) << m;
    ASSERT_EQ(m.find(' ', space + 1), std::string::npos) << m;
    const std::string a = m.substr(0, space), b = m.substr(space + 1);
    ASSERT_TRUE(id_of.contains(a) && id_of.contains(b)) << "merge " << i << " '" << m << "' has an unknown part";
    EXPECT_LT(id_of[a], 256 + i) << m;
    EXPECT_LT(id_of[b], 256 + i) << m;
    ASSERT_EQ(a + b, v.tokens[256 + i]) << "merge " << i;
    ASSERT_TRUE(rank.emplace(m, i).second) << "duplicate merge " << m;
  }

  // BPE of each (checked) token's text gives back exactly that token:
  // join the lowest-rank adjacent pair, leftmost first, until none applies.
  for (size_t id = 256; id < n_normal; id += bpe_stride) {
    std::vector<std::string> syms = chars_of(v.tokens[id]);
    while (syms.size() > 1) {
      size_t best = SIZE_MAX, at = 0;
      for (size_t i = 0; i + 1 < syms.size(); ++i) {
        const auto it = rank.find(syms[i] + " " + syms[i + 1]);
        if (it != rank.end() && it->second < best) {
          best = it->second;
          at = i;
        }
      }
      if (best == SIZE_MAX) break;
      syms[at] += syms[at + 1];
      syms.erase(syms.begin() + static_cast<std::ptrdiff_t>(at) + 1);
    }
    ASSERT_EQ(syms.size(), 1u) << "BPE splits token " << id << " '" << v.tokens[id] << "' into " << syms.size();
    ASSERT_EQ(syms[0], v.tokens[id]);
  }
}

TEST(SyntheticVocab, TinyVocabIsValidBpe) {
  Result<SyntheticVocab> v = make_synthetic_vocab(1000);
  ASSERT_TRUE(v.ok()) << v.error().message;
  check_vocab(*v, 1000, 1);
  EXPECT_EQ(v->bos_id, 984);
  EXPECT_EQ(v->eos_id, 989);
  EXPECT_EQ(v->pad_id, 986);
  // The demo prompt's characters are whole tokens.
  const std::set<std::string> tokens(v->tokens.begin(), v->tokens.end());
  for (std::string_view s : {"写", "一", "副", "春", "联", "春联", "一副", " the"}) {
    const std::string mapped = gpt2_bytes_to_unicode(s);
    EXPECT_TRUE(tokens.contains(mapped)) << s;
  }
  EXPECT_EQ(gpt2_bytes_to_unicode(" \n\tA"), "ĠĊĉA");
}

TEST(SyntheticVocab, FullSizeVocabIsValidAndExtendsTheSmallOne) {
  Result<SyntheticVocab> big = make_synthetic_vocab(120818);
  ASSERT_TRUE(big.ok()) << big.error().message;
  check_vocab(*big, 120818, 1);
  EXPECT_EQ(big->bos_id, 120802);
  // A smaller vocab's normal tokens and merges are a prefix of a bigger one's.
  Result<SyntheticVocab> small = make_synthetic_vocab(1000);
  ASSERT_TRUE(small.ok());
  for (size_t i = 0; i < 984; ++i) ASSERT_EQ(small->tokens[i], big->tokens[i]) << i;
  for (size_t i = 0; i < small->merges.size(); ++i) ASSERT_EQ(small->merges[i], big->merges[i]) << i;
  // Every CJK ideograph the pre-tokenizer's class covers is one token.
  const std::unordered_set<std::string> tokens(big->tokens.begin(), big->tokens.end());
  EXPECT_TRUE(tokens.contains(gpt2_bytes_to_unicode("\xE4\xB8\x80")));  // U+4E00
  EXPECT_TRUE(tokens.contains(gpt2_bytes_to_unicode("\xE9\xBE\xA5")));  // U+9FA5
}

TEST(SyntheticVocab, RejectsSizesOutOfRange) {
  for (int64_t n : {int64_t{0}, int64_t{272}, kSyntheticVocabMax + 1}) {
    Result<SyntheticVocab> v = make_synthetic_vocab(n);
    ASSERT_FALSE(v.ok()) << n;
    EXPECT_NE(v.error().message.find(std::to_string(n)), std::string::npos) << v.error().message;
  }
  Result<SyntheticVocab> smallest = make_synthetic_vocab(kSyntheticVocabMin);
  ASSERT_TRUE(smallest.ok());
  check_vocab(*smallest, kSyntheticVocabMin, 1);
}

}  // namespace
}  // namespace hy2bit::model
