// The reader on files llama.cpp made (../shared/testdata): the tiny model in
// every type and the 102k-token vocabulary. Also checks that copying a file
// through the writer reproduces llama.cpp's bytes exactly (same layout rules).
#include <gtest/gtest.h>

#include <memory>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "gguf/mapped_file.h"
#include "support/test_support.h"

namespace hy2bit::gguf {
namespace {

struct Loaded {
  std::unique_ptr<MappedFile> mapped;
  File file;
};

Loaded load(const std::string& relative) {
  Result<std::unique_ptr<MappedFile>> mapped = MappedFile::open(test::testdata_path(relative));
  if (!mapped) throw std::runtime_error(mapped.error().message);
  Result<File> file = File::parse((*mapped)->bytes());
  if (!file) throw std::runtime_error(relative + ": " + file.error().message);
  return {std::move(*mapped), std::move(*file)};
}

bool is_linear_weight(std::string_view name) {
  for (std::string_view part : {"attn_q.", "attn_k.", "attn_v.", "attn_output.", "ffn_gate.", "ffn_up.", "ffn_down."})
    if (name.find(part) != std::string_view::npos) return true;
  return false;
}

struct ModelCase {
  const char* file;
  formats::TypeId linear;  // type of the attention and FFN weights
  formats::TypeId embd;    // type of token_embd.weight
};

class GgufTinyModel : public testing::TestWithParam<ModelCase> {};

TEST_P(GgufTinyModel, HasTheExpectedMetadataAndTensors) {
  const ModelCase& c = GetParam();
  const Loaded loaded = load(std::string("models/") + c.file);
  const File& f = loaded.file;
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(*f.get_string("general.architecture"), "hunyuan-dense");
  EXPECT_EQ(*f.get_uint("hunyuan-dense.block_count"), 2u);
  EXPECT_EQ(*f.get_uint("hunyuan-dense.embedding_length"), 512u);
  EXPECT_NEAR(*f.get_float("hunyuan-dense.attention.layer_norm_rms_epsilon"), 1e-5, 1e-12);
  EXPECT_EQ(*f.get_uint("tokenizer.ggml.bos_token_id"), 984u);
  EXPECT_EQ(*f.get_uint("tokenizer.ggml.eos_token_id"), 989u);
  EXPECT_TRUE(*f.get_bool("tokenizer.ggml.add_bos_token"));
  const Array* tokens = f.find("tokenizer.ggml.tokens")->as_array();
  ASSERT_NE(tokens, nullptr);
  EXPECT_EQ(tokens->elem_type, ValueType::kString);
  EXPECT_EQ(tokens->elems.size(), 1000u);
  EXPECT_EQ(f.find("tokenizer.ggml.token_type")->as_array()->elems.size(), 1000u);

  // 2 layers x 11 tensors, output_norm and token_embd (embeddings are tied).
  ASSERT_EQ(f.tensors().size(), 24u);
  int n_linear = 0;
  for (const TensorInfo& t : f.tensors()) {
    SCOPED_TRACE(std::string(t.name));
    EXPECT_EQ(t.offset % 32, 0u);
    EXPECT_EQ(t.data.size(), t.n_bytes);
    if (is_linear_weight(t.name)) {
      ++n_linear;
      EXPECT_EQ(t.type.id, c.linear);
      EXPECT_EQ(t.n_dims, 2);
    } else if (t.name.ends_with("norm.weight")) {
      EXPECT_EQ(t.type.id, formats::TypeId::kF32);
      EXPECT_EQ(t.n_dims, 1);
    }
  }
  EXPECT_EQ(n_linear, 14);
  const TensorInfo* embd = f.find_tensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  EXPECT_EQ(embd->type.id, c.embd);
  EXPECT_EQ(embd->ne[0], 512);
  EXPECT_EQ(embd->ne[1], 1000);
  const TensorInfo* q = f.find_tensor("blk.0.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->n_elems(), 512 * 512);
  const TensorInfo* down = f.find_tensor("blk.1.ffn_down.weight");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->ne[0], 1024);
  EXPECT_EQ(down->ne[1], 512);
  EXPECT_EQ(f.find_tensor("blk.0.attn_k.weight")->n_rows(), 256);
  // The last tensor ends at the end of the file.
  const TensorInfo& last = f.tensors().back();
  EXPECT_EQ(last.data.data() + last.data.size(), loaded.mapped->bytes().data() + loaded.mapped->bytes().size());
}

INSTANTIATE_TEST_SUITE_P(
    AllTypes, GgufTinyModel,
    testing::Values(ModelCase{"hy-tiny-f16.gguf", formats::TypeId::kF16, formats::TypeId::kF16},
                    ModelCase{"hy-tiny-bf16.gguf", formats::TypeId::kBF16, formats::TypeId::kBF16},
                    ModelCase{"hy-tiny-q8_0.gguf", formats::TypeId::kQ8_0, formats::TypeId::kQ8_0},
                    ModelCase{"hy-tiny-q4_0.gguf", formats::TypeId::kQ4_0, formats::TypeId::kQ6_K},
                    ModelCase{"hy-tiny-q2_0c.gguf", formats::TypeId::kQ2_0C, formats::TypeId::kQ6_K}),
    [](const testing::TestParamInfo<ModelCase>& info) {
      std::string name = info.param.file;
      name = name.substr(8, name.size() - 8 - 5);  // "hy-tiny-" ... ".gguf"
      for (char& ch : name)
        if (ch == '-' || ch == '.') ch = '_';
      return name;
    });

TEST(GgufReferenceFiles, Q2_0cTensorSizesAre130BytesPer512Weights) {
  const Loaded loaded = load("models/hy-tiny-q2_0c.gguf");
  const TensorInfo* up = loaded.file.find_tensor("blk.0.ffn_up.weight");
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->type.name, "q2_0c");
  EXPECT_EQ(up->n_bytes, 1024u * 130u);  // 1024 rows of one 512-weight block
  EXPECT_EQ(loaded.file.find_tensor("token_embd.weight")->n_bytes, 1000u * 2u * 210u);
  EXPECT_EQ(*loaded.file.get_uint("general.file_type"), 39u);
}

TEST(GgufReferenceFiles, VocabularyFileParses) {
  Result<std::unique_ptr<MappedFile>> mapped = MappedFile::open(test::testdata_path("tokenizer/hy-vocab.gguf"));
  ASSERT_TRUE(mapped.ok()) << mapped.error().message;
  Result<File> file = File::parse((*mapped)->bytes());
  ASSERT_TRUE(file.ok()) << file.error().message;
  const Array* tokens = file->find("tokenizer.ggml.tokens")->as_array();
  ASSERT_NE(tokens, nullptr);
  EXPECT_EQ(tokens->elems.size(), 102408u);
  EXPECT_EQ(*tokens->elems[102400].as_string(), "<｜hy_begin▁of▁sentence｜>");
  EXPECT_EQ(*tokens->elems[102405].as_string(), "<｜hy_place▁holder▁no▁2｜>");
  EXPECT_EQ(*tokens->elems[0].as_string(), "!");
  const Array* merges = file->find("tokenizer.ggml.merges")->as_array();
  EXPECT_EQ(merges->elems.size(), 99757u);
  EXPECT_EQ(*merges->elems[0].as_string(), "Ġ Ġ");
  EXPECT_EQ(*file->get_uint("tokenizer.ggml.bos_token_id"), 102400u);
  EXPECT_EQ(*file->get_string("tokenizer.ggml.pre"), "hunyuan-dense");
  EXPECT_TRUE(file->tensors().empty());
}

// Copying metadata and tensor bytes through the writer gives llama.cpp's file
// byte for byte: same header, value encodings, table, padding and offsets.
// A loaded model keeps only the tensor table (hy2bit::Model drops the rest).
TEST(GgufReferenceFiles, DroppingTheMetadataKeepsTheTensorTable) {
  Loaded loaded = load("models/hy-tiny-q8_0.gguf");
  const size_t n_tensors = loaded.file.tensors().size();
  const TensorInfo before = *loaded.file.find_tensor("token_embd.weight");
  ASSERT_NE(loaded.file.find("tokenizer.ggml.tokens"), nullptr);
  loaded.file.drop_metadata();
  EXPECT_TRUE(loaded.file.metadata().empty());
  EXPECT_EQ(loaded.file.find("tokenizer.ggml.tokens"), nullptr);
  EXPECT_FALSE(loaded.file.get_string("general.architecture").ok());
  EXPECT_EQ(loaded.file.tensors().size(), n_tensors);
  const TensorInfo* after = loaded.file.find_tensor("token_embd.weight");
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->data.data(), before.data.data());
  EXPECT_EQ(after->n_bytes, before.n_bytes);
}

TEST(GgufReferenceFiles, WriterReproducesLlamaCppFilesExactly) {
  for (const char* name : {"models/hy-tiny-q2_0c.gguf", "models/hy-tiny-q4_0.gguf", "tokenizer/hy-vocab.gguf"}) {
    SCOPED_TRACE(name);
    const Loaded loaded = load(name);
    Writer writer(loaded.file.alignment());
    for (const auto& [key, value] : loaded.file.metadata()) writer.set(std::string(key), OwnedValue::copy_of(value));
    for (const TensorInfo& t : loaded.file.tensors()) {
      const std::span<const uint8_t> data = t.data;
      Status st = writer.add_tensor(std::string(t.name), t.type.id, std::vector<int64_t>(t.ne, t.ne + t.n_dims),
                                    [data](std::vector<uint8_t>& out) -> Status {
                                      out.assign(data.begin(), data.end());
                                      return Ok{};
                                    });
      ASSERT_TRUE(st.ok()) << st.error().message;
    }
    const std::string out = test::scratch_dir() + "/copy.gguf";
    Status st = writer.write(out);
    ASSERT_TRUE(st.ok()) << st.error().message;
    const std::vector<uint8_t> copy = test::read_bytes(out);
    const std::span<const uint8_t> original = loaded.mapped->bytes();
    ASSERT_EQ(copy.size(), original.size());
    EXPECT_TRUE(std::equal(copy.begin(), copy.end(), original.begin()));
  }
}

}  // namespace
}  // namespace hy2bit::gguf
