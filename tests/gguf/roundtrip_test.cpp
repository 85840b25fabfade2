// Writer -> file -> reader round trips: every metadata type (nested arrays
// included) and tensors of several types come back exactly, laid out with the
// alignment; plus the typed accessors and their error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <memory>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "gguf/mapped_file.h"
#include "support/test_support.h"

namespace hy2bit::gguf {
namespace {

std::vector<uint8_t> pattern_bytes(size_t n, uint32_t seed) {
  std::vector<uint8_t> out(n);
  uint32_t x = seed * 2654435761u + 1;
  for (uint8_t& b : out) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    b = static_cast<uint8_t>(x);
  }
  return out;
}

TensorBytesFn bytes_of(std::vector<uint8_t> data) {
  return [data = std::move(data)](std::vector<uint8_t>& out) -> Status {
    out = data;
    return Ok{};
  };
}

OwnedValue typed(ValueType type, std::variant<uint64_t, int64_t, double> v) {
  OwnedValue out;
  out.type = type;
  std::visit([&](auto x) { out.data = x; }, v);
  return out;
}

struct TensorCase {
  std::string name;
  formats::TypeId type;
  std::vector<int64_t> ne;
  size_t n_bytes;  // expected size, computed by hand
};

// The tensors of the round trip: sizes chosen so several need padding.
std::vector<TensorCase> tensor_cases() {
  return {
      {"norm.weight", formats::TypeId::kF32, {7}, 28},
      {"half", formats::TypeId::kF16, {5, 3}, 30},
      {"q8", formats::TypeId::kQ8_0, {64, 2}, 4 * 34},
      {"blk.0.attn_q.weight", formats::TypeId::kQ2_0C, {512, 3}, 3 * 130},
      {"q6k", formats::TypeId::kQ6_K, {256, 1, 2}, 2 * 210},
      {"q4", formats::TypeId::kQ4_0, {32, 1, 1, 3}, 3 * 18},
      {"brain", formats::TypeId::kBF16, {3, 1}, 6},
      {"empty", formats::TypeId::kF32, {0, 4}, 0},
  };
}

using namespace std::literals;
// Multi-byte UTF-8, control characters and an embedded NUL survive a round trip.
constexpr std::string_view kUnicode = "<｜hy_begin▁of▁sentence｜> \n\t\0x"sv;

std::string scratch_file(const std::string& name) { return test::scratch_dir() + "/" + name; }

TEST(GgufRoundTrip, EveryValueTypeAndSeveralTensorTypes) {
  Writer writer;
  writer.set("general.architecture", OwnedValue::string("hunyuan-dense"));
  writer.set("u8", typed(ValueType::kUint8, uint64_t{200}));
  writer.set("i8", typed(ValueType::kInt8, int64_t{-100}));
  writer.set("u16", typed(ValueType::kUint16, uint64_t{65535}));
  writer.set("i16", typed(ValueType::kInt16, int64_t{-32768}));
  writer.set("u32", OwnedValue::u32(4000000000u));
  writer.set("i32", OwnedValue::i32(-2000000000));
  writer.set("u64", OwnedValue::u64(UINT64_MAX));
  writer.set("i64", OwnedValue::i64(INT64_MIN));
  writer.set("f32", OwnedValue::f32(1e-5f));
  writer.set("f64", OwnedValue::f64(-3.141592653589793));
  writer.set("true", OwnedValue::boolean(true));
  writer.set("false", OwnedValue::boolean(false));
  writer.set("empty_string", OwnedValue::string(""));
  writer.set("unicode", OwnedValue::string(std::string(kUnicode)));
  writer.set("tokens", OwnedValue::string_array({"a", "", "Ġthe", "<｜hy_User｜>"}));
  writer.set("ids", OwnedValue::i32_array({1, -2, 2147483647}));
  writer.set("scores", OwnedValue::f32_array({0.5f, -1.25f, INFINITY}));
  writer.set("empty_array", OwnedValue::array(ValueType::kUint64, {}));
  writer.set("bools", OwnedValue::array(ValueType::kBool, {OwnedValue::boolean(false), OwnedValue::boolean(true)}));
  writer.set("nested", OwnedValue::array(ValueType::kArray,
                                         {OwnedValue::string_array({"x", "y"}),
                                          OwnedValue::array(ValueType::kArray, {OwnedValue::i32_array({7})}),
                                          OwnedValue::array(ValueType::kInt8, {})}));
  writer.set("u32", OwnedValue::u32(42));  // replaces the value, keeps the first position

  const std::vector<TensorCase> cases = tensor_cases();
  for (size_t i = 0; i < cases.size(); ++i)
    ASSERT_TRUE(writer.add_tensor(cases[i].name, cases[i].type, cases[i].ne,
                                  bytes_of(pattern_bytes(cases[i].n_bytes, static_cast<uint32_t>(i))))
                    .ok());

  const std::string path = scratch_file("roundtrip.gguf");
  std::vector<std::pair<size_t, size_t>> progress;
  Status st = writer.write(path, [&](size_t done, size_t total) { progress.emplace_back(done, total); });
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  ASSERT_EQ(progress.size(), cases.size());
  for (size_t i = 0; i < progress.size(); ++i) EXPECT_EQ(progress[i], std::make_pair(i + 1, cases.size()));

  Result<std::unique_ptr<MappedFile>> mapped = MappedFile::open(path);
  ASSERT_TRUE(mapped.ok()) << mapped.error().message;
  Result<File> parsed = File::parse((*mapped)->bytes());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const File& file = *parsed;

  EXPECT_EQ(file.version(), 3u);
  EXPECT_EQ(file.alignment(), 32u);
  EXPECT_EQ(file.find("general.alignment"), nullptr);  // default alignment: no key
  const std::vector<std::string> expected_keys = {
      "general.architecture", "u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64",
      "true", "false", "empty_string", "unicode", "tokens", "ids", "scores", "empty_array", "bools", "nested"};
  ASSERT_EQ(file.metadata().size(), expected_keys.size());
  for (size_t i = 0; i < expected_keys.size(); ++i) EXPECT_EQ(file.metadata()[i].first, expected_keys[i]);

  EXPECT_EQ(*file.get_string("general.architecture"), "hunyuan-dense");
  EXPECT_EQ(file.find("u8")->type, ValueType::kUint8);
  EXPECT_EQ(*file.get_uint("u8"), 200u);
  EXPECT_EQ(file.find("i8")->type, ValueType::kInt8);
  EXPECT_EQ(*file.find("i8")->as_int(), -100);
  EXPECT_EQ(file.find("u16")->type, ValueType::kUint16);
  EXPECT_EQ(*file.get_uint("u16"), 65535u);
  EXPECT_EQ(*file.find("i16")->as_int(), -32768);
  EXPECT_EQ(file.find("u32")->type, ValueType::kUint32);
  EXPECT_EQ(*file.get_uint("u32"), 42u);
  EXPECT_EQ(*file.find("i32")->as_int(), -2000000000);
  EXPECT_EQ(*file.get_uint("u64"), UINT64_MAX);
  EXPECT_EQ(file.find("u64")->as_int(), std::nullopt);  // does not fit int64
  EXPECT_EQ(*file.find("i64")->as_int(), INT64_MIN);
  EXPECT_EQ(file.find("i64")->type, ValueType::kInt64);
  EXPECT_EQ(file.find("f32")->type, ValueType::kFloat32);
  EXPECT_EQ(*file.get_float("f32"), static_cast<double>(1e-5f));
  EXPECT_EQ(file.find("f64")->type, ValueType::kFloat64);
  EXPECT_EQ(*file.get_float("f64"), -3.141592653589793);
  EXPECT_EQ(*file.get_float("u32"), 42.0);  // any number reads as float
  EXPECT_TRUE(*file.get_bool("true"));
  EXPECT_FALSE(*file.get_bool("false"));
  EXPECT_EQ(*file.get_string("empty_string"), "");
  EXPECT_EQ(*file.get_string("unicode"), kUnicode);

  const Array* tokens = file.find("tokens")->as_array();
  ASSERT_NE(tokens, nullptr);
  EXPECT_EQ(tokens->elem_type, ValueType::kString);
  ASSERT_EQ(tokens->elems.size(), 4u);
  EXPECT_EQ(*tokens->elems[2].as_string(), "Ġthe");
  EXPECT_EQ(*tokens->elems[1].as_string(), "");
  const Array* ids = file.find("ids")->as_array();
  ASSERT_EQ(ids->elems.size(), 3u);
  EXPECT_EQ(ids->elem_type, ValueType::kInt32);
  EXPECT_EQ(*ids->elems[1].as_int(), -2);
  EXPECT_EQ(*ids->elems[2].as_int(), 2147483647);
  const Array* scores = file.find("scores")->as_array();
  EXPECT_EQ(*scores->elems[1].as_float(), -1.25);
  EXPECT_TRUE(std::isinf(*scores->elems[2].as_float()));
  const Array* empty = file.find("empty_array")->as_array();
  EXPECT_EQ(empty->elem_type, ValueType::kUint64);
  EXPECT_TRUE(empty->elems.empty());
  const Array* bools = file.find("bools")->as_array();
  EXPECT_FALSE(*bools->elems[0].as_bool());
  EXPECT_TRUE(*bools->elems[1].as_bool());
  const Array* nested = file.find("nested")->as_array();
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(nested->elem_type, ValueType::kArray);
  ASSERT_EQ(nested->elems.size(), 3u);
  EXPECT_EQ(*nested->elems[0].as_array()->elems[1].as_string(), "y");
  const Array* inner = nested->elems[1].as_array()->elems[0].as_array();
  ASSERT_NE(inner, nullptr);
  EXPECT_EQ(*inner->elems[0].as_int(), 7);
  EXPECT_EQ(nested->elems[2].as_array()->elem_type, ValueType::kInt8);

  // Tensors: table order, shapes, types, aligned contiguous offsets, bytes.
  ASSERT_EQ(file.tensors().size(), cases.size());
  EXPECT_EQ(file.data_offset() % 32, 0u);
  uint64_t expected_offset = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const TensorInfo& t = file.tensors()[i];
    SCOPED_TRACE(cases[i].name);
    EXPECT_EQ(t.name, cases[i].name);
    EXPECT_EQ(&t, file.find_tensor(cases[i].name));
    EXPECT_EQ(t.type.id, cases[i].type);
    ASSERT_EQ(t.n_dims, static_cast<int>(cases[i].ne.size()));
    for (int d = 0; d < kMaxDims; ++d)
      EXPECT_EQ(t.ne[d], d < t.n_dims ? cases[i].ne[static_cast<size_t>(d)] : 1);
    EXPECT_EQ(t.n_bytes, cases[i].n_bytes);
    EXPECT_EQ(t.offset, expected_offset);
    EXPECT_EQ(t.offset % 32, 0u);
    EXPECT_EQ(t.data.data(), (*mapped)->bytes().data() + file.data_offset() + t.offset);
    const std::vector<uint8_t> want = pattern_bytes(cases[i].n_bytes, static_cast<uint32_t>(i));
    EXPECT_TRUE(std::equal(t.data.begin(), t.data.end(), want.begin(), want.end()));
    expected_offset += (cases[i].n_bytes + 31) / 32 * 32;
  }
  EXPECT_EQ(file.find_tensor("missing"), nullptr);
  EXPECT_EQ((*mapped)->bytes().size(), file.data_offset() + expected_offset);
  EXPECT_EQ(file.tensors()[3].type.name, "q2_0c");
}

TEST(GgufRoundTrip, NonDefaultAlignmentIsWrittenAndUsed) {
  Writer writer(64);
  writer.set("general.name", OwnedValue::string("x"));
  writer.set("general.alignment", OwnedValue::u32(32));  // e.g. copied from another file: corrected
  writer.set("after", OwnedValue::u32(1));
  ASSERT_TRUE(writer.add_tensor("a", formats::TypeId::kF32, {3}, bytes_of(pattern_bytes(12, 1))).ok());
  ASSERT_TRUE(writer.add_tensor("b", formats::TypeId::kF16, {40}, bytes_of(pattern_bytes(80, 2))).ok());
  const std::string path = scratch_file("align64.gguf");
  ASSERT_TRUE(writer.write(path).ok());
  const std::vector<uint8_t> bytes = test::read_bytes(path);
  Result<File> file = File::parse(bytes);
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->alignment(), 64u);
  EXPECT_EQ(file->metadata()[1].first, "general.alignment");
  EXPECT_EQ(file->find("general.alignment")->type, ValueType::kUint32);
  EXPECT_EQ(*file->get_uint("general.alignment"), 64u);
  EXPECT_EQ(file->data_offset() % 64, 0u);
  EXPECT_EQ(file->tensors()[1].offset, 64u);
  EXPECT_EQ(bytes.size(), file->data_offset() + 64 + 128);
}

TEST(GgufRoundTrip, DefaultAlignmentDropsACopiedAlignmentKey) {
  Writer writer;
  writer.set("general.alignment", OwnedValue::u32(64));
  writer.set("k", OwnedValue::u32(1));
  const std::string path = scratch_file("align32.gguf");
  ASSERT_TRUE(writer.write(path).ok());
  const std::vector<uint8_t> bytes = test::read_bytes(path);
  Result<File> file = File::parse(bytes);
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->alignment(), 32u);
  ASSERT_EQ(file->metadata().size(), 1u);
  EXPECT_EQ(file->metadata()[0].first, "k");
  EXPECT_TRUE(file->tensors().empty());
}

TEST(GgufRoundTrip, CopyOfKeepsTypesAndNesting) {
  Writer writer;
  writer.set("nested", OwnedValue::array(ValueType::kArray,
                                         {OwnedValue::array(ValueType::kUint16, {typed(ValueType::kUint16, uint64_t{9})})}));
  writer.set("i8", typed(ValueType::kInt8, int64_t{-1}));
  const std::string first = scratch_file("copy1.gguf");
  ASSERT_TRUE(writer.write(first).ok());
  const std::vector<uint8_t> bytes = test::read_bytes(first);
  Result<File> file = File::parse(bytes);
  ASSERT_TRUE(file.ok());
  Writer copy;
  for (const auto& [key, value] : file->metadata()) copy.set(std::string(key), OwnedValue::copy_of(value));
  const std::string second = scratch_file("copy2.gguf");
  ASSERT_TRUE(copy.write(second).ok());
  EXPECT_EQ(test::read_bytes(second), bytes);
}

TEST(GgufValue, AccessorsAcceptOnlyValuesThatFit) {
  Value negative{ValueType::kInt32, int64_t{-5}};
  EXPECT_EQ(negative.as_uint(), std::nullopt);
  EXPECT_EQ(*negative.as_int(), -5);
  EXPECT_EQ(*negative.as_float(), -5.0);
  EXPECT_EQ(negative.as_bool(), std::nullopt);
  EXPECT_EQ(negative.as_string(), std::nullopt);
  EXPECT_EQ(negative.as_array(), nullptr);
  Value positive{ValueType::kInt64, int64_t{5}};
  EXPECT_EQ(*positive.as_uint(), 5u);
  Value big{ValueType::kUint64, uint64_t{1} << 63};
  EXPECT_EQ(big.as_int(), std::nullopt);
  EXPECT_EQ(*big.as_uint(), uint64_t{1} << 63);
  Value real{ValueType::kFloat32, 2.0};
  EXPECT_EQ(real.as_uint(), std::nullopt);
  EXPECT_EQ(real.as_int(), std::nullopt);
  Value flag{ValueType::kBool, true};
  EXPECT_EQ(flag.as_uint(), std::nullopt);
  EXPECT_EQ(flag.as_float(), std::nullopt);
  EXPECT_TRUE(*flag.as_bool());
}

TEST(GgufValue, TypedLookupsNameTheKeyInErrors) {
  Writer writer;
  writer.set("neg", OwnedValue::i32(-3));
  writer.set("text", OwnedValue::string("hi"));
  writer.set("list", OwnedValue::i32_array({1}));
  const std::string path = scratch_file("lookups.gguf");
  ASSERT_TRUE(writer.write(path).ok());
  const std::vector<uint8_t> bytes = test::read_bytes(path);
  Result<File> file = File::parse(bytes);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->get_uint("nope").error().message, "metadata key 'nope' is missing");
  EXPECT_EQ(file->get_uint("neg").error().message, "metadata key 'neg' is -3, expected a non-negative integer");
  EXPECT_EQ(file->get_uint("text").error().message,
            "metadata key 'text' has type string, expected an unsigned integer");
  EXPECT_EQ(file->get_float("text").error().message, "metadata key 'text' has type string, expected a number");
  EXPECT_EQ(file->get_string("neg").error().message, "metadata key 'neg' has type int32, expected a string");
  EXPECT_EQ(file->get_bool("list").error().message,
            "metadata key 'list' has type array of int32, expected a bool");
  EXPECT_EQ(file->get_string("nope").error().message, "metadata key 'nope' is missing");
}

TEST(GgufWriterChecks, RejectsBadTensorsWhenAdded) {
  Writer writer;
  const auto none = bytes_of({});
  ASSERT_TRUE(writer.add_tensor("t", formats::TypeId::kF32, {4}, bytes_of(pattern_bytes(16, 0))).ok());
  EXPECT_NE(writer.add_tensor("t", formats::TypeId::kF32, {4}, none).error().message.find("twice"),
            std::string::npos);
  EXPECT_NE(writer.add_tensor("q", formats::TypeId::kQ2_0C, {256, 2}, none).error().message.find("multiple of"),
            std::string::npos);
  EXPECT_NE(writer.add_tensor("d", formats::TypeId::kF32, {1, 1, 1, 1, 1}, none).error().message.find("5 dimensions"),
            std::string::npos);
  EXPECT_NE(writer.add_tensor("n", formats::TypeId::kF32, {-1}, none).error().message.find("negative"),
            std::string::npos);
  EXPECT_NE(writer.add_tensor("o", formats::TypeId::kF32, {INT64_MAX, 2}, none).error().message.find("64 bits"),
            std::string::npos);
  EXPECT_NE(writer.add_tensor("", formats::TypeId::kF32, {1}, none).error().message.find("empty"),
            std::string::npos);
  EXPECT_NE(writer.add_tensor("u", static_cast<formats::TypeId>(12), {256}, none).error().message.find("type id 12"),
            std::string::npos);
  EXPECT_FALSE(writer.add_tensor("f", formats::TypeId::kF32, {1}, TensorBytesFn()).ok());
}

TEST(GgufWriterChecks, RejectsValuesThatDoNotMatchTheirType) {
  const std::string path = scratch_file("badvalue.gguf");
  {
    Writer writer;
    writer.set("small", typed(ValueType::kUint8, uint64_t{300}));
    Status st = writer.write(path);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().message, "metadata key 'small': value 300 does not fit type uint8");
  }
  {
    Writer writer;
    OwnedValue v = OwnedValue::string("x");
    v.type = ValueType::kUint32;
    writer.set("mixed", v);
    Status st = writer.write(path);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().message, "metadata key 'mixed': value of type uint32 holds a string");
  }
  {
    Writer writer;
    writer.set("arr", OwnedValue::array(ValueType::kInt32, {OwnedValue::i32(1), OwnedValue::u32(2)}));
    Status st = writer.write(path);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().message, "metadata key 'arr': element 1 has type uint32 in an array of int32");
  }
  {
    Writer writer(48);
    Status st = writer.write(path);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().message.find("alignment 48"), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

}  // namespace
}  // namespace hy2bit::gguf
