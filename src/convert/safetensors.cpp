// safetensors: header parsing and checks, mapped files, sharded checkpoints.
// Layout of a file: u64 little-endian N, N bytes of JSON (an object: tensor
// name -> {dtype, shape, data_offsets: [begin, end]}, plus an optional
// "__metadata__" of strings), then the data section; offsets are relative
// to its start and must cover it exactly, as the safetensors library requires.
#include "convert/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "convert/json_util.h"

namespace hy2bit::convert {
namespace {

// Every safetensors dtype name, so a known-but-unsupported one gets its own message.
constexpr std::string_view kOtherDtypes[] = {"BOOL", "U8", "I8", "I16", "U16", "I32", "U32", "I64", "U64",
                                             "F64", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F4", "C64"};
constexpr size_t kMaxNameBytes = 4096;
constexpr size_t kMaxRank = 8;

// A JSON string quoted for an error message, with control bytes escaped.
std::string quote_name(std::string_view s) {
  std::string out = "\"";
  for (const char c : s.substr(0, 200)) {
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  if (s.size() > 200) out += "...";
  return out + "\"";
}

Result<StDtype> parse_dtype(const std::string& name, const std::string& tensor) {
  if (name == "F32") return StDtype::kF32;
  if (name == "F16") return StDtype::kF16;
  if (name == "BF16") return StDtype::kBF16;
  for (const std::string_view other : kOtherDtypes)
    if (name == other)
      return make_error("tensor ", quote_name(tensor), ": dtype ", name, " is not supported (expected F32, F16 or BF16)");
  return make_error("tensor ", quote_name(tensor), ": unknown dtype ", quote_name(name));
}

Result<uint64_t> as_u64(const Json& v, const std::string& tensor, const char* field) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
    return make_error("tensor ", quote_name(tensor), ": ", field, " must hold non-negative integers");
  return v.get<uint64_t>();
}

Result<StTensor> parse_entry(const std::string& name, const Json& entry, uint64_t data_size) {
  if (name.empty()) return make_error("a tensor has an empty name");
  if (name.size() > kMaxNameBytes) return make_error("tensor name ", quote_name(name), " is longer than ", kMaxNameBytes, " bytes");
  for (const char c : name)
    if (static_cast<unsigned char>(c) < 0x20) return make_error("tensor name ", quote_name(name), " holds a control character");
  if (!entry.is_object()) return make_error("tensor ", quote_name(name), ": entry is not an object");
  for (const auto& [key, value] : entry.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      return make_error("tensor ", quote_name(name), ": unknown field ", quote_name(key));

  StTensor t;
  t.name = name;
  const auto dtype = entry.find("dtype");
  if (dtype == entry.end() || !dtype->is_string()) return make_error("tensor ", quote_name(name), ": missing or non-string dtype");
  Result<StDtype> d = parse_dtype(dtype->get<std::string>(), name);
  if (!d) return d.error();
  t.dtype = *d;

  const auto shape = entry.find("shape");
  if (shape == entry.end() || !shape->is_array()) return make_error("tensor ", quote_name(name), ": missing or non-array shape");
  if (shape->size() > kMaxRank) return make_error("tensor ", quote_name(name), ": shape has ", shape->size(), " dimensions (at most ", kMaxRank, ")");
  t.n_elements = 1;
  for (const Json& dim : *shape) {
    Result<uint64_t> n = as_u64(dim, name, "shape");
    if (!n) return n.error();
    t.shape.push_back(*n);
    if (__builtin_mul_overflow(t.n_elements, *n, &t.n_elements))
      return make_error("tensor ", quote_name(name), ": shape's element count overflows 64 bits");
  }

  const auto offsets = entry.find("data_offsets");
  if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2)
    return make_error("tensor ", quote_name(name), ": data_offsets must be [begin, end]");
  Result<uint64_t> begin = as_u64((*offsets)[0], name, "data_offsets");
  if (!begin) return begin.error();
  Result<uint64_t> end = as_u64((*offsets)[1], name, "data_offsets");
  if (!end) return end.error();
  t.begin = *begin;
  t.end = *end;
  if (t.begin > t.end) return make_error("tensor ", quote_name(name), ": data_offsets begin ", t.begin, " > end ", t.end);
  if (t.end > data_size)
    return make_error("tensor ", quote_name(name), ": data_offsets end ", t.end, " is past the data section (", data_size, " bytes)");
  uint64_t n_bytes = 0;
  if (__builtin_mul_overflow(t.n_elements, dtype_size(t.dtype), &n_bytes) || n_bytes != t.end - t.begin)
    return make_error("tensor ", quote_name(name), ": shape needs ", t.n_elements, " x ", dtype_size(t.dtype),
                      " bytes but data_offsets cover ", t.end - t.begin);
  return t;
}

Result<std::vector<std::pair<std::string, std::string>>> parse_metadata(const Json& m) {
  if (!m.is_object()) return make_error("\"__metadata__\" is not an object");
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [key, value] : m.items()) {
    if (!value.is_string()) return make_error("\"__metadata__\" value of ", quote_name(key), " is not a string");
    out.emplace_back(key, value.get<std::string>());
  }
  return out;
}

}  // namespace

const char* dtype_name(StDtype dtype) {
  switch (dtype) {
    case StDtype::kF32: return "F32";
    case StDtype::kF16: return "F16";
    case StDtype::kBF16: return "BF16";
  }
  return "?";
}

size_t dtype_size(StDtype dtype) { return dtype == StDtype::kF32 ? 4 : 2; }

Result<StHeader> parse_safetensors_header(std::span<const uint8_t> file) {
  StHeader h;
  if (file.size() < 8) return make_error("file is ", file.size(), " bytes, too short for the 8-byte header length");
  std::memcpy(&h.json_size, file.data(), 8);  // little-endian, as the host (checked in gguf/byte_reader.h)
  if (h.json_size > kMaxHeaderBytes)
    return make_error("header length ", h.json_size, " exceeds the ", kMaxHeaderBytes, "-byte limit");
  if (h.json_size > file.size() - 8)
    return make_error("header length ", h.json_size, " is past the end of the file (", file.size(), " bytes)");
  if (h.json_size < 2) return make_error("header length ", h.json_size, " is too short for a JSON object");
  h.data_start = 8 + h.json_size;
  const std::string_view text(reinterpret_cast<const char*>(file.data()) + 8, static_cast<size_t>(h.json_size));
  if (text[0] != '{') return make_error("header does not start with '{'");

  Result<Json> json = parse_json(text, "header");
  if (!json) return json.error();
  if (!json->is_object()) return make_error("header is not a JSON object");
  const uint64_t data_size = file.size() - h.data_start;
  for (const auto& [name, entry] : json->items()) {
    if (name == "__metadata__") {
      auto meta = parse_metadata(entry);
      if (!meta) return meta.error();
      h.metadata = std::move(*meta);
      continue;
    }
    Result<StTensor> t = parse_entry(name, entry, data_size);
    if (!t) return t.error();
    h.tensors.push_back(std::move(*t));
  }

  // The byte ranges, in offset order, must tile the data section exactly.
  std::vector<const StTensor*> by_offset;
  for (const StTensor& t : h.tensors) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](const StTensor* a, const StTensor* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t covered = 0;
  for (size_t i = 0; i < by_offset.size(); ++i) {
    const StTensor& t = *by_offset[i];
    if (t.begin < covered)
      return make_error("tensor ", quote_name(t.name), ": data_offsets [", t.begin, ", ", t.end, ") overlap tensor ",
                        quote_name(by_offset[i - 1]->name));
    if (t.begin > covered)
      return make_error("tensor ", quote_name(t.name), ": data_offsets begin ", t.begin, " leaves a hole after byte ", covered);
    covered = t.end;
  }
  if (covered != data_size)
    return make_error("data section is ", data_size, " bytes but the tensors cover ", covered);
  std::sort(h.tensors.begin(), h.tensors.end(), [](const StTensor& a, const StTensor& b) { return a.name < b.name; });
  return h;
}

Result<std::unique_ptr<StFile>> StFile::open(const std::string& path) {
  Result<std::unique_ptr<gguf::MappedFile>> mapped = gguf::MappedFile::open(path);
  if (!mapped) return mapped.error();
  Result<StHeader> header = parse_safetensors_header((*mapped)->bytes());
  if (!header) return make_error(path, ": ", header.error().message);
  return std::unique_ptr<StFile>(new StFile(std::move(*mapped), std::move(*header)));
}

std::span<const uint8_t> StFile::bytes(const StTensor& t) const {
  return mapped_->bytes().subspan(static_cast<size_t>(header_.data_start + t.begin), static_cast<size_t>(t.end - t.begin));
}

Result<StIndex> parse_safetensors_index(std::string_view json_text) {
  Result<Json> json = parse_json(json_text, "model.safetensors.index.json");
  if (!json) return json.error();
  const auto map = json->is_object() ? json->find("weight_map") : json->end();
  if (!json->is_object() || map == json->end() || !map->is_object())
    return make_error("model.safetensors.index.json: no \"weight_map\" object");
  StIndex index;
  for (const auto& [tensor, file] : map->items()) {
    if (!file.is_string()) return make_error("model.safetensors.index.json: file of tensor \"", tensor, "\" is not a string");
    const std::string name = file.get<std::string>();
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
        name.find('\0') != std::string::npos)
      return make_error("model.safetensors.index.json: tensor \"", tensor, "\" names file \"", name,
                        "\", which is not a plain file name in the folder");
    index.weight_map.emplace_back(tensor, name);
    index.files.push_back(name);
  }
  std::sort(index.files.begin(), index.files.end());
  index.files.erase(std::unique(index.files.begin(), index.files.end()), index.files.end());
  return index;
}

Result<StCheckpoint> StCheckpoint::open(const std::string& dir) {
  namespace fs = std::filesystem;
  StCheckpoint ckpt;
  std::vector<std::string> part_names;
  std::optional<StIndex> index;
  const fs::path index_path = fs::path(dir) / "model.safetensors.index.json";
  std::error_code ec;
  if (fs::is_regular_file(index_path, ec)) {
    std::ifstream in(index_path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) return make_error("cannot read '", index_path.string(), "'");
    Result<StIndex> parsed = parse_safetensors_index(text.str());
    if (!parsed) return parsed.error();
    index = std::move(*parsed);
    part_names = index->files;
  } else {
    for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
      const std::string name = e.path().filename().string();
      if (name.starts_with("model") && name.ends_with(".safetensors")) part_names.push_back(name);
    }
    if (ec) return make_error("cannot list '", dir, "': ", ec.message());
    std::sort(part_names.begin(), part_names.end());
  }
  if (part_names.empty()) return make_error("no model*.safetensors file in '", dir, "'");

  std::map<std::string_view, size_t> seen;  // tensor name -> file index
  for (const std::string& part : part_names) {
    Result<std::unique_ptr<StFile>> file = StFile::open((fs::path(dir) / part).string());
    if (!file) return file.error();
    ckpt.files_.push_back(std::move(*file));
    const StFile* f = ckpt.files_.back().get();
    for (const StTensor& t : f->header().tensors) {
      if (auto [it, fresh] = seen.emplace(t.name, ckpt.files_.size() - 1); !fresh)
        return make_error("tensor \"", t.name, "\" is in both '", part_names[it->second], "' and '", part, "'");
      ckpt.entries_.push_back({&t, f});
    }
  }
  if (index) {
    for (const auto& [tensor, file] : index->weight_map) {
      const auto it = seen.find(tensor);
      if (it == seen.end())
        return make_error("model.safetensors.index.json lists tensor \"", tensor, "\" in '", file, "', which does not hold it");
      if (part_names[it->second] != file)
        return make_error("model.safetensors.index.json lists tensor \"", tensor, "\" in '", file, "' but it is in '",
                          part_names[it->second], "'");
    }
    if (index->weight_map.size() != ckpt.entries_.size())
      return make_error("the shards hold ", ckpt.entries_.size(), " tensors but model.safetensors.index.json lists ",
                        index->weight_map.size());
  }
  return ckpt;
}

const StCheckpoint::Entry* StCheckpoint::find(std::string_view name) const {
  for (const Entry& e : entries_)
    if (e.tensor->name == name) return &e;
  return nullptr;
}

}  // namespace hy2bit::convert
