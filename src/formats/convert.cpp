// The byte-level entry points of convert.h: one table row per type binds the
// typed per-type functions (q2_0c.h, q6_k.h, ...) to raw bytes, so no
// function here switches over types.
#include "formats/convert.h"

#include <array>
#include <cassert>
#include <cstring>
#include <vector>

#include "formats/float_types.h"
#include "formats/q2_0c.h"
#include "formats/q4_0.h"
#include "formats/q6_k.h"
#include "formats/q8_0.h"

namespace hy2bit::formats {
namespace {

// Units per element group: a block struct (kElems weights) or one scalar.
template <typename Unit>
constexpr int64_t unit_elems() {
  if constexpr (requires { Unit::kElems; }) {
    return Unit::kElems;
  } else {
    return 1;
  }
}

bool is_aligned(const void* p, size_t alignment) {
  return reinterpret_cast<uintptr_t>(p) % alignment == 0;
}

// Adapts a typed decoder to bytes. Mapped tensors are 32-byte aligned, so the
// copy for an unaligned pointer (needed to avoid misaligned loads) is rare.
template <typename Unit, void (*Decode)(std::span<const Unit>, float*)>
void dequantize_bytes(const uint8_t* src, float* dst, int64_t n) {
  const auto n_units = static_cast<size_t>(n / unit_elems<Unit>());
  if (is_aligned(src, alignof(Unit))) {
    Decode({reinterpret_cast<const Unit*>(src), n_units}, dst);
    return;
  }
  std::vector<Unit> copy(n_units);
  std::memcpy(copy.data(), src, n_units * sizeof(Unit));
  Decode(copy, dst);
}

// Adapts a typed encoder to bytes, with the same unaligned fallback.
template <typename Unit, void (*Encode)(const float*, std::span<Unit>)>
void quantize_bytes(const float* src, uint8_t* dst, int64_t n) {
  const auto n_units = static_cast<size_t>(n / unit_elems<Unit>());
  if (is_aligned(dst, alignof(Unit))) {
    Encode(src, {reinterpret_cast<Unit*>(dst), n_units});
    return;
  }
  std::vector<Unit> encoded(n_units);
  Encode(src, encoded);
  std::memcpy(dst, encoded.data(), n_units * sizeof(Unit));
}

// f32 is stored as is; memcpy has no alignment needs.
void dequantize_f32(const uint8_t* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}
void quantize_f32(const float* src, uint8_t* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

struct Codec {
  TypeId type;
  void (*dequantize)(const uint8_t* src, float* dst, int64_t n);
  void (*quantize_row)(const float* src, uint8_t* dst, int64_t n);
};

constexpr std::array<Codec, 7> kCodecs = {{
    {TypeId::kF32, dequantize_f32, quantize_f32},
    {TypeId::kF16, dequantize_bytes<f16_bits, dequantize_f16>, quantize_bytes<f16_bits, quantize_f16>},
    {TypeId::kBF16, dequantize_bytes<bf16_bits, dequantize_bf16>, quantize_bytes<bf16_bits, quantize_bf16>},
    {TypeId::kQ8_0, dequantize_bytes<BlockQ8_0, dequantize_q8_0>, quantize_bytes<BlockQ8_0, quantize_q8_0>},
    {TypeId::kQ4_0, dequantize_bytes<BlockQ4_0, dequantize_q4_0>, quantize_bytes<BlockQ4_0, quantize_q4_0>},
    {TypeId::kQ6_K, dequantize_bytes<BlockQ6_K, dequantize_q6_k>, quantize_bytes<BlockQ6_K, quantize_q6_k>},
    {TypeId::kQ2_0C, dequantize_bytes<BlockQ2_0C, dequantize_q2_0c>,
     quantize_bytes<BlockQ2_0C, quantize_row_q2_0c>},
}};

// The codec of a type. Every TypeId has one (the table mirrors type_id.cpp's),
// so a miss is a programming error.
const Codec* find_codec(TypeId type) {
  for (const Codec& codec : kCodecs)
    if (codec.type == type) return &codec;
  assert(false && "no codec for this TypeId");
  return nullptr;
}

}  // namespace

void dequantize(TypeId type, const uint8_t* src, float* dst, int64_t n) {
  if (const Codec* codec = find_codec(type)) codec->dequantize(src, dst, n);
}

void quantize_row(TypeId type, const float* src, uint8_t* dst, int64_t n) {
  if (const Codec* codec = find_codec(type)) codec->quantize_row(src, dst, n);
}

RowFit q2_0c_row_fit(const float* src, const uint8_t* encoded, int64_t n) {
  const auto n_blocks = static_cast<size_t>(n / BlockQ2_0C::kElems);
  if (is_aligned(encoded, alignof(BlockQ2_0C)))
    return fit_row_q2_0c(src, {reinterpret_cast<const BlockQ2_0C*>(encoded), n_blocks});
  std::vector<BlockQ2_0C> copy(n_blocks);
  std::memcpy(copy.data(), encoded, n_blocks * sizeof(BlockQ2_0C));
  return fit_row_q2_0c(src, copy);
}

}  // namespace hy2bit::formats
