// Config sanity (src/model/config.cpp, the checks at the top of
// bind_weights): every hyper-parameter out of a real model's range is an
// error naming the key and its value, and nothing is reserved before it is
// checked. Models are the fuzz corpus's micro q8_0 model with one metadata
// value changed; the first three cases are the silent ones of issue 18.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "kernels/dispatch.h"
#include "model/config.h"
#include "model/weights.h"
#include "support/test_support.h"

namespace hy2bit::model {
namespace {

using gguf::OwnedValue;

const char* kMicroModel = HY2BIT_SOURCE_DIR "/fuzz/corpus/fuzz_gguf_model/micro-q8_0.gguf";

// A parsed GGUF and the bytes its views point into.
struct Model {
  std::vector<uint8_t> bytes;
  gguf::File file;
};

std::unique_ptr<Model> parse(std::vector<uint8_t> bytes) {
  auto m = std::make_unique<Model>();
  m->bytes = std::move(bytes);
  Result<gguf::File> file = gguf::File::parse(m->bytes);
  if (!file) throw std::runtime_error(file.error().message);
  m->file = std::move(*file);
  return m;
}

// The micro model with `edit` applied to its metadata and its tensors named
// by `rename`, written and parsed back.
std::unique_ptr<Model> micro_model(const std::function<void(gguf::Writer&)>& edit = {},
                                   const std::function<std::string(std::string)>& rename = {}) {
  const std::unique_ptr<Model> base = parse(test::read_bytes(kMicroModel));
  gguf::Writer writer;
  for (const auto& [key, value] : base->file.metadata()) writer.set(std::string(key), OwnedValue::copy_of(value));
  if (edit) edit(writer);
  for (const gguf::TensorInfo& t : base->file.tensors()) {
    const std::vector<uint8_t> data(t.data.begin(), t.data.end());
    std::string name(t.name);
    if (rename) name = rename(name);
    const Status st = writer.add_tensor(name, t.type.id, {t.ne, t.ne + t.n_dims},
                                        [data](std::vector<uint8_t>& out) {
                                          out = data;
                                          return Status(Ok{});
                                        });
    if (!st) throw std::runtime_error(st.error().message);
  }
  const std::string path = test::scratch_dir() + "/config-test.gguf";
  const Status st = writer.write(path);
  if (!st) throw std::runtime_error(st.error().message);
  std::unique_ptr<Model> m = parse(test::read_bytes(path));
  std::filesystem::remove(path);
  return m;
}

std::unique_ptr<Model> with(const std::string& suffix, OwnedValue value) {
  return micro_model([&](gguf::Writer& w) { w.set("hunyuan-dense." + suffix, std::move(value)); });
}

// read_config's error for the model; fails the test if it is accepted.
std::string config_error(const Model& m) {
  Result<ModelConfig> c = read_config(m.file);
  if (c.ok()) return "(accepted)";
  return c.error().message;
}

const kernels::KernelTable& scalar() { return *kernels::kernels_for_isa("scalar"); }

TEST(ConfigSanity, MicroModelReadsAndBinds) {
  const std::unique_ptr<Model> m = micro_model();
  Result<ModelConfig> c = read_config(m->file);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->n_layer, 2);
  EXPECT_EQ(c->n_embd, 64);
  EXPECT_EQ(c->n_vocab, 16);
  Result<ModelWeights> w = bind_weights(m->file, *c, scalar());
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->layers.size(), 2u);
}

// Issue 18: an epsilon of 3e38 gave all-zero logits with exit 0.
TEST(ConfigSanity, RmsEpsilonOutsideZeroToOneIsRefused) {
  EXPECT_EQ(config_error(*with("attention.layer_norm_rms_epsilon", OwnedValue::f32(3e38f))),
            "metadata key 'hunyuan-dense.attention.layer_norm_rms_epsilon' is 3e+38, expected a number in (0, 1)");
  for (double bad : {0.0, 1.0, -1e-5, 1e300})
    EXPECT_NE(config_error(*with("attention.layer_norm_rms_epsilon", OwnedValue::f64(bad))).find("(0, 1)"),
              std::string::npos) << bad;
  EXPECT_NE(config_error(*with("attention.layer_norm_rms_epsilon", OwnedValue::f64(1e-50))).find("rounds to 0"),
            std::string::npos);
  Result<ModelConfig> ok = read_config(with("attention.layer_norm_rms_epsilon", OwnedValue::f32(1e-6f))->file);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_FLOAT_EQ(ok->rms_norm_eps, 1e-6f);
}

// Issue 18: a rope freq_base of 1e-45 was accepted.
TEST(ConfigSanity, RopeBaseAtMostOneIsRefused) {
  EXPECT_EQ(config_error(*with("rope.freq_base", OwnedValue::f32(1e-45f))),
            "metadata key 'hunyuan-dense.rope.freq_base' is 1.4013e-45, expected a number in (1, 1e+12]");
  for (double bad : {1.0, 0.0, -10000.0, 1e13, 1e300})
    EXPECT_NE(config_error(*with("rope.freq_base", OwnedValue::f64(bad))).find("rope.freq_base' is"),
              std::string::npos) << bad;
}

// Issue 18: block_count 16777216 made bind_weights reserve 16M layers
// (12 s and 2.1 GB under ASan) before it found the first missing tensor.
TEST(ConfigSanity, HugeBlockCountIsRefusedBeforeAnythingIsReserved) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(config_error(*with("block_count", OwnedValue::u32(16777216))),
            "metadata key 'hunyuan-dense.block_count' is 16777216, expected a count in 1..1024");
  EXPECT_EQ(config_error(*with("block_count", OwnedValue::u32(1000))),
            "metadata key 'hunyuan-dense.block_count' is 1000, but the file has 24 tensors (each block needs 11)");
  EXPECT_EQ(config_error(*with("block_count", OwnedValue::u32(3))),
            "metadata key 'hunyuan-dense.block_count' is 3, but the file has 24 tensors (each block needs 11)");

  // bind_weights does not trust a config made elsewhere either.
  const std::unique_ptr<Model> m = micro_model();
  Result<ModelConfig> c = read_config(m->file);
  ASSERT_TRUE(c.ok()) << c.error().message;
  ModelConfig huge = *c;
  huge.n_layer = 16777216;
  Result<ModelWeights> w = bind_weights(m->file, huge, scalar());
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().message, "block_count 16777216 needs 11 tensors per block, but the file has 24 tensors");
  // A count the table could hold but whose last block is absent (blk.1
  // renamed to blk.7) fails on that lookup, before the layers are reserved.
  const std::unique_ptr<Model> gap = micro_model({}, [](std::string name) {
    return name.starts_with("blk.1.") ? "blk.7." + name.substr(6) : name;
  });
  Result<ModelWeights> missing = bind_weights(gap->file, *c, scalar());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "block_count is 2, but tensor 'blk.1.attn_norm.weight' is missing from the model");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ConfigSanity, HeadCountsMustDivide) {
  EXPECT_EQ(config_error(*with("attention.head_count_kv", OwnedValue::u32(3))),
            "metadata key 'hunyuan-dense.attention.head_count' is 2, not a multiple of "
            "'hunyuan-dense.attention.head_count_kv' 3");
  EXPECT_EQ(config_error(*micro_model([](gguf::Writer& w) {
              w.remove("hunyuan-dense.attention.key_length");
              w.remove("hunyuan-dense.attention.value_length");
              w.set("hunyuan-dense.attention.head_count", OwnedValue::u32(3));
              w.set("hunyuan-dense.attention.head_count_kv", OwnedValue::u32(1));
            })),
            "metadata key 'hunyuan-dense.embedding_length' is 64, not a multiple of "
            "'hunyuan-dense.attention.head_count' 3 (and attention.key_length is absent)");
  EXPECT_EQ(config_error(*with("attention.value_length", OwnedValue::u32(16))),
            "metadata key 'hunyuan-dense.attention.value_length' is 16, but key_length is 32; "
            "hy2bit needs them equal");
  EXPECT_EQ(config_error(*with("rope.dimension_count", OwnedValue::u32(7))),
            "metadata key 'hunyuan-dense.rope.dimension_count' is 7, expected an even number at most the head size 32");
}

TEST(ConfigSanity, AbsurdSizesAreRefusedWithKeyAndValue) {
  struct Case { const char* suffix; uint64_t value; const char* expected; };
  for (const Case& k : {Case{"embedding_length", 1 << 20, "'hunyuan-dense.embedding_length' is 1048576, expected a count in 1..65536"},
                        Case{"feed_forward_length", 0, "'hunyuan-dense.feed_forward_length' is 0, expected a count in 1..262144"},
                        Case{"attention.head_count", 4096, "'hunyuan-dense.attention.head_count' is 4096, expected a count in 1..1024"},
                        Case{"attention.key_length", 4096, "'hunyuan-dense.attention.key_length' is 4096, expected a count in 1..1024"},
                        Case{"context_length", uint64_t{1} << 32, "'hunyuan-dense.context_length' is 4294967296, expected a count in 1..16777216"}}) {
    EXPECT_EQ(config_error(*with(k.suffix, OwnedValue::u64(k.value))), std::string("metadata key ") + k.expected);
  }
}

TEST(ConfigSanity, RopeScalingIsNoneOrLinearWithAFactor) {
  EXPECT_EQ(config_error(*with("rope.scaling.type", OwnedValue::string("yarn"))),
            "metadata key 'hunyuan-dense.rope.scaling.type' is 'yarn'; hy2bit runs only 'none' and 'linear'");
  EXPECT_EQ(config_error(*micro_model([](gguf::Writer& w) {
              w.set("hunyuan-dense.rope.scaling.type", OwnedValue::string("linear"));
              w.remove("hunyuan-dense.rope.scaling.factor");
            })),
            "metadata key 'hunyuan-dense.rope.scaling.type' is linear, but 'hunyuan-dense.rope.scaling.factor' is missing");
  EXPECT_EQ(config_error(*micro_model([](gguf::Writer& w) {
              w.set("hunyuan-dense.rope.scaling.type", OwnedValue::string("linear"));
              w.set("hunyuan-dense.rope.scaling.factor", OwnedValue::f32(-2.0f));
            })),
            "metadata key 'hunyuan-dense.rope.scaling.factor' is -2, expected a number in (0, 1024]");
  Result<ModelConfig> linear = read_config(micro_model([](gguf::Writer& w) {
                                             w.set("hunyuan-dense.rope.scaling.type", OwnedValue::string("linear"));
                                             w.set("hunyuan-dense.rope.scaling.factor", OwnedValue::f32(4.0f));
                                           })->file);
  ASSERT_TRUE(linear.ok()) << linear.error().message;
  EXPECT_FLOAT_EQ(linear->rope_freq_scale, 0.25f);
}

}  // namespace
}  // namespace hy2bit::model
