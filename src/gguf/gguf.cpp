// GGUF v3 reader. The layout, in file order:
//   header    magic "GGUF", u32 version (3), u64 tensor count, u64 kv count
//   metadata  kv count x { string key, u32 value type, value }
//   tensors   tensor count x { string name, u32 n_dims, i64 ne[n_dims], u32 type, u64 offset }
//   padding   to `general.alignment` (default 32): the data section starts here
//   data      each tensor at data start + offset, in table order, padded to the alignment
// (string = u64 length + bytes; array = u32 element type + u64 count + elements.)
// Nothing in the file is trusted: every count, length, type, shape and offset
// is checked before it is used, and every failure is an Error naming where.
#include "gguf/gguf.h"

#include <algorithm>
#include <array>
#include <limits>

#include "gguf/byte_reader.h"
#include "gguf/checks.h"

namespace hy2bit::gguf {
namespace {

using detail::ByteReader;
using detail::quoted;

constexpr uint32_t kVersion = 3;
// Smallest possible metadata entry: key length, 1-byte key, value type, 1-byte value.
constexpr uint64_t kMinKvBytes = 8 + 1 + 4 + 1;
// Smallest possible tensor entry: name length, 1-byte name, n_dims, ne[0], type, offset.
constexpr uint64_t kMinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8;
// Parsed values cost ~48 bytes each, so a few MB of hostile u8 arrays could
// otherwise ask for gigabytes. Real vocabularies hold well under 1M values.
constexpr uint64_t kMaxMetadataValues = uint64_t{1} << 22;
// Tables are reserved up front only up to this many entries; longer ones grow
// as they are read (and must be backed by real bytes to get that far), so a
// hostile count in a large mapped file cannot ask for a huge vector at once.
constexpr uint64_t kMaxReserve = 4096;

constexpr int kLastValueType = static_cast<int>(ValueType::kFloat64);

// Bytes an element of a type needs at least (for counts checked against the bytes left).
uint64_t min_value_bytes(ValueType type) {
  switch (type) {
    case ValueType::kUint8: case ValueType::kInt8: case ValueType::kBool: return 1;
    case ValueType::kUint16: case ValueType::kInt16: return 2;
    case ValueType::kUint32: case ValueType::kInt32: case ValueType::kFloat32: return 4;
    case ValueType::kUint64: case ValueType::kInt64: case ValueType::kFloat64: return 8;
    case ValueType::kString: return 8;      // the length
    case ValueType::kArray: return 4 + 8;   // element type and count
  }
  return 1;
}

// ggml's names for type ids hy2bit does not read, so the message can say what
// the file holds ("type id 12 (q4_K)"). Ids 4, 5, 31-33, 36-38 are unused.
std::string_view ggml_type_name(uint32_t id) {
  static constexpr std::array<std::string_view, 40> kNames = {
      "f32", "f16", "q4_0", "q4_1", "", "", "q5_0", "q5_1", "q8_0", "q8_1",
      "q2_K", "q3_K", "q4_K", "q5_K", "q6_K", "q8_K", "iq2_xxs", "iq2_xs", "iq3_xxs", "iq1_s",
      "iq4_nl", "iq3_s", "iq2_s", "iq4_xs", "i8", "i16", "i32", "i64", "f64", "iq1_m",
      "bf16", "", "", "", "tq1_0", "tq2_0", "", "", "", "mxfp4"};
  return id < kNames.size() ? kNames[id] : std::string_view();
}

Error short_read(const ByteReader& in, std::string_view what, uint64_t need) {
  return make_error(what, " at byte ", in.offset(), " needs ", need, " bytes but only ",
                    in.remaining(), " are left: the file is truncated or corrupted");
}

// Reads a u64-length string as a view into the span.
Result<std::string_view> read_string(ByteReader& in, std::string_view what) {
  const size_t at = in.offset();
  uint64_t len = 0;
  if (!in.read(len)) return short_read(in, what, 8);
  std::string_view text;
  if (!in.read_text(len, text))
    return make_error(what, " at byte ", at, " has length ", len, " but only ", in.remaining(),
                      " bytes are left: the file is truncated or corrupted");
  return text;
}

// Reads metadata values, counting array elements against kMaxMetadataValues.
class ValueReader {
 public:
  explicit ValueReader(ByteReader& in) : in_(in) {}

  // Reads one value of `type` into `out`. `depth` is the array nesting level.
  Status read(ValueType type, int depth, Value& out) {
    out.type = type;
    switch (type) {
      case ValueType::kUint8: return read_number<uint8_t, uint64_t>(out);
      case ValueType::kInt8: return read_number<int8_t, int64_t>(out);
      case ValueType::kUint16: return read_number<uint16_t, uint64_t>(out);
      case ValueType::kInt16: return read_number<int16_t, int64_t>(out);
      case ValueType::kUint32: return read_number<uint32_t, uint64_t>(out);
      case ValueType::kInt32: return read_number<int32_t, int64_t>(out);
      case ValueType::kUint64: return read_number<uint64_t, uint64_t>(out);
      case ValueType::kInt64: return read_number<int64_t, int64_t>(out);
      case ValueType::kFloat32: return read_number<float, double>(out);
      case ValueType::kFloat64: return read_number<double, double>(out);
      case ValueType::kBool: {
        const size_t at = in_.offset();
        uint8_t b = 0;
        if (!in_.read(b)) return short_read(in_, "a bool", 1);
        if (b > 1) return make_error("bool at byte ", at, " is ", int{b}, ", expected 0 or 1");
        out.data = b == 1;
        return Ok{};
      }
      case ValueType::kString: {
        Result<std::string_view> s = read_string(in_, "string");
        if (!s) return s.error();
        out.data = *s;
        return Ok{};
      }
      case ValueType::kArray: return read_array(depth, out);
    }
    return make_error("value type ", static_cast<uint32_t>(type), " is not a GGUF type");
  }

 private:
  template <typename Raw, typename Stored>
  Status read_number(Value& out) {
    Raw raw{};
    if (!in_.read(raw)) return short_read(in_, value_type_name(out.type), sizeof(Raw));
    out.data = static_cast<Stored>(raw);
    return Ok{};
  }

  Status read_array(int depth, Value& out) {
    if (depth >= detail::kMaxArrayDepth)
      return make_error("array at byte ", in_.offset(), " is nested more than ", detail::kMaxArrayDepth,
                        " levels deep");
    const size_t at = in_.offset();
    uint32_t raw_type = 0;
    uint64_t count = 0;
    if (!in_.read(raw_type)) return short_read(in_, "array element type", 4);
    if (raw_type > kLastValueType)
      return make_error("array at byte ", at, " has element type ", raw_type,
                        ", which is not a GGUF value type (0 to ", kLastValueType, ")");
    const auto elem_type = static_cast<ValueType>(raw_type);
    if (!in_.read(count)) return short_read(in_, "array count", 8);
    const uint64_t need = min_value_bytes(elem_type);
    if (count > in_.remaining() / need)
      return make_error("array at byte ", at, " claims ", count, " ", value_type_name(elem_type),
                        " elements, which need at least ", need, " bytes each, but only ", in_.remaining(),
                        " bytes are left: the file is truncated or corrupted");
    if (count > budget_)
      return make_error("array at byte ", at, " has ", count, " elements, more than hy2bit's limit of ",
                        kMaxMetadataValues, " metadata values in a file");
    budget_ -= count;

    Array array;
    array.elem_type = elem_type;
    array.elems.reserve(static_cast<size_t>(count));
    // Vocabularies are arrays of 100k+ strings or numbers: those get tight
    // loops that build each element in place.
    switch (elem_type) {
      case ValueType::kString: HY2BIT_TRY(read_strings(count, array.elems)); break;
      case ValueType::kUint32: read_numbers<uint32_t, uint64_t>(elem_type, count, array.elems); break;
      case ValueType::kInt32: read_numbers<int32_t, int64_t>(elem_type, count, array.elems); break;
      case ValueType::kFloat32: read_numbers<float, double>(elem_type, count, array.elems); break;
      default:
        for (uint64_t i = 0; i < count; ++i) {
          Value& elem = array.elems.emplace_back();
          if (Status st = read(elem_type, depth + 1, elem); !st)
            return make_error("element ", i, ": ", st.error().message);
        }
    }
    out.data = std::move(array);
    return Ok{};
  }

  Status read_strings(uint64_t count, std::vector<Value>& elems) {
    for (uint64_t i = 0; i < count; ++i) {
      Result<std::string_view> text = read_string(in_, "string");
      if (!text) return make_error("element ", i, ": ", text.error().message);
      elems.push_back(Value{ValueType::kString, *text});
    }
    return Ok{};
  }

  // The caller checked that count * sizeof(Raw) bytes are left.
  template <typename Raw, typename Stored>
  void read_numbers(ValueType type, uint64_t count, std::vector<Value>& elems) {
    for (uint64_t i = 0; i < count; ++i) {
      Raw raw{};
      in_.read(raw);
      elems.push_back(Value{type, static_cast<Stored>(raw)});
    }
  }

  ByteReader& in_;
  uint64_t budget_ = kMaxMetadataValues;
};

using Metadata = std::vector<std::pair<std::string_view, Value>>;
using NameIndex = std::map<std::string_view, size_t, std::less<>>;

Result<uint32_t> read_version(ByteReader& in) {
  if (in.size() == 0) return make_error("the file is empty (0 bytes), expected a GGUF file");
  std::string_view magic;
  if (!in.read_text(4, magic))
    return make_error("the file is ", in.size(), " bytes long, too short for a GGUF header");
  if (magic != "GGUF")
    return make_error("the file starts with ", quoted(magic), ", expected the GGUF magic 'GGUF'");
  uint32_t version = 0;
  if (!in.read(version)) return short_read(in, "GGUF version", 4);
  if (version == kVersion) return version;
  if (version == 1 || version == 2)
    return make_error("GGUF version ", version, " is not supported: hy2bit reads version 3 "
                      "(convert the model again with a current llama.cpp)");
  if (__builtin_bswap32(version) == kVersion)
    return make_error("the file is a big-endian GGUF, which hy2bit does not read (expected little-endian version 3)");
  return make_error("unknown GGUF version ", version, ", expected 3");
}

Status read_metadata(ByteReader& in, uint64_t n_kv, Metadata& metadata, NameIndex& index) {
  metadata.reserve(static_cast<size_t>(std::min(n_kv, kMaxReserve)));
  ValueReader values(in);
  for (uint64_t i = 0; i < n_kv; ++i) {
    const size_t at = in.offset();
    Result<std::string_view> key = read_string(in, "metadata key");
    if (!key) return make_error("metadata entry ", i, ": ", key.error().message);
    if (Status st = detail::check_name("metadata key", *key); !st)
      return make_error("metadata entry ", i, " at byte ", at, ": ", st.error().message);
    if (index.count(*key) != 0)
      return make_error("metadata key ", quoted(*key), " appears twice (entries ", index.at(*key), " and ", i, ")");
    uint32_t raw_type = 0;
    if (!in.read(raw_type))
      return make_error("metadata key ", quoted(*key), ": ", short_read(in, "value type", 4).message);
    if (raw_type > kLastValueType)
      return make_error("metadata key ", quoted(*key), " has value type ", raw_type,
                        ", which is not a GGUF value type (0 to ", kLastValueType, ")");
    Value value;
    if (Status st = values.read(static_cast<ValueType>(raw_type), 0, value); !st)
      return make_error("metadata key ", quoted(*key), ": ", st.error().message);
    index.emplace(*key, metadata.size());
    metadata.emplace_back(*key, std::move(value));
  }
  return Ok{};
}

Result<uint64_t> read_alignment(const Metadata& metadata, const NameIndex& index) {
  const auto it = index.find(std::string_view("general.alignment"));
  if (it == index.end()) return detail::kDefaultAlignment;
  const Value& v = metadata[it->second].second;
  const std::optional<uint64_t> alignment = v.as_uint();
  if (!alignment)
    return make_error("metadata key 'general.alignment' has type ", value_type_name(v.type),
                      ", expected an unsigned integer");
  if (!detail::is_valid_alignment(*alignment))
    return make_error("metadata key 'general.alignment' is ", *alignment, ", expected a nonzero power of two");
  return *alignment;
}

// Reads one tensor table entry and checks it on its own (name, shape, type,
// size, offset alignment); where its data lies is checked by place_tensors.
Result<TensorInfo> read_tensor_info(ByteReader& in, uint64_t i, uint64_t alignment) {
  const size_t at = in.offset();
  Result<std::string_view> name = read_string(in, "tensor name");
  if (!name) return make_error("tensor entry ", i, ": ", name.error().message);
  if (Status st = detail::check_name("tensor name", *name); !st)
    return make_error("tensor entry ", i, " at byte ", at, ": ", st.error().message);
  const std::string who = "tensor " + quoted(*name);

  TensorInfo t;
  t.name = *name;
  uint32_t n_dims = 0;
  if (!in.read(n_dims)) return make_error(who, ": ", short_read(in, "dimension count", 4).message);
  if (n_dims < 1 || n_dims > kMaxDims)
    return make_error(who, " has ", n_dims, " dimensions, expected 1 to ", kMaxDims);
  t.n_dims = static_cast<int>(n_dims);
  for (int d = 0; d < t.n_dims; ++d)
    if (!in.read(t.ne[d])) return make_error(who, ": ", short_read(in, "shape", 8).message);
  uint32_t raw_type = 0;
  if (!in.read(raw_type)) return make_error(who, ": ", short_read(in, "type id", 4).message);
  if (!in.read(t.offset)) return make_error(who, ": ", short_read(in, "data offset", 8).message);

  const std::optional<formats::TypeInfo> type = formats::type_info_from_raw(raw_type);
  if (!type) {
    const std::string_view ggml_name = ggml_type_name(raw_type);
    return make_error(who, " has type id ", raw_type,
                      ggml_name.empty() ? std::string() : " (" + std::string(ggml_name) + ")",
                      ", which hy2bit does not read (it reads f32, f16, bf16, q8_0, q4_0, q6_K, q2_0c)");
  }
  t.type = *type;
  const std::span<const int64_t> shape(t.ne, static_cast<size_t>(t.n_dims));
  // Id 40 is q2_0c in the pull request that made HY-1.8B-2Bit, NVFP4 in later
  // llama.cpp (q2_0c.md). A row that is not whole q2_0c blocks gives it away.
  if (t.type.id == formats::TypeId::kQ2_0C && t.ne[0] >= 0 && t.ne[0] % t.type.block_elems != 0)
    return make_error(who, " has type id 40, which hy2bit reads as q2_0c, but its row of ", t.ne[0],
                      " elements is not a multiple of ", t.type.block_elems,
                      " (is this an NVFP4 file from newer llama.cpp?)");
  Result<uint64_t> n_bytes = detail::tensor_bytes(*name, t.type, shape);
  if (!n_bytes) return n_bytes.error();
  t.n_bytes = *n_bytes;
  if (t.offset % alignment != 0)
    return make_error(who, " has data offset ", t.offset, ", which is not a multiple of the alignment ",
                      alignment);
  return t;
}

// The id-40 message when the stored size (from where the next tensor or the
// file end lies) disagrees with the q2_0c size.
Error q2_0c_size_mismatch(const TensorInfo& t, std::string_view where, uint64_t stored) {
  return make_error("tensor ", quoted(t.name), " has type id 40, which hy2bit reads as q2_0c (", t.n_bytes,
                    " bytes for shape ", detail::shape_text({t.ne, static_cast<size_t>(t.n_dims)}),
                    "), but ", stored, " bytes lie between it and ", where,
                    " (is this an NVFP4 file from newer llama.cpp?)");
}

// Checks that the tensors follow each other in table order, each padded to
// the alignment (as llama.cpp requires, so they cannot overlap), that each
// one's data lies inside the file, and sets the data views.
Status place_tensors(std::span<const uint8_t> bytes, uint64_t data_offset, uint64_t alignment,
                     std::vector<TensorInfo>& tensors) {
  uint64_t expected = 0;  // offset of the next tensor, from the data start
  for (size_t i = 0; i < tensors.size(); ++i) {
    TensorInfo& t = tensors[i];
    if (t.offset != expected) {
      if (i > 0 && tensors[i - 1].type.id == formats::TypeId::kQ2_0C && t.offset > tensors[i - 1].offset)
        return q2_0c_size_mismatch(tensors[i - 1], "the next tensor " + quoted(t.name),
                                   t.offset - tensors[i - 1].offset);
      return make_error("tensor ", quoted(t.name), " has data offset ", t.offset, ", expected ", expected,
                        ": tensors must follow each other in table order, each padded to ", alignment, " bytes");
    }
    const std::optional<uint64_t> padded = detail::align_up(t.n_bytes, alignment);
    uint64_t start = 0;
    uint64_t end = 0;
    if (!padded || __builtin_add_overflow(expected, *padded, &expected) ||
        __builtin_add_overflow(data_offset, t.offset, &start) || __builtin_add_overflow(start, t.n_bytes, &end))
      return make_error("tensor ", quoted(t.name), " at data offset ", t.offset, " with ", t.n_bytes,
                        " bytes ends beyond 2^64: the file is corrupted");
    if (end > bytes.size())
      return make_error("tensor ", quoted(t.name), " data ends at byte ", end, " but the file has ", bytes.size(),
                        " bytes: the file is truncated or corrupted");
    t.data = bytes.subspan(static_cast<size_t>(start), static_cast<size_t>(t.n_bytes));
  }
  // The last tensor has no successor to measure it by: use the file end,
  // allowing for missing trailing padding.
  if (!tensors.empty() && tensors.back().type.id == formats::TypeId::kQ2_0C) {
    const TensorInfo& t = tensors.back();
    const uint64_t stored = bytes.size() - static_cast<uint64_t>(t.data.data() - bytes.data());
    if (stored > *detail::align_up(t.n_bytes, alignment)) return q2_0c_size_mismatch(t, "the end of the file", stored);
  }
  return Ok{};
}

}  // namespace

std::string_view value_type_name(ValueType type) {
  switch (type) {
    case ValueType::kUint8: return "uint8";
    case ValueType::kInt8: return "int8";
    case ValueType::kUint16: return "uint16";
    case ValueType::kInt16: return "int16";
    case ValueType::kUint32: return "uint32";
    case ValueType::kInt32: return "int32";
    case ValueType::kFloat32: return "float32";
    case ValueType::kBool: return "bool";
    case ValueType::kString: return "string";
    case ValueType::kArray: return "array";
    case ValueType::kUint64: return "uint64";
    case ValueType::kInt64: return "int64";
    case ValueType::kFloat64: return "float64";
  }
  return "unknown";
}

std::optional<uint64_t> Value::as_uint() const {
  if (const auto* u = std::get_if<uint64_t>(&data)) return *u;
  if (const auto* i = std::get_if<int64_t>(&data); i != nullptr && *i >= 0) return static_cast<uint64_t>(*i);
  return std::nullopt;
}

std::optional<int64_t> Value::as_int() const {
  if (const auto* i = std::get_if<int64_t>(&data)) return *i;
  if (const auto* u = std::get_if<uint64_t>(&data);
      u != nullptr && *u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return static_cast<int64_t>(*u);
  return std::nullopt;
}

std::optional<double> Value::as_float() const {
  if (const auto* d = std::get_if<double>(&data)) return *d;
  if (const auto* i = std::get_if<int64_t>(&data)) return static_cast<double>(*i);
  if (const auto* u = std::get_if<uint64_t>(&data)) return static_cast<double>(*u);
  return std::nullopt;
}

std::optional<bool> Value::as_bool() const {
  if (const auto* b = std::get_if<bool>(&data)) return *b;
  return std::nullopt;
}

std::optional<std::string_view> Value::as_string() const {
  if (const auto* s = std::get_if<std::string_view>(&data)) return *s;
  return std::nullopt;
}

void File::drop_metadata() {
  metadata_index_.clear();
  std::vector<std::pair<std::string_view, Value>>().swap(metadata_);
}

const Array* Value::as_array() const { return std::get_if<Array>(&data); }

Result<File> File::parse(std::span<const uint8_t> bytes) {
  ByteReader in(bytes);
  Result<uint32_t> version = read_version(in);
  if (!version) return version.error();

  uint64_t n_tensors = 0;
  uint64_t n_kv = 0;
  if (!in.read(n_tensors)) return short_read(in, "tensor count", 8);
  if (!in.read(n_kv)) return short_read(in, "metadata count", 8);
  // Each entry needs some bytes, so the counts cannot exceed what is left;
  // this also bounds what the vectors below reserve.
  if (n_kv > in.remaining() / kMinKvBytes)
    return make_error("the header claims ", n_kv, " metadata entries but only ", in.remaining(),
                      " bytes follow (each needs at least ", kMinKvBytes, "): the file is truncated or corrupted");
  const uint64_t left_for_tensors = in.remaining() - n_kv * kMinKvBytes;
  if (n_tensors > left_for_tensors / kMinTensorInfoBytes)
    return make_error("the header claims ", n_tensors, " tensors and ", n_kv, " metadata entries but only ",
                      in.remaining(), " bytes follow (at least ", kMinTensorInfoBytes, " per tensor and ",
                      kMinKvBytes, " per entry): the file is truncated or corrupted");

  File file;
  file.version_ = *version;
  HY2BIT_TRY(read_metadata(in, n_kv, file.metadata_, file.metadata_index_));
  Result<uint64_t> alignment = read_alignment(file.metadata_, file.metadata_index_);
  if (!alignment) return alignment.error();
  file.alignment_ = *alignment;

  file.tensors_.reserve(static_cast<size_t>(std::min(n_tensors, kMaxReserve)));
  for (uint64_t i = 0; i < n_tensors; ++i) {
    Result<TensorInfo> t = read_tensor_info(in, i, file.alignment_);
    if (!t) return t.error();
    const auto [it, inserted] = file.tensor_index_.emplace(t->name, file.tensors_.size());
    if (!inserted)
      return make_error("tensor name ", quoted(t->name), " appears twice (entries ", it->second, " and ", i, ")");
    file.tensors_.push_back(*t);
  }

  const std::optional<uint64_t> data_offset = detail::align_up(in.offset(), file.alignment_);
  if (!data_offset)
    return make_error("the data section would start beyond 2^64 with alignment ", file.alignment_);
  file.data_offset_ = *data_offset;
  HY2BIT_TRY(place_tensors(bytes, file.data_offset_, file.alignment_, file.tensors_));
  return file;
}

const Value* File::find(std::string_view key) const {
  const auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

const TensorInfo* File::find_tensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

Error missing_key(std::string_view key) { return make_error("metadata key ", quoted(key), " is missing"); }

Error wrong_type(std::string_view key, const Value& v, std::string_view expected) {
  std::string type(value_type_name(v.type));
  if (const Array* a = v.as_array()) type += " of " + std::string(value_type_name(a->elem_type));
  return make_error("metadata key ", quoted(key), " has type ", type, ", expected ", expected);
}

}  // namespace

Result<uint64_t> File::get_uint(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return missing_key(key);
  if (std::optional<uint64_t> u = v->as_uint()) return *u;
  if (std::optional<int64_t> i = v->as_int())
    return make_error("metadata key ", quoted(key), " is ", *i, ", expected a non-negative integer");
  return wrong_type(key, *v, "an unsigned integer");
}

Result<double> File::get_float(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return missing_key(key);
  if (std::optional<double> d = v->as_float()) return *d;
  return wrong_type(key, *v, "a number");
}

Result<std::string_view> File::get_string(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return missing_key(key);
  if (std::optional<std::string_view> s = v->as_string()) return *s;
  return wrong_type(key, *v, "a string");
}

Result<bool> File::get_bool(std::string_view key) const {
  const Value* v = find(key);
  if (v == nullptr) return missing_key(key);
  if (std::optional<bool> b = v->as_bool()) return *b;
  return wrong_type(key, *v, "a bool");
}

}  // namespace hy2bit::gguf
