// Scalar reference conversions between float32 and every tensor type: the
// oracle the fast kernels are tested against, and what quantize and the
// model's embedding lookup use. One entry point per direction; the per-type
// code lives in q2_0c.cpp, q6_k.cpp, q8_0.cpp, q4_0.cpp, float_types.cpp.
#pragma once

#include <cstdint>
#include <span>

#include "formats/float_types.h"
#include "formats/type_id.h"

namespace hy2bit::formats {

// f16_to_f32, f32_to_f16, bf16_to_f32 and f32_to_bf16 (one value each) come
// from float_types.h, included here because most code converts through this file.

// Decodes n elements (a whole number of blocks of `type`) from src to dst.
// src must hold bytes_for_elems(type, n) bytes.
void dequantize(TypeId type, const uint8_t* src, float* dst, int64_t n);

// Encodes one row of n elements (a whole number of blocks) from src into dst
// (bytes_for_elems(type, n) bytes). For q2_0c the row is the unit that owns
// one scale, exactly as llama.cpp PR 19357's reference quantizer does, so the
// bytes match it; for the other types rows are just runs of blocks.
void quantize_row(TypeId type, const float* src, uint8_t* dst, int64_t n);

// How well one q2_0c row was represented: whether decoding gives the input
// back exactly (a QDQ row) and the largest absolute error otherwise.
struct RowFit {
  bool exact = true;
  float max_abs_error = 0.0f;
};
RowFit q2_0c_row_fit(const float* src, const uint8_t* encoded, int64_t n);

}  // namespace hy2bit::formats
