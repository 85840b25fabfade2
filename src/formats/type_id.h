// GGUF tensor type ids and the one table that describes each type hy2bit
// knows (name, block size, bytes per block). Code asks this table instead of
// switching over types. No ISA intrinsics and no allocation here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace hy2bit::formats {

// Ids as GGUF files store them (ggml's GGML_TYPE_*). 40 is q2_0c in llama.cpp
// pull request 19357 but NVFP4 in later mainline: see q2_0c.md and
// resolve_type_id() for how a reader tells them apart.
enum class TypeId : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ8_0 = 8,
  kQ6_K = 14,
  kBF16 = 30,
  kQ2_0C = 40,
};

struct TypeInfo {
  TypeId id;
  std::string_view name;     // llama.cpp's spelling: "f32", "q6_K", "q2_0c"
  int64_t block_elems;       // weights per block (1 for plain float types)
  int64_t block_bytes;       // bytes per block
};

// The info for a supported type, or nullopt for ids hy2bit does not read.
std::optional<TypeInfo> type_info(TypeId id);
// Looks a type up by its raw GGUF id; nullopt when unsupported.
std::optional<TypeInfo> type_info_from_raw(uint32_t raw_id);
// Looks a type up by llama.cpp's name ("q2_0c", "Q6_K", "f16"; case-insensitive).
std::optional<TypeInfo> type_info_from_name(std::string_view name);

// Bytes needed for n_elems elements of a type, or nullopt if n_elems is not a
// whole number of blocks or the product overflows.
std::optional<uint64_t> bytes_for_elems(const TypeInfo& info, uint64_t n_elems);

}  // namespace hy2bit::formats
