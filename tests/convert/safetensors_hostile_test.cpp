// Hostile safetensors files: each case is a whole file's bytes that
// parse_safetensors_header must refuse with a one-line error naming what is
// wrong (checked by a substring), never a crash or a read past the end.
// Also run under ASan+UBSan. A good file and a sharded checkpoint parse.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "convert/hf_fixture.h"
#include "convert/safetensors.h"
#include "support/test_support.h"

namespace hy2bit::convert::test {
namespace {

struct HostileCase {
  std::string name;
  std::vector<uint8_t> bytes;
  std::string error;  // a substring the message must hold
};

void PrintTo(const HostileCase& c, std::ostream* os) { *os << c.name; }

std::vector<uint8_t> file_with(const std::string& header, size_t data_bytes) {
  return safetensors_bytes(header, std::vector<uint8_t>(data_bytes, 0));
}

// An 8-byte length field followed by `rest`.
std::vector<uint8_t> with_length(uint64_t n, const std::string& rest) {
  std::vector<uint8_t> out(8 + rest.size());
  std::memcpy(out.data(), &n, 8);
  if (!rest.empty()) std::memcpy(out.data() + 8, rest.data(), rest.size());
  return out;
}

const std::string kOne = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";

std::vector<HostileCase> hostile_cases() {
  std::vector<HostileCase> c;
  c.push_back({"empty_file", {}, "too short for the 8-byte header length"});
  c.push_back({"seven_bytes", std::vector<uint8_t>(7, 0), "too short"});
  c.push_back({"length_zero", with_length(0, ""), "too short for a JSON object"});
  c.push_back({"length_huge", with_length(~uint64_t{0}, "{}"), "exceeds the 100000000-byte limit"});
  c.push_back({"length_2_to_63", with_length(uint64_t{1} << 63, "{}"), "exceeds"});
  c.push_back({"length_past_file", with_length(1000, "{}"), "past the end of the file"});
  c.push_back({"length_one_past_file", with_length(3, "{}"), "past the end of the file"});
  c.push_back({"not_an_object_start", file_with("[1,2]", 0), "does not start with '{'"});
  c.push_back({"not_json", file_with("{not json}", 0), "not valid JSON"});
  c.push_back({"truncated_json", file_with("{\"a\":{\"dtype\":\"F3", 0), "not valid JSON"});
  c.push_back({"trailing_garbage", file_with("{}xx", 0), "not valid JSON"});
  c.push_back({"invalid_utf8_name", file_with("{\"\xff\xfe\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4),
               "not valid JSON (or not UTF-8)"});
  c.push_back({"overlong_utf8_name", file_with("{\"\xc0\xaf\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4),
               "not UTF-8"});
  c.push_back({"control_char_name", file_with(R"({"a\u0000b":{"dtype":"F32","shape":[],"data_offsets":[0,4]}})", 4),
               "holds a control character"});
  c.push_back({"empty_name", file_with(R"({"":{"dtype":"F32","shape":[],"data_offsets":[0,4]}})", 4), "empty name"});
  c.push_back({"entry_not_object", file_with(R"({"a":[1,2]})", 0), "entry is not an object"});
  c.push_back({"missing_dtype", file_with(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", 8), "missing or non-string dtype"});
  c.push_back({"dtype_not_string", file_with(R"({"a":{"dtype":7,"shape":[2],"data_offsets":[0,8]}})", 8), "non-string dtype"});
  c.push_back({"unknown_dtype", file_with(R"({"a":{"dtype":"F7","shape":[2],"data_offsets":[0,8]}})", 8), "unknown dtype \"F7\""});
  c.push_back({"unsupported_dtype_i64", file_with(R"({"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", 8),
               "dtype I64 is not supported"});
  c.push_back({"unsupported_dtype_f64", file_with(R"({"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}})", 8),
               "dtype F64 is not supported"});
  c.push_back({"missing_shape", file_with(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", 8), "missing or non-array shape"});
  c.push_back({"negative_dim", file_with(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8),
               "shape must hold non-negative integers"});
  c.push_back({"float_dim", file_with(R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", 8), "non-negative integers"});
  c.push_back({"string_dim", file_with(R"({"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}})", 8), "non-negative integers"});
  c.push_back({"too_many_dims", file_with(R"({"a":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}})", 4),
               "9 dimensions"});
  c.push_back({"shape_product_overflows",
               file_with(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", 8),
               "overflows 64 bits"});
  c.push_back({"byte_size_overflows",
               file_with(R"({"a":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,8]}})", 8),
               "shape needs"});
  c.push_back({"missing_offsets", file_with(R"({"a":{"dtype":"F32","shape":[2]}})", 8), "data_offsets must be [begin, end]"});
  c.push_back({"three_offsets", file_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}})", 8),
               "data_offsets must be [begin, end]"});
  c.push_back({"negative_offset", file_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", 8),
               "data_offsets must hold non-negative integers"});
  c.push_back({"offset_past_2_to_64", file_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551616]}})", 8),
               "non-negative integers"});
  c.push_back({"begin_after_end", file_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8), "begin 8 > end 0"});
  c.push_back({"end_past_file", file_with(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8),
               "past the data section (8 bytes)"});
  c.push_back({"huge_end", file_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551615]}})", 8),
               "past the data section"});
  c.push_back({"size_mismatch", file_with(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
               "shape needs 3 x 4 bytes but data_offsets cover 8"});
  c.push_back({"overlapping_tensors",
               file_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12),
               "overlap tensor \"a\""});
  c.push_back({"same_range_twice",
               file_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}})", 8),
               "overlap"});
  c.push_back({"hole_between_tensors",
               file_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", 12),
               "leaves a hole after byte 4"});
  c.push_back({"trailing_data", file_with("{" + kOne + "}", 16), "data section is 16 bytes but the tensors cover 8"});
  c.push_back({"duplicate_tensor_name", file_with("{" + kOne + "," + kOne + "}", 8), "key \"a\" occurs twice"});
  c.push_back({"duplicate_field", file_with(R"({"a":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}})", 8),
               "key \"dtype\" occurs twice"});
  c.push_back({"unknown_field", file_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"scale":1}})", 8),
               "unknown field \"scale\""});
  c.push_back({"metadata_not_object", file_with(R"({"__metadata__":[1]})", 0), "\"__metadata__\" is not an object"});
  c.push_back({"metadata_value_not_string", file_with(R"({"__metadata__":{"format":1}})", 0), "is not a string"});
  c.push_back({"header_top_level_string", file_with("{\"a\"}", 0), "not valid JSON"});
  std::string deep(50000, '[');
  c.push_back({"deeply_nested", file_with("{\"a\":" + deep, 0), "not valid JSON"});
  return c;
}

class HostileSafetensors : public testing::TestWithParam<HostileCase> {};

TEST_P(HostileSafetensors, IsACleanError) {
  const HostileCase& c = GetParam();
  Result<StHeader> h = parse_safetensors_header(c.bytes);
  ASSERT_FALSE(h.ok()) << c.name << " was accepted";
  EXPECT_NE(h.error().message.find(c.error), std::string::npos) << c.name << ": " << h.error().message;
  EXPECT_EQ(h.error().message.find('\n'), std::string::npos) << "one line";
}

INSTANTIATE_TEST_SUITE_P(Cases, HostileSafetensors, testing::ValuesIn(hostile_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(HostileSafetensors, ThereAreAtLeastThirtyCases) { EXPECT_GE(hostile_cases().size(), 30u); }

TEST(Safetensors, AGoodHeaderParses) {
  const std::vector<uint8_t> bytes = file_with(
      R"({"__metadata__":{"format":"pt"},"b":{"dtype":"BF16","shape":[2,3],"data_offsets":[8,20]},)" + kOne + "}  ", 20);
  Result<StHeader> h = parse_safetensors_header(bytes);
  ASSERT_TRUE(h.ok()) << h.error().message;
  ASSERT_EQ(h->tensors.size(), 2u);
  EXPECT_EQ(h->tensors[0].name, "a");  // sorted by name
  EXPECT_EQ(h->tensors[1].dtype, StDtype::kBF16);
  EXPECT_EQ(h->tensors[1].shape, (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(h->tensors[1].begin, 8u);
  EXPECT_EQ(h->data_start, 8 + h->json_size);
  ASSERT_EQ(h->metadata.size(), 1u);
  EXPECT_EQ(h->metadata[0].second, "pt");
}

TEST(Safetensors, EveryTruncationOfAGoodFileIsAnError) {
  const std::vector<uint8_t> bytes = file_with("{" + kOne + "}", 8);
  for (size_t n = 0; n < bytes.size(); ++n) {
    Result<StHeader> h = parse_safetensors_header(std::span(bytes).first(n));
    EXPECT_FALSE(h.ok()) << "truncated to " << n << " bytes";
  }
}

TEST(SafetensorsIndex, FileNamesMustStayInTheFolder) {
  for (const char* bad : {"../x.safetensors", "/etc/passwd", "sub/x.safetensors", "..", ""}) {
    Result<StIndex> r = parse_safetensors_index(Json{{"weight_map", {{"a", bad}}}}.dump());
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("not a plain file name"), std::string::npos) << r.error().message;
  }
  EXPECT_FALSE(parse_safetensors_index(R"({"metadata":{}})").ok());
  EXPECT_FALSE(parse_safetensors_index(R"({"weight_map":{"a":1}})").ok());
  Result<StIndex> ok = parse_safetensors_index(R"({"weight_map":{"a":"m2.safetensors","b":"m1.safetensors","c":"m2.safetensors"}})");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->files, (std::vector<std::string>{"m1.safetensors", "m2.safetensors"}));
}

}  // namespace
}  // namespace hy2bit::convert::test
