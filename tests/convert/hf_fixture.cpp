// The HF folder generator for the convert tests (see hf_fixture.h).
#include "convert/hf_fixture.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "convert/hf_vocab.h"
#include "formats/convert.h"
#include "gguf/gguf.h"
#include "gguf/mapped_file.h"
#include "support/test_support.h"

namespace hy2bit::convert::test {
namespace fs = std::filesystem;

namespace {
class RemoveAtExit : public testing::Environment {
 public:
  std::vector<std::string> paths;
  void TearDown() override {
    std::error_code ec;
    for (const std::string& p : paths) fs::remove_all(p, ec);
  }
};
RemoveAtExit* const g_remove_at_exit =
    static_cast<RemoveAtExit*>(testing::AddGlobalTestEnvironment(new RemoveAtExit));
}  // namespace

void remove_at_exit(const std::string& path) { g_remove_at_exit->paths.push_back(path); }

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

std::vector<uint8_t> safetensors_bytes(const std::string& header_json, const std::vector<uint8_t>& data) {
  const uint64_t n = header_json.size();
  std::vector<uint8_t> out(8 + header_json.size() + data.size());
  std::memcpy(out.data(), &n, 8);
  if (!header_json.empty()) std::memcpy(out.data() + 8, header_json.data(), header_json.size());
  if (!data.empty()) std::memcpy(out.data() + 8 + header_json.size(), data.data(), data.size());
  return out;
}

void write_safetensors(const std::string& path, const std::vector<FixtureTensor>& tensors, const Json& metadata) {
  // nlohmann sorts object keys; the header text is built by hand to keep the
  // given order (real files are not sorted by name either).
  std::string header = "{";
  if (!metadata.empty()) header += "\"__metadata__\":" + metadata.dump() + ",";
  uint64_t offset = 0;
  std::vector<uint8_t> data;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const FixtureTensor& t = tensors[i];
    Json entry = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes.size()}}};
    header += (i ? "," : "") + Json(t.name).dump() + ":" + entry.dump();
    offset += t.bytes.size();
    data.insert(data.end(), t.bytes.begin(), t.bytes.end());
  }
  header += "}";
  while (header.size() % 8 != 0) header += ' ';  // padding as the safetensors library writes it
  const std::vector<uint8_t> bytes = safetensors_bytes(header, data);
  write_text(path, std::string(bytes.begin(), bytes.end()));
}

GgufVocabulary read_gguf_vocabulary(const std::string& gguf_path) {
  GgufVocabulary v;
  auto mapped = gguf::MappedFile::open(gguf_path);
  EXPECT_TRUE(mapped.ok()) << gguf_path;
  if (!mapped) return v;
  auto file = gguf::File::parse((*mapped)->bytes());
  EXPECT_TRUE(file.ok()) << gguf_path;
  if (!file) return v;
  for (const gguf::Value& e : file->find("tokenizer.ggml.tokens")->as_array()->elems) v.tokens.emplace_back(*e.as_string());
  for (const gguf::Value& e : file->find("tokenizer.ggml.token_type")->as_array()->elems)
    v.types.push_back(static_cast<int32_t>(*e.as_int()));
  for (const gguf::Value& e : file->find("tokenizer.ggml.merges")->as_array()->elems) v.merges.emplace_back(*e.as_string());
  if (const gguf::Value* t = file->find("tokenizer.chat_template")) v.chat_template = *t->as_string();
  return v;
}

namespace {

// The raw bytes of a byte-level token text (inverse of byte_level_text).
std::string token_bytes(const std::string& text) {
  static const std::map<std::string, char> inverse = [] {
    std::map<std::string, char> m;
    for (int b = 0; b < 256; ++b) m[byte_level_text(std::string(1, static_cast<char>(b)))] = static_cast<char>(b);
    return m;
  }();
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    const auto it = inverse.find(text.substr(i, len));
    EXPECT_NE(it, inverse.end()) << "not a byte-level token: " << text;
    if (it == inverse.end()) return out;
    out += it->second;
    i += len;
  }
  return out;
}

std::string base64(const std::string& bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

template <typename T>
std::vector<uint8_t> as_bytes(const std::vector<T>& v) {
  std::vector<uint8_t> out(v.size() * sizeof(T));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

// Random values that f16 and bf16 both hold exactly: 1 + m/128 times 2^e.
std::vector<uint16_t> random_bf16(size_t n, std::mt19937& rng) {
  std::vector<uint16_t> out(n);
  for (uint16_t& x : out) {
    const float v = (1.0f + static_cast<float>(rng() % 128) / 128.0f) * std::ldexp(1.0f, static_cast<int>(rng() % 10) - 8) *
                    ((rng() & 1) ? -1.0f : 1.0f);
    x = formats::f32_to_bf16(v);
  }
  return out;
}
std::vector<uint16_t> random_f16(size_t n, std::mt19937& rng) {
  std::vector<uint16_t> out(n);
  for (uint16_t& x : out) x = formats::f32_to_f16(std::uniform_real_distribution<float>(-2.0f, 2.0f)(rng));
  return out;
}
std::vector<float> random_f32(size_t n, std::mt19937& rng) {
  std::vector<float> out(n);
  for (float& x : out) x = std::uniform_real_distribution<float>(0.5f, 1.5f)(rng);
  return out;
}

const char* kChatTemplate =
    "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'user' %}<\xEF\xBD\x9Chy_User\xEF\xBD\x9C>{{ m['content'] }}"
    "{% else %}<\xEF\xBD\x9Chy_Assistant\xEF\xBD\x9C>{{ m['content'] }}{% endif %}{% endfor %}";

}  // namespace

void write_tokenizer(const std::string& dir, const GgufVocabulary& vocab, TokenizerForm form,
                     const Json& tokenizer_config_extra) {
  Json tc = {{"add_bos_token", true}, {"add_eos_token", false}, {"chat_template", vocab.chat_template}};
  tc.update(tokenizer_config_extra);
  if (form == TokenizerForm::kTokenizerJson) {
    Json model_vocab = Json::object();
    Json added = Json::array();
    for (size_t i = 0; i < vocab.tokens.size(); ++i) {
      if (vocab.types[i] == 1) model_vocab[vocab.tokens[i]] = i;
      else if (vocab.types[i] == 3 || vocab.types[i] == 4)
        added.push_back({{"id", i}, {"content", vocab.tokens[i]}, {"special", vocab.types[i] == 3},
                         {"normalized", false}, {"lstrip", false}, {"rstrip", false}, {"single_word", false}});
    }
    const Json tokenizer = {{"version", "1.0"},
                            {"added_tokens", added},
                            {"normalizer", nullptr},
                            {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}},
                            {"post_processor", nullptr},
                            {"decoder", {{"type", "ByteLevel"}}},
                            {"model", {{"type", "BPE"}, {"vocab", model_vocab}, {"merges", vocab.merges}}}};
    write_text(dir + "/tokenizer.json", tokenizer.dump());
  } else {
    std::string ranks;
    Json decoder = Json::object();
    for (size_t i = 0; i < vocab.tokens.size(); ++i) {
      // Normal tokens, and the user-defined single bytes deepseek-llm's
      // vocabulary added (tiktoken needs every byte), become ranks; the
      // "[PADn]" fillers are left out.
      const bool filler = vocab.tokens[i] == "[PAD" + std::to_string(i) + "]";
      if (vocab.types[i] == 1 || (vocab.types[i] == 4 && !filler))
        ranks += base64(token_bytes(vocab.tokens[i])) + " " + std::to_string(i) + "\n";
      else if (vocab.types[i] == 3)
        decoder[std::to_string(i)] = {{"content", vocab.tokens[i]}, {"special", true}, {"normalized", false},
                                      {"lstrip", false}, {"rstrip", false}, {"single_word", false}};
    }
    write_text(dir + "/hy.tiktoken", ranks);
    tc["added_tokens_decoder"] = decoder;
  }
  write_text(dir + "/tokenizer_config.json", tc.dump(2));
}

Json vocab_fixture_config() {
  return {{"architectures", {"HunYuanDenseV1ForCausalLM"}},
          {"model_type", "hunyuan_v1_dense"},
          {"vocab_size", 102408},
          {"hidden_size", 64},
          {"num_hidden_layers", 1},
          {"num_attention_heads", 2},
          {"num_key_value_heads", 1},
          {"head_dim", 32},
          {"intermediate_size", 128},
          {"rms_norm_eps", 1e-5},
          {"max_position_embeddings", 32768},
          {"rope_theta", 10000.0},
          {"rope_scaling", {{"alpha", 1000.0}, {"beta_fast", 32}, {"beta_slow", 1}, {"factor", 1.0}, {"type", "dynamic"}}},
          {"tie_word_embeddings", true},
          {"bos_token_id", 102400},
          {"eos_token_id", 102401},
          {"pad_token_id", 102402},
          {"eod_token_id", 102405},
          {"torch_dtype", "bfloat16"}};
}

std::string make_vocab_fixture(const std::string& dir, TokenizerForm form) {
  fs::create_directories(dir);
  remove_at_exit(dir);
  GgufVocabulary vocab = read_gguf_vocabulary(hy2bit::test::testdata_path("tokenizer/hy-vocab.gguf"));
  vocab.chat_template = kChatTemplate;
  write_tokenizer(dir, vocab, form,
                  {{"bos_token", "<\xEF\xBD\x9Chy_begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"},
                   {"eos_token", "<\xEF\xBD\x9Chy_place\xE2\x96\x81holder\xE2\x96\x81no\xE2\x96\x81" "2\xEF\xBD\x9C>"}});
  write_text(dir + "/config.json", vocab_fixture_config().dump(2));
  write_text(dir + "/generation_config.json", Json{{"bos_token_id", 102400}, {"eos_token_id", {102406, 102405}}}.dump());

  std::mt19937 rng(form == TokenizerForm::kTiktoken ? 2 : 1);
  const uint64_t v = 102408, h = 64, q = 64, kv = 32, hd = 32, ff = 128;
  std::vector<FixtureTensor> part1 = {
      {"model.embed_tokens.weight", "BF16", {v, h}, as_bytes(random_bf16(v * h, rng))},
      {"lm_head.weight", "BF16", {v, h}, as_bytes(random_bf16(v * h, rng))},
      {"model.norm.weight", "F32", {h}, as_bytes(random_f32(h, rng))},
  };
  const std::string l = "model.layers.0.";
  std::vector<FixtureTensor> part2 = {
      {l + "mlp.down_proj.weight", "F16", {h, ff}, as_bytes(random_f16(h * ff, rng))},
      {l + "self_attn.q_proj.weight", "F16", {q, h}, as_bytes(random_f16(q * h, rng))},
      {l + "self_attn.k_proj.weight", "F16", {kv, h}, as_bytes(random_f16(kv * h, rng))},
      {l + "self_attn.v_proj.weight", "BF16", {kv, h}, as_bytes(random_bf16(kv * h, rng))},
      {l + "self_attn.o_proj.weight", "F32", {h, q}, as_bytes(random_f32(h * q, rng))},
      {l + "self_attn.query_layernorm.weight", "BF16", {hd}, as_bytes(random_bf16(hd, rng))},
      {l + "self_attn.key_layernorm.weight", "F32", {hd}, as_bytes(random_f32(hd, rng))},
      {l + "input_layernorm.weight", "F32", {h}, as_bytes(random_f32(h, rng))},
      {l + "post_attention_layernorm.weight", "F16", {h}, as_bytes(random_f16(h, rng))},
      {l + "mlp.gate_proj.weight", "F16", {ff, h}, as_bytes(random_f16(ff * h, rng))},
      {l + "mlp.up_proj.weight", "F16", {ff, h}, as_bytes(random_f16(ff * h, rng))},
      {l + "self_attn.rotary_emb.inv_freq", "F32", {hd / 2}, as_bytes(random_f32(hd / 2, rng))},
  };
  write_safetensors(dir + "/model-00001-of-00002.safetensors", part1, {{"format", "pt"}});
  write_safetensors(dir + "/model-00002-of-00002.safetensors", part2, {{"format", "pt"}});
  Json weight_map = Json::object();
  for (const auto& t : part1) weight_map[t.name] = "model-00001-of-00002.safetensors";
  for (const auto& t : part2) weight_map[t.name] = "model-00002-of-00002.safetensors";
  write_text(dir + "/model.safetensors.index.json", Json{{"metadata", {{"total_size", 0}}}, {"weight_map", weight_map}}.dump(2));
  return dir;
}

std::string make_qdq_fixture(const std::string& dir) {
  fs::create_directories(dir);
  remove_at_exit(dir);
  const std::string src = hy2bit::test::testdata_path("models/hy-tiny-f16.gguf");
  const GgufVocabulary vocab = read_gguf_vocabulary(src);
  write_tokenizer(dir, vocab, TokenizerForm::kTokenizerJson, Json::object());
  Json config = vocab_fixture_config();
  config.update({{"vocab_size", 1000}, {"hidden_size", 512}, {"num_hidden_layers", 2}, {"num_attention_heads", 4},
                 {"num_key_value_heads", 2}, {"head_dim", 128}, {"intermediate_size", 1024},
                 {"bos_token_id", 984}, {"eos_token_id", 989}, {"pad_token_id", 986}, {"eod_token_id", 989},
                 {"torch_dtype", "float16"}});
  write_text(dir + "/config.json", config.dump(2));

  // GGUF name -> HF name, and the tensors with shapes reversed back to HF order.
  const std::map<std::string, std::string> stems = {
      {"attn_norm", "input_layernorm"}, {"attn_q", "self_attn.q_proj"}, {"attn_k", "self_attn.k_proj"},
      {"attn_v", "self_attn.v_proj"}, {"attn_output", "self_attn.o_proj"}, {"attn_q_norm", "self_attn.query_layernorm"},
      {"attn_k_norm", "self_attn.key_layernorm"}, {"ffn_norm", "post_attention_layernorm"},
      {"ffn_gate", "mlp.gate_proj"}, {"ffn_up", "mlp.up_proj"}, {"ffn_down", "mlp.down_proj"}};
  auto mapped = gguf::MappedFile::open(src);
  auto file = gguf::File::parse((*mapped)->bytes());
  std::vector<FixtureTensor> tensors;
  for (const gguf::TensorInfo& t : file->tensors()) {
    std::string name(t.name);
    std::string hf;
    if (name == "token_embd.weight") hf = "model.embed_tokens.weight";
    else if (name == "output_norm.weight") hf = "model.norm.weight";
    else {
      const size_t dot1 = name.find('.', 4), dot2 = name.rfind('.');
      hf = "model.layers." + name.substr(4, dot1 - 4) + "." + stems.at(name.substr(dot1 + 1, dot2 - dot1 - 1)) + ".weight";
    }
    std::vector<uint64_t> shape;
    for (int d = t.n_dims - 1; d >= 0; --d) shape.push_back(static_cast<uint64_t>(t.ne[d]));
    tensors.push_back({hf, t.type.id == formats::TypeId::kF32 ? "F32" : "F16", shape,
                       std::vector<uint8_t>(t.data.begin(), t.data.end())});
  }
  write_safetensors(dir + "/model.safetensors", tensors);
  return dir;
}

}  // namespace hy2bit::convert::test
