// make-test-model: the spec checks, the metadata (mirroring testdata's
// hy-tiny-f16.gguf key for key) and the tensor generators. Each tensor has
// its own PRNG stream seeded from (seed, tensor name), and its bytes are made
// only when the GGUF writer asks for them, so memory stays at one tensor.
#include "model/test_model.h"

#include <bit>
#include <cmath>
#include <cstring>

#include "formats/convert.h"
#include "gguf/gguf_writer.h"
#include "model/config.h"
#include "model/synthetic_vocab.h"

namespace hy2bit::model {
namespace {

static_assert(std::endian::native == std::endian::little, "tensor bytes are written in host order");

// q2_0c stores 512 weights per block with one scale per row, so every linear
// weight row (n_embd, n_ff or n_head * head_dim long) must be whole blocks.
constexpr int64_t kQ2_0CBlock = 512;
// Caps that keep every size product far from overflow and every grid step
// d >= 0.25 / sqrt(2^18) = 2^-11, a normal f16 number.
constexpr int64_t kMaxWidth = int64_t{1} << 18;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxHeads = 1024;
constexpr int64_t kMaxHeadDim = 1024;
constexpr int64_t kMaxContext = int64_t{1} << 24;

// The same jinja template testdata's hy-tiny-f16.gguf carries; it renders the
// chat format of hy-model.md.
constexpr std::string_view kChatTemplate =
    "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}{{ m['content'] }}"
    "<｜hy_place▁holder▁no▁3｜>{% elif m['role'] == 'user' %}<｜hy_User｜>{{ m['content'] }}"
    "{% elif m['role'] == 'assistant' %}<｜hy_Assistant｜>{{ m['content'] }}<｜hy_place▁holder▁no▁2｜>"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<｜hy_Assistant｜>{% endif %}";

// ---- random numbers ---------------------------------------------------------
// Fixed generators written out here (not <random>'s distributions, whose
// output differs between standard libraries), so a seed gives the same file
// everywhere.

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// xoshiro256**: fast (about 1 ns per 64 bits), enough for ~2G weights.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& word : s_) word = splitmix64(seed);
  }
  uint64_t next() {
    const uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = std::rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t s_[4];
};

// The stream of one tensor: seed and name hashed together (FNV-1a, then
// splitmix64), so a tensor's values do not depend on the order of generation.
uint64_t tensor_seed(uint64_t seed, std::string_view name) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (char c : name) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001B3ull;
  uint64_t state = seed ^ h;
  return splitmix64(state);
}

// ---- tensor generators --------------------------------------------------------

// Bytes of one element of a plain float type (2 for f16/bf16, 4 for f32).
int64_t element_bytes(formats::TypeId type) { return formats::type_info(type)->block_bytes; }

// The grid step d of one linear row of n_in weights: the row's weights are
// (2c - 3) * d for codes c in 0..3, i.e. s * {-1.5, -0.5, 0.5, 1.5} with
// s = 2d uniform in [0.5, 1.5] / sqrt(n_in) (output variance ~1 for unit
// input). d keeps 6 significant bits, so d and 3d are exact in bf16 (8 bits)
// and f16 (11 bits), and q2_0c's (max - min) / 6 gives d back exactly.
double grid_step(double u, int64_t n_in) {
  const double target = (0.25 + 0.5 * u) / std::sqrt(static_cast<double>(n_in));
  int exponent = 0;
  const double fraction = std::frexp(target, &exponent);  // target = fraction * 2^exponent, fraction in [0.5, 1)
  const double mantissa = std::nearbyint(fraction * 64.0);  // 32..64
  return std::ldexp(mantissa, exponent - 6);
}

// A linear weight {n_in, n_out}: n_out rows of n_in weights on the 2-bit
// grid, each row with both extreme codes (0 and 3) so the q2_0c reference
// quantizer recovers the row's d exactly and conversion is lossless.
Status fill_linear(std::string_view name, formats::TypeId type, int64_t n_in, int64_t n_out, Rng& rng,
                   std::vector<uint8_t>& out) {
  const int64_t elem = element_bytes(type);
  out.resize(static_cast<size_t>(n_in * n_out * elem));
  std::vector<uint8_t> codes(static_cast<size_t>(n_in));
  for (int64_t row = 0; row < n_out; ++row) {
    // The row's four values, encoded once, and checked to be exact.
    const auto d = static_cast<float>(grid_step(rng.uniform(), n_in));
    const float values[4] = {-3.0f * d, -d, d, 3.0f * d};
    uint8_t encoded[4 * 4];
    float decoded[4];
    formats::quantize_row(type, values, encoded, 4);
    formats::dequantize(type, encoded, decoded, 4);
    if (std::memcmp(values, decoded, sizeof(values)) != 0) {
      return make_error("tensor '", name, "' row ", row, ": grid step ", d, " is not exact in type ",
                        formats::type_info(type)->name);
    }
    // Random codes, 32 per 64-bit draw (n_in is a multiple of 512).
    for (int64_t i = 0; i < n_in; i += 32) {
      uint64_t bits = rng.next();
      for (int64_t j = 0; j < 32; ++j, bits >>= 2) codes[static_cast<size_t>(i + j)] = bits & 3;
    }
    // Both extremes present: put them at two distinct random positions.
    const uint64_t r = rng.next();
    const auto at_min = static_cast<size_t>(r % static_cast<uint64_t>(n_in));
    const auto at_max = (at_min + 1 + static_cast<size_t>((r >> 32) % static_cast<uint64_t>(n_in - 1))) %
                        static_cast<size_t>(n_in);
    codes[at_min] = 0;
    codes[at_max] = 3;
    // Codes -> encoded values.
    uint8_t* dst = out.data() + row * n_in * elem;
    if (elem == 2) {
      uint16_t table[4];
      std::memcpy(table, encoded, sizeof(table));
      for (int64_t i = 0; i < n_in; ++i) std::memcpy(dst + 2 * i, &table[codes[static_cast<size_t>(i)]], 2);
    } else {
      uint32_t table[4];
      std::memcpy(table, encoded, sizeof(table));
      for (int64_t i = 0; i < n_in; ++i) std::memcpy(dst + 4 * i, &table[codes[static_cast<size_t>(i)]], 4);
    }
  }
  return Ok{};
}

// token_embd {n_embd, n_vocab}: roughly normal values (the sum of four
// 16-bit uniforms, Irwin-Hall) with standard deviation `std_dev`.
void fill_embedding(formats::TypeId type, int64_t n_embd, int64_t n_vocab, float std_dev, Rng& rng,
                    std::vector<uint8_t>& out) {
  const int64_t elem = element_bytes(type);
  out.resize(static_cast<size_t>(n_embd * n_vocab * elem));
  // A sum of four uniforms on 0..65535 has mean 131070 and std 65536 / sqrt(3).
  const float scale = std_dev / (65536.0f / std::sqrt(3.0f));
  std::vector<float> row(static_cast<size_t>(n_embd));
  for (int64_t r = 0; r < n_vocab; ++r) {
    for (float& x : row) {
      const uint64_t bits = rng.next();
      const auto sum = static_cast<int32_t>((bits & 0xFFFF) + ((bits >> 16) & 0xFFFF) + ((bits >> 32) & 0xFFFF) +
                                            (bits >> 48));
      x = static_cast<float>(sum - 131070) * scale;
    }
    formats::quantize_row(type, row.data(), out.data() + r * n_embd * elem, n_embd);
  }
}

// A norm weight {n}, f32: uniform in [0.8, 1.2).
void fill_norm(int64_t n, Rng& rng, std::vector<uint8_t>& out) {
  out.resize(static_cast<size_t>(n) * sizeof(float));
  for (int64_t i = 0; i < n; ++i) {
    const float w = 0.8f + 0.4f * static_cast<float>(rng.next() >> 40) * 0x1.0p-24f;
    std::memcpy(out.data() + i * 4, &w, 4);
  }
}

// ---- checks -------------------------------------------------------------------

Status check_range(std::string_view field, int64_t value, int64_t lo, int64_t hi) {
  if (value < lo || value > hi) return make_error(field, " is ", value, ", expected ", lo, "..", hi);
  return Ok{};
}

Status check_q2_0c_row(std::string_view field, int64_t value) {
  if (value % kQ2_0CBlock != 0) {
    return make_error(field, " is ", value, ", expected a multiple of ", kQ2_0CBlock,
                      ": linear weight rows must be whole q2_0c blocks (512 weights sharing the row's scale)"
                      " so the model can be quantized to q2_0c");
  }
  return Ok{};
}

// ---- the file -------------------------------------------------------------------

// Metadata in the order and with the types of testdata's hy-tiny-f16.gguf.
void set_metadata(gguf::Writer& w, const TestModelSpec& spec, SyntheticVocab vocab) {
  using gguf::OwnedValue;
  const std::string arch(kArchitecture);
  const auto u32 = [](int64_t v) { return OwnedValue::u32(static_cast<uint32_t>(v)); };
  w.set("general.architecture", OwnedValue::string(arch));
  w.set("general.name", OwnedValue::string(spec.name.empty() ? "Hunyuan-synthetic" : spec.name));
  w.set("general.type", OwnedValue::string("model"));
  w.set(arch + ".block_count", u32(spec.n_layer));
  w.set(arch + ".context_length", u32(spec.n_ctx_train));
  w.set(arch + ".embedding_length", u32(spec.n_embd));
  w.set(arch + ".feed_forward_length", u32(spec.n_ff));
  w.set(arch + ".attention.head_count", u32(spec.n_head));
  w.set(arch + ".attention.head_count_kv", u32(spec.n_head_kv));
  w.set(arch + ".attention.layer_norm_rms_epsilon", OwnedValue::f32(spec.rms_norm_eps));
  w.set(arch + ".attention.key_length", u32(spec.head_dim));
  w.set(arch + ".attention.value_length", u32(spec.head_dim));
  w.set(arch + ".rope.freq_base", OwnedValue::f32(spec.rope_freq_base));
  w.set(arch + ".rope.scaling.type", OwnedValue::string("none"));
  w.set(arch + ".rope.scaling.factor", OwnedValue::f32(1.0f));
  w.set(arch + ".rope.scaling.original_context_length", u32(spec.n_ctx_train));
  w.set("general.file_type", OwnedValue::u32(test_model_file_type(spec.type)));
  w.set("general.quantization_version", OwnedValue::u32(2));
  w.set("tokenizer.ggml.model", OwnedValue::string("gpt2"));
  w.set("tokenizer.ggml.pre", OwnedValue::string(arch));
  w.set("tokenizer.ggml.tokens", OwnedValue::string_array(std::move(vocab.tokens)));
  w.set("tokenizer.ggml.token_type", OwnedValue::i32_array(vocab.token_types));
  w.set("tokenizer.ggml.merges", OwnedValue::string_array(std::move(vocab.merges)));
  w.set("tokenizer.ggml.bos_token_id", u32(vocab.bos_id));
  w.set("tokenizer.ggml.eos_token_id", u32(vocab.eos_id));
  w.set("tokenizer.ggml.padding_token_id", u32(vocab.pad_id));
  w.set("tokenizer.ggml.add_bos_token", OwnedValue::boolean(true));
  w.set("tokenizer.ggml.add_eos_token", OwnedValue::boolean(false));
  w.set("tokenizer.chat_template", OwnedValue::string(std::string(kChatTemplate)));
}

enum class TensorKind { kEmbedding, kNorm, kLinear };

// Declares one tensor whose bytes are generated when the writer reaches it.
Status add(gguf::Writer& w, const TestModelSpec& spec, std::string name, TensorKind kind, std::vector<int64_t> ne) {
  const formats::TypeId type = kind == TensorKind::kNorm ? formats::TypeId::kF32 : spec.type;
  const uint64_t seed = tensor_seed(spec.seed, name);
  const float embd_std = spec.embd_std > 0.0f ? spec.embd_std : 1.0f / std::sqrt(static_cast<float>(spec.n_embd));
  auto bytes = [name, kind, ne, type, seed, embd_std](std::vector<uint8_t>& out) -> Status {
    Rng rng(seed);
    switch (kind) {
      case TensorKind::kEmbedding:
        fill_embedding(type, ne[0], ne[1], embd_std, rng, out);
        return Ok{};
      case TensorKind::kNorm:
        fill_norm(ne[0], rng, out);
        return Ok{};
      case TensorKind::kLinear:
        return fill_linear(name, type, ne[0], ne[1], rng, out);
    }
    return make_error("tensor '", name, "' has an unknown kind");
  };
  return w.add_tensor(std::move(name), type, std::move(ne), std::move(bytes));
}

}  // namespace

TestModelSpec test_model_preset_tiny() {
  TestModelSpec spec;
  spec.n_layer = 2;
  spec.n_embd = 512;
  spec.n_ff = 1024;
  spec.n_head = 4;
  spec.n_head_kv = 2;
  spec.head_dim = 128;
  spec.n_vocab = 1000;
  spec.n_ctx_train = 4096;
  spec.name = "Hunyuan-tiny-synthetic";
  return spec;
}

TestModelSpec test_model_preset_hy_1_8b() {
  TestModelSpec spec;
  spec.n_layer = 32;
  spec.n_embd = 2048;
  spec.n_ff = 6144;
  spec.n_head = 16;
  spec.n_head_kv = 4;
  spec.head_dim = 128;
  spec.n_vocab = 120818;
  spec.n_ctx_train = 262144;
  spec.name = "Hunyuan-1.8B-synthetic";
  return spec;
}

std::optional<TestModelSpec> test_model_preset(std::string_view name) {
  if (name == "tiny") return test_model_preset_tiny();
  if (name == "hy-1.8b") return test_model_preset_hy_1_8b();
  return std::nullopt;
}

std::vector<std::string_view> test_model_preset_names() { return {"tiny", "hy-1.8b"}; }

uint32_t test_model_file_type(formats::TypeId type) {
  switch (type) {
    case formats::TypeId::kF32: return 0;
    case formats::TypeId::kF16: return 1;
    case formats::TypeId::kBF16: return 32;
    default: return 1;  // not reached: validate() allows only the three above
  }
}

Status validate(const TestModelSpec& s) {
  HY2BIT_TRY(check_range("n_layer", s.n_layer, 1, kMaxLayers));
  HY2BIT_TRY(check_range("n_embd", s.n_embd, 1, kMaxWidth));
  HY2BIT_TRY(check_range("n_ff", s.n_ff, 1, kMaxWidth));
  HY2BIT_TRY(check_range("n_head", s.n_head, 1, kMaxHeads));
  HY2BIT_TRY(check_range("n_head_kv", s.n_head_kv, 1, kMaxHeads));
  HY2BIT_TRY(check_range("head_dim", s.head_dim, 2, kMaxHeadDim));
  HY2BIT_TRY(check_range("n_vocab", s.n_vocab, kSyntheticVocabMin, kSyntheticVocabMax));
  HY2BIT_TRY(check_range("n_ctx_train", s.n_ctx_train, 1, kMaxContext));
  if (s.n_head % s.n_head_kv != 0) {
    return make_error("n_head is ", s.n_head, ", expected a multiple of n_head_kv (", s.n_head_kv,
                      "): each KV head serves the same number of query heads");
  }
  if (s.head_dim % 2 != 0)
    return make_error("head_dim is ", s.head_dim, ", expected an even number: NEOX RoPE rotates dimension pairs");
  HY2BIT_TRY(check_q2_0c_row("n_embd", s.n_embd));
  HY2BIT_TRY(check_q2_0c_row("n_ff", s.n_ff));
  HY2BIT_TRY(check_range("n_head * head_dim", s.n_head * s.head_dim, 1, kMaxWidth));
  HY2BIT_TRY(check_q2_0c_row("n_head * head_dim", s.n_head * s.head_dim));
  if (s.type != formats::TypeId::kF16 && s.type != formats::TypeId::kBF16 && s.type != formats::TypeId::kF32) {
    const auto info = formats::type_info(s.type);
    return make_error("type is ", info ? info->name : std::string_view("unknown"),
                      ", expected f16, bf16 or f32 (quantize the written model to get other types)");
  }
  if (!std::isfinite(s.rope_freq_base) || s.rope_freq_base <= 0.0f)
    return make_error("rope_freq_base is ", s.rope_freq_base, ", expected a positive number");
  if (!std::isfinite(s.rms_norm_eps) || s.rms_norm_eps <= 0.0f)
    return make_error("rms_norm_eps is ", s.rms_norm_eps, ", expected a positive number");
  if (!std::isfinite(s.embd_std) || s.embd_std < 0.0f)
    return make_error("embd_std is ", s.embd_std, ", expected 0 (automatic) or a positive number");
  return Ok{};
}

Status write_test_model(const TestModelSpec& spec, const std::string& path,
                        const std::function<void(size_t done, size_t total)>& progress) {
  HY2BIT_TRY(validate(spec));
  Result<SyntheticVocab> vocab = make_synthetic_vocab(spec.n_vocab);
  if (!vocab) return vocab.error();

  gguf::Writer w;
  set_metadata(w, spec, std::move(*vocab));

  // Tensors in the order of testdata's hy-tiny-f16.gguf; ggml order {n_in, n_out}.
  // Tied embeddings: no output.weight.
  const int64_t q_dim = spec.n_head * spec.head_dim;
  const int64_t kv_dim = spec.n_head_kv * spec.head_dim;
  HY2BIT_TRY(add(w, spec, "token_embd.weight", TensorKind::kEmbedding, {spec.n_embd, spec.n_vocab}));
  HY2BIT_TRY(add(w, spec, "output_norm.weight", TensorKind::kNorm, {spec.n_embd}));
  for (int64_t il = 0; il < spec.n_layer; ++il) {
    const std::string blk = "blk." + std::to_string(il) + ".";
    HY2BIT_TRY(add(w, spec, blk + "attn_norm.weight", TensorKind::kNorm, {spec.n_embd}));
    HY2BIT_TRY(add(w, spec, blk + "attn_q.weight", TensorKind::kLinear, {spec.n_embd, q_dim}));
    HY2BIT_TRY(add(w, spec, blk + "attn_k.weight", TensorKind::kLinear, {spec.n_embd, kv_dim}));
    HY2BIT_TRY(add(w, spec, blk + "attn_v.weight", TensorKind::kLinear, {spec.n_embd, kv_dim}));
    HY2BIT_TRY(add(w, spec, blk + "attn_output.weight", TensorKind::kLinear, {q_dim, spec.n_embd}));
    HY2BIT_TRY(add(w, spec, blk + "attn_q_norm.weight", TensorKind::kNorm, {spec.head_dim}));
    HY2BIT_TRY(add(w, spec, blk + "attn_k_norm.weight", TensorKind::kNorm, {spec.head_dim}));
    HY2BIT_TRY(add(w, spec, blk + "ffn_norm.weight", TensorKind::kNorm, {spec.n_embd}));
    HY2BIT_TRY(add(w, spec, blk + "ffn_gate.weight", TensorKind::kLinear, {spec.n_embd, spec.n_ff}));
    HY2BIT_TRY(add(w, spec, blk + "ffn_up.weight", TensorKind::kLinear, {spec.n_embd, spec.n_ff}));
    HY2BIT_TRY(add(w, spec, blk + "ffn_down.weight", TensorKind::kLinear, {spec.n_ff, spec.n_embd}));
  }
  return w.write(path, progress);
}

}  // namespace hy2bit::model
