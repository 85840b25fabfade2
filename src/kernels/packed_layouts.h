// The repacked weight layouts the SIMD kernels read, and the ISA-neutral
// repack functions (repack.cpp) that build them once at load. Every layout
// interleaves R rows (a "tile": R = 16 for AVX-512, 8 for AVX2) so one 32-bit
// SIMD lane holds one row and every integer block sum comes out per row with
// no horizontal reduction. Repacked copies are the same size as the file's
// bytes (2-bit stays 2-bit), plus padding of the last tile to R rows
// (padded rows are zero and never stored to y). No intrinsics here.
//
// Quantized layouts: one array of per-block "heads" (scales), padded to 64
// bytes, then one array of per-block code groups, both indexed [tile][block]:
//
// q2_0c (block of 512 k): head PackedD<R> = fp16 d of the R rows.
//   PackedQ2_0C<R>::qs[g][4r + m] (g = 0..31 groups of 16 k): bits 2j..2j+1
//   hold the 2-bit code of row r at k = 512*block + 16g + 4j + m. A 4R-byte
//   load shifted right by 2j and masked with 3 gives, per row lane, the codes
//   of 4 consecutive k (16g+4j .. +3): exactly one vpdpbusd against the
//   activation dword a[16g+4j .. +3] broadcast to every lane.
// Q6_K (block of 256 k): head PackedQ6_KHead<R> = fp16 d[R], int8
//   scales[16][R] (scales[g][r]: scale of row r for k in 16g..16g+15).
//   PackedQ6_K<R>::groups[g][p][4r + m] with k = 16g + 4j + m:
//   p = 0: low nibble = low 4 bits of q6 for j = 0, high nibble for j = 1;
//   p = 1: the same for j = 2, 3; p = 2: bits 2j..2j+1 = high 2 bits of q6.
//   q6 is the unsigned 6-bit code (value = d * scale * (q6 - 32)).
// Q8_0 (block of 32 k): head PackedD<R>; PackedQ8_0<R>::qs[g][4r + m] = the
//   int8 weight at k = 32*block + 4g + m, stored XOR 0x80 (as unsigned w + 128)
//   when the path asks for offset binary (AVX-512 VNNI wants u8 x s8).
// Q4_0 (block of 32 k): head PackedD<R>; PackedQ4_0<R>::qs[g][4r + m]: low
//   nibble = code at k = 32*block + 8g + m, high nibble = code at k + 4.
//
// Float layouts (F32, F16, BF16): [tile][k][R] elements, R rows of one k
// contiguous, so one load gives one k for R row lanes (an outer-product GEMM).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "formats/blocks.h"
#include "kernels/prepared_weights.h"

namespace hy2bit::kernels {

template <int R>
struct PackedD {
  formats::f16_bits d[R];
};

template <int R>
struct PackedQ2_0C {
  static constexpr int kElems = 512;
  uint8_t qs[32][4 * R];
};

template <int R>
struct PackedQ6_KHead {
  formats::f16_bits d[R];
  int8_t scales[16][R];
};

template <int R>
struct PackedQ6_K {
  static constexpr int kElems = 256;
  uint8_t groups[16][3][4 * R];
};

template <int R>
struct PackedQ8_0 {
  static constexpr int kElems = 32;
  uint8_t qs[8][4 * R];
};

template <int R>
struct PackedQ4_0 {
  static constexpr int kElems = 32;
  uint8_t qs[4][4 * R];
};

// A typed view of a repacked quantized matrix.
template <typename Head, typename Block>
struct PackedMatrix {
  int64_t n_rows = 0;             // real rows (the last tile may be padded)
  int64_t n_tiles = 0;            // ceil(n_rows / R)
  int64_t n_blocks = 0;           // blocks per row
  const Head* heads = nullptr;    // [n_tiles][n_blocks]
  const Block* blocks = nullptr;  // [n_tiles][n_blocks]
};

// A typed view of a repacked float matrix: data[(tile * n_cols + k) * R + r].
template <typename T>
struct PackedFloat {
  int64_t n_rows = 0;
  int64_t n_cols = 0;
  int64_t n_tiles = 0;
  const T* data = nullptr;
};

// Bytes of a repacked quantized matrix: heads padded to 64, then blocks.
size_t packed_bytes(int64_t n_rows, int64_t n_cols, int rows_per_tile, int64_t block_elems,
                    size_t head_bytes, size_t block_bytes);
// Offset of the blocks array inside such a buffer.
size_t packed_blocks_offset(int64_t n_rows, int64_t n_cols, int rows_per_tile, int64_t block_elems,
                            size_t head_bytes);

// Repackers (shape already checked by PreparedWeights::prepare). `out` is
// packed_bytes(...) long for the matching head/block sizes.
void repack_q2_0c(const WeightView& view, int rows_per_tile, std::span<uint8_t> out);
void repack_q6_k(const WeightView& view, int rows_per_tile, std::span<uint8_t> out);
void repack_q8_0(const WeightView& view, int rows_per_tile, bool offset_binary,
                 std::span<uint8_t> out);
void repack_q4_0(const WeightView& view, int rows_per_tile, std::span<uint8_t> out);
// Float types: element bytes 4 (F32) or 2 (F16, BF16), copied as raw bits.
size_t packed_float_bytes(int64_t n_rows, int64_t n_cols, int rows_per_tile, size_t elem_bytes);
void repack_float(const WeightView& view, int rows_per_tile, size_t elem_bytes,
                  std::span<uint8_t> out);

// Typed views over a repacked buffer (the ISA files call these in their table
// adapters). Internal linkage on purpose: each ISA file gets its own copy, so
// no copy compiled with AVX-512 flags can be picked by the linker for another.
namespace {

template <typename Head, typename Block, int R>
PackedMatrix<Head, Block> packed_view(const PreparedWeights& w) {
  const WeightView& v = w.view();
  PackedMatrix<Head, Block> m;
  m.n_rows = v.n_rows;
  m.n_tiles = (v.n_rows + R - 1) / R;
  m.n_blocks = v.n_cols / Block::kElems;
  const uint8_t* base = w.repacked().data();
  m.heads = reinterpret_cast<const Head*>(base);
  m.blocks = reinterpret_cast<const Block*>(
      base + packed_blocks_offset(v.n_rows, v.n_cols, R, Block::kElems, sizeof(Head)));
  return m;
}

template <typename T, int R>
PackedFloat<T> packed_float_view(const PreparedWeights& w) {
  const WeightView& v = w.view();
  PackedFloat<T> m;
  m.n_rows = v.n_rows;
  m.n_cols = v.n_cols;
  m.n_tiles = (v.n_rows + R - 1) / R;
  m.data = reinterpret_cast<const T*>(w.repacked().data());
  return m;
}

}  // namespace

}  // namespace hy2bit::kernels
