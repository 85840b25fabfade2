// GGUF v3 writer: serializes the header, metadata and tensor table in memory,
// then streams each tensor's bytes to a runtime::AtomicFile beside `path`
// (asking for them one at a time) and renames the finished file over `path`.
// On any error the temporary file is removed and an existing `path` is left as it was.
#include "gguf/gguf_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "gguf/checks.h"
#include "runtime/atomic_file.h"

namespace hy2bit::gguf {
namespace {

using detail::quoted;

constexpr int kLastValueType = static_cast<int>(ValueType::kFloat64);

// Appends little-endian values to a byte buffer.
class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>& out) : out_(out) {}

  template <typename T>
  void put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out_.insert(out_.end(), p, p + sizeof(T));
  }
  void put_string(std::string_view s) {
    put<uint64_t>(s.size());
    out_.insert(out_.end(), s.begin(), s.end());
  }
  size_t size() const { return out_.size(); }

 private:
  std::vector<uint8_t>& out_;
};

// What a value's variant actually holds, for messages.
std::string_view held_kind(const OwnedValue& v) {
  static constexpr std::string_view kKinds[] = {"an unsigned integer", "a signed integer", "a float",
                                                "a bool", "a string", "an array"};
  return kKinds[v.data.index()];
}

Error mismatch(const OwnedValue& v) {
  return make_error("value of type ", value_type_name(v.type), " holds ", held_kind(v));
}

template <typename T>
Status put_unsigned(ByteWriter& w, const OwnedValue& v) {
  uint64_t x = 0;
  if (const auto* u = std::get_if<uint64_t>(&v.data)) {
    x = *u;
  } else if (const auto* i = std::get_if<int64_t>(&v.data); i != nullptr && *i >= 0) {
    x = static_cast<uint64_t>(*i);
  } else {
    return mismatch(v);
  }
  if (x > std::numeric_limits<T>::max())
    return make_error("value ", x, " does not fit type ", value_type_name(v.type));
  w.put(static_cast<T>(x));
  return Ok{};
}

template <typename T>
Status put_signed(ByteWriter& w, const OwnedValue& v) {
  int64_t x = 0;
  if (const auto* i = std::get_if<int64_t>(&v.data)) {
    x = *i;
  } else if (const auto* u = std::get_if<uint64_t>(&v.data);
             u != nullptr && *u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    x = static_cast<int64_t>(*u);
  } else {
    return mismatch(v);
  }
  if (x < std::numeric_limits<T>::min() || x > std::numeric_limits<T>::max())
    return make_error("value ", x, " does not fit type ", value_type_name(v.type));
  w.put(static_cast<T>(x));
  return Ok{};
}

// Writes a value without its type tag (the caller wrote it, or it is an
// array element whose type is the array's).
Status put_payload(ByteWriter& w, const OwnedValue& v, int depth) {
  switch (v.type) {
    case ValueType::kUint8: return put_unsigned<uint8_t>(w, v);
    case ValueType::kUint16: return put_unsigned<uint16_t>(w, v);
    case ValueType::kUint32: return put_unsigned<uint32_t>(w, v);
    case ValueType::kUint64: return put_unsigned<uint64_t>(w, v);
    case ValueType::kInt8: return put_signed<int8_t>(w, v);
    case ValueType::kInt16: return put_signed<int16_t>(w, v);
    case ValueType::kInt32: return put_signed<int32_t>(w, v);
    case ValueType::kInt64: return put_signed<int64_t>(w, v);
    case ValueType::kFloat32:
    case ValueType::kFloat64: {
      const auto* d = std::get_if<double>(&v.data);
      if (d == nullptr) return mismatch(v);
      if (v.type == ValueType::kFloat32) {
        w.put(static_cast<float>(*d));
      } else {
        w.put(*d);
      }
      return Ok{};
    }
    case ValueType::kBool: {
      const auto* b = std::get_if<bool>(&v.data);
      if (b == nullptr) return mismatch(v);
      w.put<uint8_t>(*b ? 1 : 0);
      return Ok{};
    }
    case ValueType::kString: {
      const auto* s = std::get_if<std::string>(&v.data);
      if (s == nullptr) return mismatch(v);
      w.put_string(*s);
      return Ok{};
    }
    case ValueType::kArray: {
      const auto* elems = std::get_if<std::vector<OwnedValue>>(&v.data);
      if (elems == nullptr) return mismatch(v);
      if (static_cast<uint32_t>(v.elem_type) > kLastValueType)
        return make_error("array has element type ", static_cast<uint32_t>(v.elem_type),
                          ", which is not a GGUF value type");
      if (depth >= detail::kMaxArrayDepth)
        return make_error("arrays are nested more than ", detail::kMaxArrayDepth, " levels deep");
      w.put(static_cast<uint32_t>(v.elem_type));
      w.put<uint64_t>(elems->size());
      for (size_t i = 0; i < elems->size(); ++i) {
        const OwnedValue& e = (*elems)[i];
        if (e.type != v.elem_type)
          return make_error("element ", i, " has type ", value_type_name(e.type), " in an array of ",
                            value_type_name(v.elem_type));
        if (Status st = put_payload(w, e, depth + 1); !st)
          return make_error("element ", i, ": ", st.error().message);
      }
      return Ok{};
    }
  }
  return make_error("value type ", static_cast<uint32_t>(v.type), " is not a GGUF value type");
}



}  // namespace

OwnedValue OwnedValue::u32(uint32_t v) { return {ValueType::kUint32, uint64_t{v}}; }
OwnedValue OwnedValue::i32(int32_t v) { return {ValueType::kInt32, int64_t{v}}; }
OwnedValue OwnedValue::u64(uint64_t v) { return {ValueType::kUint64, v}; }
OwnedValue OwnedValue::i64(int64_t v) { return {ValueType::kInt64, v}; }
OwnedValue OwnedValue::f32(float v) { return {ValueType::kFloat32, double{v}}; }
OwnedValue OwnedValue::f64(double v) { return {ValueType::kFloat64, v}; }
OwnedValue OwnedValue::boolean(bool v) { return {ValueType::kBool, v}; }
OwnedValue OwnedValue::string(std::string v) { return {ValueType::kString, std::move(v)}; }

OwnedValue OwnedValue::array(ValueType elem_type, std::vector<OwnedValue> elems) {
  OwnedValue v{ValueType::kArray, std::move(elems)};
  v.elem_type = elem_type;
  return v;
}

OwnedValue OwnedValue::string_array(std::vector<std::string> v) {
  std::vector<OwnedValue> elems;
  elems.reserve(v.size());
  for (std::string& s : v) elems.push_back(string(std::move(s)));
  return array(ValueType::kString, std::move(elems));
}

OwnedValue OwnedValue::i32_array(const std::vector<int32_t>& v) {
  std::vector<OwnedValue> elems;
  elems.reserve(v.size());
  for (const int32_t x : v) elems.push_back(i32(x));
  return array(ValueType::kInt32, std::move(elems));
}

OwnedValue OwnedValue::f32_array(const std::vector<float>& v) {
  std::vector<OwnedValue> elems;
  elems.reserve(v.size());
  for (const float x : v) elems.push_back(f32(x));
  return array(ValueType::kFloat32, std::move(elems));
}

OwnedValue OwnedValue::copy_of(const Value& v) {
  OwnedValue out;
  out.type = v.type;
  if (const auto* u = std::get_if<uint64_t>(&v.data)) {
    out.data = *u;
  } else if (const auto* i = std::get_if<int64_t>(&v.data)) {
    out.data = *i;
  } else if (const auto* d = std::get_if<double>(&v.data)) {
    out.data = *d;
  } else if (const auto* b = std::get_if<bool>(&v.data)) {
    out.data = *b;
  } else if (const auto* s = std::get_if<std::string_view>(&v.data)) {
    out.data = std::string(*s);
  } else if (const Array* a = v.as_array()) {
    std::vector<OwnedValue> elems;
    elems.reserve(a->elems.size());
    for (const Value& e : a->elems) elems.push_back(copy_of(e));
    out.elem_type = a->elem_type;
    out.data = std::move(elems);
  }
  return out;
}

void Writer::set(std::string key, OwnedValue value) {
  for (auto& [k, v] : metadata_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(std::move(key), std::move(value));
}

void Writer::remove(std::string_view key) {
  std::erase_if(metadata_, [&](const auto& entry) { return entry.first == key; });
}

Status Writer::add_tensor(std::string name, formats::TypeId type, std::vector<int64_t> ne,
                          TensorBytesFn bytes) {
  HY2BIT_TRY(detail::check_name("tensor name", name));
  for (const PendingTensor& t : tensors_)
    if (t.name == name) return make_error("tensor ", quoted(name), " is added twice");
  const std::optional<formats::TypeInfo> info = formats::type_info(type);
  if (!info)
    return make_error("tensor ", quoted(name), " has type id ", static_cast<uint32_t>(type),
                      ", which hy2bit cannot write");
  Result<uint64_t> n_bytes = detail::tensor_bytes(name, *info, ne);
  if (!n_bytes) return n_bytes.error();
  if (!bytes) return make_error("tensor ", quoted(name), " has no function to produce its bytes");
  tensors_.push_back({std::move(name), type, std::move(ne), *n_bytes, std::move(bytes)});
  return Ok{};
}

Status Writer::write(const std::string& path, const std::function<void(size_t, size_t)>& progress) const {
  if (!detail::is_valid_alignment(alignment_) || alignment_ > std::numeric_limits<uint32_t>::max())
    return make_error("cannot write '", path, "': alignment ", alignment_,
                      " is not a power of two that fits in 32 bits");

  // The metadata to write: general.alignment is the writer's own alignment,
  // present only when it is not the default (kept where it was set, if it was).
  const std::string alignment_key = "general.alignment";
  const OwnedValue alignment_value = OwnedValue::u32(static_cast<uint32_t>(alignment_));
  const bool write_alignment = alignment_ != detail::kDefaultAlignment;
  std::vector<std::pair<const std::string*, const OwnedValue*>> kvs;
  bool alignment_placed = false;
  for (const auto& [key, value] : metadata_) {
    if (key == alignment_key) {
      if (write_alignment) kvs.emplace_back(&key, &alignment_value);
      alignment_placed = true;
      continue;
    }
    kvs.emplace_back(&key, &value);
  }
  if (write_alignment && !alignment_placed) kvs.emplace_back(&alignment_key, &alignment_value);

  // Header, metadata and tensor table, then padding up to the data section.
  std::vector<uint8_t> head;
  ByteWriter w(head);
  w.put(uint32_t{0x46554747});  // "GGUF" read as a little-endian u32
  w.put(uint32_t{3});
  w.put<uint64_t>(tensors_.size());
  w.put<uint64_t>(kvs.size());
  for (const auto& [key, value] : kvs) {
    HY2BIT_TRY(detail::check_name("metadata key", *key));
    w.put_string(*key);
    w.put(static_cast<uint32_t>(value->type));
    if (Status st = put_payload(w, *value, 0); !st)
      return make_error("metadata key ", quoted(*key), ": ", st.error().message);
  }
  uint64_t offset = 0;  // of the next tensor, from the data start
  for (const PendingTensor& t : tensors_) {
    w.put_string(t.name);
    w.put(static_cast<uint32_t>(t.ne.size()));
    for (const int64_t n : t.ne) w.put(n);
    w.put(static_cast<uint32_t>(t.type));
    w.put(offset);
    const std::optional<uint64_t> padded = detail::align_up(t.n_bytes, alignment_);
    if (!padded || __builtin_add_overflow(offset, *padded, &offset))
      return make_error("cannot write '", path, "': tensor data exceeds 2^64 bytes");
  }
  head.resize(static_cast<size_t>(*detail::align_up(head.size(), alignment_)), 0);

  Result<std::unique_ptr<runtime::AtomicFile>> file = runtime::AtomicFile::create(path);
  if (!file) return file.error();
  runtime::AtomicFile& out = **file;
  HY2BIT_TRY(out.write(head));
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const PendingTensor& t = tensors_[i];
    bytes.clear();
    if (Status st = t.bytes(bytes); !st)
      return make_error("cannot write '", path, "': tensor ", quoted(t.name), ": ", st.error().message);
    if (bytes.size() != t.n_bytes) {
      const std::optional<formats::TypeInfo> info = formats::type_info(t.type);
      return make_error("cannot write '", path, "': tensor ", quoted(t.name), " produced ", bytes.size(),
                        " bytes, expected ", t.n_bytes, " for type ", info ? info->name : "?", " and shape ",
                        detail::shape_text(t.ne));
    }
    HY2BIT_TRY(out.write(bytes));
    HY2BIT_TRY(out.write_zeros(*detail::align_up(t.n_bytes, alignment_) - t.n_bytes));
    if (progress) progress(i + 1, tensors_.size());
  }
  return out.commit();
}

}  // namespace hy2bit::gguf
