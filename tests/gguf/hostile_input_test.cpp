// Hostile GGUF input parsed from memory: every truncation of a valid file,
// one-field corruptions (counts, lengths, types, shapes, offsets, duplicates,
// alignment, the id-40 ambiguity) and a seeded random-mutation fuzz loop.
// Each must give a one-line Error naming the culprit, never a crash.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "gguf/raw_gguf.h"
#include "support/test_support.h"

namespace hy2bit::gguf {
namespace {

using test::RawBytes;
using test::RawFile;
using test::raw_kv;
using test::raw_kv_string;
using test::raw_kv_u32;

constexpr uint32_t kTypeF32 = 0;
constexpr uint32_t kTypeQ8_0 = 8;
constexpr uint32_t kTypeId40 = 40;

// A parse of a copy sized exactly to the input, so ASan flags any read past
// it. The copy lives with the result, since the File's views point into it.
struct Parsed {
  std::vector<uint8_t> bytes;
  Result<File> file;
};
Parsed parse_copy(const std::vector<uint8_t>& bytes) {
  std::vector<uint8_t> copy(bytes);
  Result<File> file = File::parse(copy);
  return {std::move(copy), std::move(file)};  // moving the vector keeps its buffer
}

// Reads every value and tensor byte of a parsed file (ASan checks the views).
uint64_t touch_value(const Value& v) {
  uint64_t sum = 0;
  if (const auto s = v.as_string()) {
    for (const char ch : *s) sum += static_cast<unsigned char>(ch);
  } else if (const Array* a = v.as_array()) {
    for (const Value& e : a->elems) sum += touch_value(e);
  } else if (const auto u = v.as_uint()) {
    sum += *u;
  }
  return sum;
}
uint64_t touch(const File& f) {
  uint64_t sum = 0;
  for (const auto& [key, value] : f.metadata()) sum += key.size() + touch_value(value);
  for (const TensorInfo& t : f.tensors()) {
    EXPECT_EQ(t.data.size(), t.n_bytes);
    EXPECT_GE(t.n_elems(), 0);
    for (const uint8_t b : t.data) sum += b;
  }
  return sum;
}

bool is_one_line(const std::string& message) {
  return !message.empty() && message.find('\n') == std::string::npos && message.find('\r') == std::string::npos;
}

// Expects `bytes` to fail with a one-line message containing each of `parts`.
void expect_error(const std::vector<uint8_t>& bytes, std::initializer_list<std::string_view> parts) {
  Parsed parsed = parse_copy(bytes);
  ASSERT_FALSE(parsed.file.ok()) << "parsed a file that should fail";
  const std::string& message = parsed.file.error().message;
  EXPECT_TRUE(is_one_line(message)) << message;
  for (std::string_view part : parts)
    EXPECT_NE(message.find(part), std::string::npos) << "message: " << message << "\nexpected to contain: " << part;
}

// A small valid file: two metadata entries and two tensors.
RawFile base_file() {
  RawFile f;
  f.kvs.push_back(raw_kv_string("general.architecture", "hunyuan-dense"));
  f.kvs.push_back(raw_kv("tokenizer.ggml.tokens", 9, RawBytes().u32(8).u64(3).str("a").str("bc").str("").bytes));
  f.add_tensor("tok", {8}, kTypeF32, 32);
  f.add_tensor("w", {32, 2}, kTypeQ8_0, 68);
  return f;
}

TEST(GgufHostile, BaseFileIsValid) {
  Parsed parsed = parse_copy(base_file().build());
  ASSERT_TRUE(parsed.file.ok()) << parsed.file.error().message;
  EXPECT_EQ(parsed.file->tensors().size(), 2u);
  EXPECT_EQ(parsed.file->tensors()[1].offset, 32u);
}

// A writer-made file under 4 KB whose last tensor needs no padding, so every
// strict prefix of it is missing something the reader needs.
std::vector<uint8_t> small_writer_file() {
  Writer writer;
  writer.set("general.architecture", OwnedValue::string("hunyuan-dense"));
  writer.set("hunyuan-dense.block_count", OwnedValue::u32(2));
  writer.set("eps", OwnedValue::f32(1e-5f));
  writer.set("flag", OwnedValue::boolean(true));
  writer.set("big", OwnedValue::i64(-7));
  writer.set("tokens", OwnedValue::string_array({"a", "b", "<｜hy_User｜>"}));
  writer.set("nested", OwnedValue::array(ValueType::kArray, {OwnedValue::i32_array({1, 2}), OwnedValue::f32_array({})}));
  auto fill = [](size_t n) {
    return [n](std::vector<uint8_t>& out) -> Status {
      out.resize(n);
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(i * 13 + 5);
      return Ok{};
    };
  };
  EXPECT_TRUE(writer.add_tensor("output_norm.weight", formats::TypeId::kF32, {5}, fill(20)).ok());
  EXPECT_TRUE(writer.add_tensor("blk.0.attn_q.weight", formats::TypeId::kQ2_0C, {512, 2}, fill(260)).ok());
  EXPECT_TRUE(writer.add_tensor("token_embd.weight", formats::TypeId::kQ8_0, {32, 16}, fill(544)).ok());
  const std::string path = test::scratch_dir() + "/hostile_base.gguf";
  EXPECT_TRUE(writer.write(path).ok());
  return test::read_bytes(path);
}

TEST(GgufHostile, EveryTruncationIsAnError) {
  const std::vector<uint8_t> full = small_writer_file();
  ASSERT_LT(full.size(), 4096u);
  Parsed parsed = parse_copy(full);
  ASSERT_TRUE(parsed.file.ok()) << parsed.file.error().message;
  ASSERT_EQ(544u % 32u, 0u);  // the last tensor ends the file exactly
  for (size_t len = 0; len < full.size(); ++len) {
    const std::vector<uint8_t> prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
    Result<File> file = File::parse(prefix);
    ASSERT_FALSE(file.ok()) << "a " << len << "-byte prefix of a " << full.size() << "-byte file parsed";
    ASSERT_TRUE(is_one_line(file.error().message)) << file.error().message;
  }
}

TEST(GgufHostile, HeaderProblems) {
  expect_error({}, {"empty"});
  expect_error({'G', 'G', 'U'}, {"3 bytes", "too short"});
  std::vector<uint8_t> bad_magic = base_file().build();
  bad_magic[0] = 'X';
  expect_error(bad_magic, {"'XGUF'", "expected the GGUF magic"});
  bad_magic[1] = 0x01;
  expect_error(bad_magic, {"\\x01"});  // control bytes are escaped, not printed
  for (uint32_t version : {1u, 2u}) {
    RawFile f = base_file();
    f.version = version;
    expect_error(f.build(), {"GGUF version " + std::to_string(version) + " is not supported", "version 3"});
  }
  RawFile v4 = base_file();
  v4.version = 4;
  expect_error(v4.build(), {"unknown GGUF version 4, expected 3"});
  RawFile big_endian = base_file();
  big_endian.version = 0x03000000;
  expect_error(big_endian.build(), {"big-endian"});
}

TEST(GgufHostile, HugeCounts) {
  RawFile f = base_file();
  f.n_tensors = uint64_t{1} << 62;
  expect_error(f.build(), {"claims 4611686018427387904 tensors", "truncated or corrupted"});
  f = base_file();
  f.n_kv = UINT64_MAX;
  expect_error(f.build(), {"claims 18446744073709551615 metadata entries"});
  f = base_file();
  f.n_kv = 3;  // one more than written: the tensor table is read as metadata
  expect_error(f.build(), {});
  f = base_file();
  f.n_tensors = 3;  // one more than written: padding and data read as a tensor entry
  expect_error(f.build(), {});
}

TEST(GgufHostile, StringLengths) {
  RawFile f = base_file();
  f.kvs[0] = RawBytes().u64(uint64_t{1} << 60).bytes;  // key length
  expect_error(f.build(), {"metadata entry 0", "length 1152921504606846976", "truncated or corrupted"});

  // A string value one byte longer than what is left (no padding after it).
  RawFile g;
  g.alignment = 1;
  g.kvs.push_back(raw_kv("k", 8, RawBytes().u64(6).bytes));
  std::vector<uint8_t> bytes = g.build();
  for (char c : std::string("hello")) bytes.push_back(static_cast<uint8_t>(c));
  expect_error(bytes, {"metadata key 'k'", "length 6 but only 5 bytes are left"});
  bytes.push_back('!');
  Parsed parsed = parse_copy(bytes);
  ASSERT_TRUE(parsed.file.ok()) << parsed.file.error().message;
  EXPECT_EQ(*parsed.file->get_string("k"), "hello!");

  f = base_file();
  f.kvs[1] = raw_kv("tokenizer.ggml.tokens", 9, RawBytes().u32(8).u64(2).str("a").u64(uint64_t{1} << 40).bytes);
  expect_error(f.build(), {"metadata key 'tokenizer.ggml.tokens'", "element 1", "length 1099511627776"});
}

TEST(GgufHostile, ArrayCounts) {
  RawFile f = base_file();
  f.kvs[1] = raw_kv("tokenizer.ggml.tokens", 9, RawBytes().u32(8).u64(uint64_t{1} << 40).bytes);
  expect_error(f.build(), {"'tokenizer.ggml.tokens'", "claims 1099511627776 string elements"});
  f.kvs[1] = raw_kv("ids", 9, RawBytes().u32(4).u64(UINT64_MAX).bytes);
  expect_error(f.build(), {"'ids'", "claims 18446744073709551615 uint32 elements"});

  // Backed by real bytes but beyond the cap on parsed values.
  RawFile big;
  std::vector<uint8_t> payload = RawBytes().u32(0).u64((uint64_t{1} << 22) + 1).bytes;
  payload.resize(payload.size() + (size_t{1} << 22) + 1, 7);
  big.kvs.push_back(raw_kv("bytes", 9, payload));
  expect_error(big.build(), {"'bytes'", "4194305 elements", "limit of 4194304"});
}

TEST(GgufHostile, ValueTypes) {
  RawFile f = base_file();
  f.kvs[0] = raw_kv("general.architecture", 13, RawBytes().u32(0).bytes);
  expect_error(f.build(), {"metadata key 'general.architecture' has value type 13", "0 to 12"});
  f.kvs[0] = raw_kv("general.architecture", 0x80000000u, RawBytes().u32(0).bytes);
  expect_error(f.build(), {"value type 2147483648"});
  f.kvs[0] = raw_kv("list", 9, RawBytes().u32(99).u64(0).bytes);
  expect_error(f.build(), {"'list'", "element type 99"});
  f.kvs[0] = raw_kv("flag", 7, RawBytes().u8(2).bytes);
  expect_error(f.build(), {"'flag'", "bool", "is 2, expected 0 or 1"});

  // Arrays nested 8 deep are fine, 9 deep are not.
  auto nested = [](int depth) {
    RawBytes b;
    for (int i = 0; i < depth - 1; ++i) b.u32(9).u64(1);
    b.u32(4).u64(1).u32(42);
    return b.bytes;
  };
  f.kvs[0] = raw_kv("deep", 9, nested(8));
  Parsed parsed = parse_copy(f.build());
  ASSERT_TRUE(parsed.file.ok()) << parsed.file.error().message;
  f.kvs[0] = raw_kv("deep", 9, nested(9));
  expect_error(f.build(), {"'deep'", "nested more than 8 levels"});
}

TEST(GgufHostile, KeysAndNames) {
  RawFile f = base_file();
  f.kvs.push_back(raw_kv_u32("general.architecture", 1));
  expect_error(f.build(), {"metadata key 'general.architecture' appears twice"});
  f = base_file();
  f.kvs[0] = raw_kv_u32("", 1);
  expect_error(f.build(), {"metadata entry 0", "metadata key is empty"});
  f.kvs[0] = raw_kv_u32("bad\xff", 1);
  expect_error(f.build(), {"'bad\\xff'", "not valid UTF-8"});
  f = base_file();
  f.tensors[1].name = "tok";
  expect_error(f.build(), {"tensor name 'tok' appears twice"});
  f.tensors[1].name = "";
  expect_error(f.build(), {"tensor entry 1", "tensor name is empty"});
  f.tensors[1].name = "line\nbreak";  // allowed, but must not break the message's line
  f.tensors[1].type = 200;
  expect_error(f.build(), {"tensor 'line\\x0abreak' has type id 200"});
  f.tensors[1].type = kTypeQ8_0;
  f.tensors[1].name = std::string(70000, 'n');
  expect_error(f.build(), {"70000 bytes long", "'nnnn", "...'"});
}

TEST(GgufHostile, TensorTypesAndShapes) {
  RawFile f = base_file();
  f.tensors[1].type = 200;
  expect_error(f.build(), {"tensor 'w' has type id 200", "does not read"});
  f.tensors[1].type = 12;
  expect_error(f.build(), {"tensor 'w' has type id 12 (q4_K)"});
  f = base_file();
  f.tensors[0].ne = {};
  expect_error(f.build(), {"tensor 'tok' has 0 dimensions, expected 1 to 4"});
  f.tensors[0].ne = {8, 1, 1, 1, 1};
  expect_error(f.build(), {"tensor 'tok' has 5 dimensions"});
  f = base_file();
  f.tensors[0].ne = {-8};
  expect_error(f.build(), {"tensor 'tok'", "[-8]", "negative"});
  f.tensors[0].ne = {int64_t{1} << 32, int64_t{1} << 32};
  expect_error(f.build(), {"tensor 'tok'", "does not fit in 64 bits"});
  f.tensors[0].ne = {0, int64_t{1} << 40, int64_t{1} << 40};  // zero elements, but n_rows would overflow
  expect_error(f.build(), {"tensor 'tok'", "does not fit in 64 bits"});
  f.tensors[0].ne = {int64_t{1} << 62};  // elements fit, bytes do not
  expect_error(f.build(), {"tensor 'tok'", "byte size"});
  f = base_file();
  f.tensors[1].ne = {33, 2};
  expect_error(f.build(), {"tensor 'w'", "rows of 33", "multiple of the type's block of 32"});
}

TEST(GgufHostile, Offsets) {
  RawFile f = base_file();
  f.tensors[1].offset = 16;
  expect_error(f.build(), {"tensor 'w' has data offset 16", "not a multiple of the alignment 32"});
  f.tensors[1].offset = 0;  // overlaps 'tok'
  expect_error(f.build(), {"tensor 'w' has data offset 0, expected 32"});
  f.tensors[1].offset = 64;  // a gap
  expect_error(f.build(), {"tensor 'w' has data offset 64, expected 32"});
  f.tensors[1].offset = uint64_t{1} << 40;  // far past the end
  expect_error(f.build(), {"tensor 'w' has data offset 1099511627776"});
  f.tensors[1].offset = UINT64_MAX - 31;  // aligned, overflows when added
  expect_error(f.build(), {"tensor 'w'"});
  f = base_file();
  f.data_bytes -= 1;  // last tensor cut short
  const std::vector<uint8_t> cut = f.build();
  expect_error(cut, {"tensor 'w' data ends at byte " + std::to_string(cut.size() + 1) + " but the file has " +
                         std::to_string(cut.size()) + " bytes: the file is truncated or corrupted"});
  f = base_file();
  f.tensors.erase(f.tensors.begin());  // 'w' now claims offset 32 as the first tensor
  expect_error(f.build(), {"tensor 'w' has data offset 32, expected 0"});
}

TEST(GgufHostile, Alignment) {
  for (uint32_t bad : {0u, 3u, 48u}) {
    RawFile f = base_file();
    f.kvs.push_back(raw_kv_u32("general.alignment", bad));
    expect_error(f.build(), {"'general.alignment' is " + std::to_string(bad), "nonzero power of two"});
  }
  RawFile f = base_file();
  f.kvs.push_back(raw_kv_string("general.alignment", "32"));
  expect_error(f.build(), {"'general.alignment' has type string"});
  f = base_file();
  f.kvs.push_back(raw_kv("general.alignment", 5, RawBytes().u32(static_cast<uint32_t>(-32)).bytes));
  expect_error(f.build(), {"'general.alignment' has type int32"});

  // A valid non-default alignment, given as a u64: offsets follow it.
  RawFile g;
  g.alignment = 64;
  g.kvs.push_back(raw_kv("general.alignment", 10, RawBytes().u64(64).bytes));
  g.add_tensor("a", {8}, kTypeF32, 32);
  g.add_tensor("b", {8}, kTypeF32, 32);
  Parsed parsed = parse_copy(g.build());
  ASSERT_TRUE(parsed.file.ok()) << parsed.file.error().message;
  EXPECT_EQ(parsed.file->alignment(), 64u);
  EXPECT_EQ(parsed.file->tensors()[1].offset, 64u);
  EXPECT_EQ(parsed.file->data_offset() % 64, 0u);
  g.tensors[1].offset = 32;
  expect_error(g.build(), {"tensor 'b' has data offset 32, which is not a multiple of the alignment 64"});
}

TEST(GgufHostile, TypeId40MustHaveQ2_0cSizes) {
  RawFile f = base_file();
  f.add_tensor("blk.0.attn_q.weight", {256, 2}, kTypeId40, 2 * 144);
  expect_error(f.build(), {"tensor 'blk.0.attn_q.weight' has type id 40, which hy2bit reads as q2_0c, but its row of "
                           "256 elements is not a multiple of 512 (is this an NVFP4 file from newer llama.cpp?)"});

  // Rows of 512 but stored at NVFP4's size (36 bytes per 64 weights): the
  // next tensor's offset gives it away.
  RawFile g = base_file();
  g.add_tensor("blk.0.ffn_up.weight", {512, 4}, kTypeId40, 4 * 8 * 36);
  g.add_tensor("after", {8}, kTypeF32, 32);
  expect_error(g.build(), {"tensor 'blk.0.ffn_up.weight' has type id 40", "q2_0c (520 bytes", "1152 bytes",
                           "next tensor 'after'", "NVFP4"});
  // As the last tensor, the end of the file gives it away.
  RawFile h = base_file();
  h.add_tensor("blk.0.ffn_up.weight", {512, 4}, kTypeId40, 4 * 8 * 36);
  expect_error(h.build(), {"tensor 'blk.0.ffn_up.weight' has type id 40", "end of the file", "NVFP4"});
  // The right size parses as q2_0c.
  RawFile ok_file = base_file();
  ok_file.add_tensor("blk.0.ffn_up.weight", {512, 4}, kTypeId40, 4 * 130);
  Parsed parsed = parse_copy(ok_file.build());
  ASSERT_TRUE(parsed.file.ok()) << parsed.file.error().message;
  EXPECT_EQ(parsed.file->find_tensor("blk.0.ffn_up.weight")->type.name, "q2_0c");
}

// Seeded random mutations of a valid file: each parse must return (either
// way) without tripping the sanitizers; errors must be one line.
TEST(GgufHostile, RandomMutationsNeverCrash) {
  const std::vector<uint8_t> base = small_writer_file();
  std::mt19937_64 rng(20240611);
  constexpr uint64_t kInteresting[] = {0, 1, 2, 3, 4, 5, 8, 9, 12, 13, 31, 32, 33, 63, 64, 511, 512,
                                       0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
                                       uint64_t{1} << 32, uint64_t{1} << 62, uint64_t{1} << 63,
                                       UINT64_MAX - 31, UINT64_MAX};
  int n_ok = 0;
  uint64_t sink = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<uint8_t> bytes = base;
    const int n_mutations = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < n_mutations; ++m) {
      const size_t pos = static_cast<size_t>(rng() % bytes.size());
      switch (rng() % 5) {
        case 0: bytes[pos] = static_cast<uint8_t>(rng()); break;
        case 1: bytes[pos] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
        case 2: {  // an interesting value as a u32 or u64
          const uint64_t v = kInteresting[rng() % std::size(kInteresting)];
          const size_t width = rng() % 2 ? 8 : 4;
          std::memcpy(bytes.data() + pos, &v, std::min(width, bytes.size() - pos));
          break;
        }
        case 3: bytes.resize(pos); break;
        default: bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(pos), static_cast<uint8_t>(rng())); break;
      }
      if (bytes.empty()) break;
    }
    Parsed parsed = parse_copy(bytes);
    if (parsed.file.ok()) {
      ++n_ok;
      sink += touch(*parsed.file);
    } else {
      ASSERT_TRUE(is_one_line(parsed.file.error().message)) << parsed.file.error().message;
    }
  }
  // Some mutations only change values or tensor bytes, so a share must parse.
  EXPECT_GT(n_ok, 100);
  RecordProperty("parsed_ok", n_ok);
  EXPECT_NE(sink, 1u);  // keeps the touches from being optimized away
}

}  // namespace
}  // namespace hy2bit::gguf
