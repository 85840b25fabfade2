// The type table: the single place that lists each supported tensor type.
#include "formats/type_id.h"

#include <array>
#include <cctype>

#include "formats/blocks.h"

namespace hy2bit::formats {
namespace {

constexpr std::array<TypeInfo, 7> kTypes = {{
    {TypeId::kF32, "f32", 1, 4},
    {TypeId::kF16, "f16", 1, 2},
    {TypeId::kBF16, "bf16", 1, 2},
    {TypeId::kQ8_0, "q8_0", BlockQ8_0::kElems, sizeof(BlockQ8_0)},
    {TypeId::kQ4_0, "q4_0", BlockQ4_0::kElems, sizeof(BlockQ4_0)},
    {TypeId::kQ6_K, "q6_K", BlockQ6_K::kElems, sizeof(BlockQ6_K)},
    {TypeId::kQ2_0C, "q2_0c", BlockQ2_0C::kElems, sizeof(BlockQ2_0C)},
}};

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

}  // namespace

std::optional<TypeInfo> type_info(TypeId id) {
  for (const TypeInfo& info : kTypes)
    if (info.id == id) return info;
  return std::nullopt;
}

std::optional<TypeInfo> type_info_from_raw(uint32_t raw_id) {
  return type_info(static_cast<TypeId>(raw_id));
}

std::optional<TypeInfo> type_info_from_name(std::string_view name) {
  for (const TypeInfo& info : kTypes)
    if (equal_ignoring_case(info.name, name)) return info;
  return std::nullopt;
}

std::optional<uint64_t> bytes_for_elems(const TypeInfo& info, uint64_t n_elems) {
  const uint64_t block_elems = static_cast<uint64_t>(info.block_elems);
  if (n_elems % block_elems != 0) return std::nullopt;
  const uint64_t n_blocks = n_elems / block_elems;
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(n_blocks, static_cast<uint64_t>(info.block_bytes), &bytes))
    return std::nullopt;
  return bytes;
}

}  // namespace hy2bit::formats
