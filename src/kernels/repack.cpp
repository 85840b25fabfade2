// Builds the repacked layouts of packed_layouts.h from the file's blocks, once
// at load. Plain C++ (no ISA flags): correctness over speed, but linear in the
// weight bytes. Padded rows of the last tile are written as zeros.
#include <algorithm>
#include <cstring>

#include "formats/blocks.h"
#include "kernels/packed_layouts.h"

namespace hy2bit::kernels {
namespace {

using formats::BlockQ2_0C;
using formats::BlockQ4_0;
using formats::BlockQ6_K;
using formats::BlockQ8_0;

size_t round_up_64(size_t n) { return (n + 63) / 64 * 64; }

int64_t tile_count(int64_t n_rows, int rows_per_tile) {
  return (n_rows + rows_per_tile - 1) / rows_per_tile;
}

// The file's blocks of one row.
template <typename Block>
const Block* row_blocks(const WeightView& view, int64_t row) {
  const int64_t n_blocks = view.n_cols / Block::kElems;
  return reinterpret_cast<const Block*>(view.data.data()) + row * n_blocks;
}

// Transposes the 4 x 4 matrix of 2-bit fields of a little-endian dword:
// the field at byte j, bits 2s moves to byte s, bits 2j. A q2_0c source dword
// (byte j holds k = 4j + s) becomes a packed one (byte m holds k = 4j + m at
// bits 2j). Two delta swaps: 2 x 2 fields within 2 x 2 blocks, then blocks.
uint32_t transpose_2bit_4x4(uint32_t x) {
  uint32_t t = ((x >> 6) ^ x) & 0x00CC00CCu;
  x ^= t ^ (t << 6);
  t = ((x >> 12) ^ x) & 0x0000F0F0u;
  x ^= t ^ (t << 12);
  return x;
}

// The 256 unsigned 6-bit codes of a Q6_K block, in k order (see blocks.h).
void q6_k_codes(const BlockQ6_K& b, uint8_t* q6) {
  for (int half = 0; half < 2; ++half) {
    const uint8_t* ql = b.ql + 64 * half;
    const uint8_t* qh = b.qh + 32 * half;
    uint8_t* out = q6 + 128 * half;
    for (int l = 0; l < 32; ++l) {
      out[l] = static_cast<uint8_t>((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4));
      out[l + 32] = static_cast<uint8_t>((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4));
      out[l + 64] = static_cast<uint8_t>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
      out[l + 96] = static_cast<uint8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
    }
  }
}

// 4-bit code of element kk (0..31) of a Q4_0 block.
int q4_0_code(const BlockQ4_0& b, int kk) {
  return kk < 16 ? (b.qs[kk] & 0xF) : (b.qs[kk - 16] >> 4);
}

// Layout of a repacked quantized buffer: where heads and blocks start.
struct PackedPlan {
  int64_t n_tiles;
  int64_t n_blocks;  // per row
  uint8_t* heads;
  uint8_t* blocks;
};

PackedPlan plan(const WeightView& view, int rows_per_tile, int64_t block_elems, size_t head_bytes,
                std::span<uint8_t> out) {
  // Every byte of whole tiles is written below; only padded rows need zeros.
  if (view.n_rows % rows_per_tile != 0) std::memset(out.data(), 0, out.size());
  PackedPlan p;
  p.n_tiles = tile_count(view.n_rows, rows_per_tile);
  p.n_blocks = view.n_cols / block_elems;
  p.heads = out.data();
  p.blocks = out.data() +
             packed_blocks_offset(view.n_rows, view.n_cols, rows_per_tile, block_elems, head_bytes);
  return p;
}

}  // namespace

size_t packed_blocks_offset(int64_t n_rows, int64_t n_cols, int rows_per_tile, int64_t block_elems,
                            size_t head_bytes) {
  const int64_t n_heads = tile_count(n_rows, rows_per_tile) * (n_cols / block_elems);
  return round_up_64(static_cast<size_t>(n_heads) * head_bytes);
}

size_t packed_bytes(int64_t n_rows, int64_t n_cols, int rows_per_tile, int64_t block_elems,
                    size_t head_bytes, size_t block_bytes) {
  const int64_t n_heads = tile_count(n_rows, rows_per_tile) * (n_cols / block_elems);
  return packed_blocks_offset(n_rows, n_cols, rows_per_tile, block_elems, head_bytes) +
         static_cast<size_t>(n_heads) * block_bytes;
}

void repack_q2_0c(const WeightView& view, int rows_per_tile, std::span<uint8_t> out) {
  const int R = rows_per_tile;
  const size_t head_bytes = 2 * static_cast<size_t>(R);
  const size_t block_bytes = 32 * 4 * static_cast<size_t>(R);
  const PackedPlan p = plan(view, R, BlockQ2_0C::kElems, head_bytes, out);
  for (int64_t row = 0; row < view.n_rows; ++row) {
    const int64_t tile = row / R;
    const int r = static_cast<int>(row % R);
    const BlockQ2_0C* src = row_blocks<BlockQ2_0C>(view, row);
    for (int64_t i = 0; i < p.n_blocks; ++i) {
      const int64_t slot = tile * p.n_blocks + i;
      std::memcpy(p.heads + slot * head_bytes + 2 * r, &src[i].d, 2);
      uint8_t* dst = p.blocks + slot * block_bytes;
      for (int g = 0; g < 32; ++g) {
        uint32_t codes;
        std::memcpy(&codes, src[i].qs + 4 * g, 4);
        codes = transpose_2bit_4x4(codes);
        std::memcpy(dst + g * 4 * R + 4 * r, &codes, 4);
      }
    }
  }
}

void repack_q6_k(const WeightView& view, int rows_per_tile, std::span<uint8_t> out) {
  const int R = rows_per_tile;
  const size_t head_bytes = 2 * static_cast<size_t>(R) + 16 * static_cast<size_t>(R);
  const size_t block_bytes = 16 * 3 * 4 * static_cast<size_t>(R);
  const PackedPlan p = plan(view, R, BlockQ6_K::kElems, head_bytes, out);
  for (int64_t row = 0; row < view.n_rows; ++row) {
    const int64_t tile = row / R;
    const int r = static_cast<int>(row % R);
    const BlockQ6_K* src = row_blocks<BlockQ6_K>(view, row);
    for (int64_t i = 0; i < p.n_blocks; ++i) {
      const int64_t slot = tile * p.n_blocks + i;
      uint8_t* head = p.heads + slot * head_bytes;
      std::memcpy(head + 2 * r, &src[i].d, 2);
      for (int g = 0; g < 16; ++g) head[2 * R + g * R + r] = static_cast<uint8_t>(src[i].scales[g]);
      uint8_t q6[256];
      q6_k_codes(src[i], q6);
      uint8_t* dst = p.blocks + slot * block_bytes;
      for (int g = 0; g < 16; ++g) {
        uint8_t* group = dst + g * 3 * 4 * R;
        for (int m = 0; m < 4; ++m) {
          const uint8_t* q = q6 + 16 * g + m;  // q[4 * j]: the code of k = 16g + 4j + m
          group[4 * r + m] = static_cast<uint8_t>((q[0] & 0xF) | ((q[4] & 0xF) << 4));
          group[4 * R + 4 * r + m] = static_cast<uint8_t>((q[8] & 0xF) | ((q[12] & 0xF) << 4));
          group[8 * R + 4 * r + m] = static_cast<uint8_t>((q[0] >> 4) | ((q[4] >> 4) << 2) |
                                                          ((q[8] >> 4) << 4) | ((q[12] >> 4) << 6));
        }
      }
    }
  }
}

void repack_q8_0(const WeightView& view, int rows_per_tile, bool offset_binary,
                 std::span<uint8_t> out) {
  const int R = rows_per_tile;
  const size_t head_bytes = 2 * static_cast<size_t>(R);
  const size_t block_bytes = 8 * 4 * static_cast<size_t>(R);
  const PackedPlan p = plan(view, R, BlockQ8_0::kElems, head_bytes, out);
  const uint8_t flip = offset_binary ? 0x80 : 0x00;
  for (int64_t row = 0; row < view.n_rows; ++row) {
    const int64_t tile = row / R;
    const int r = static_cast<int>(row % R);
    const BlockQ8_0* src = row_blocks<BlockQ8_0>(view, row);
    for (int64_t i = 0; i < p.n_blocks; ++i) {
      const int64_t slot = tile * p.n_blocks + i;
      std::memcpy(p.heads + slot * head_bytes + 2 * r, &src[i].d, 2);
      uint8_t* dst = p.blocks + slot * block_bytes;
      for (int g = 0; g < 8; ++g)
        for (int m = 0; m < 4; ++m)
          dst[g * 4 * R + 4 * r + m] = static_cast<uint8_t>(src[i].qs[4 * g + m]) ^ flip;
    }
  }
  // Padded rows must read as weight 0 too: 0x80 in offset binary.
  if (offset_binary) {
    for (int64_t row = view.n_rows; row < p.n_tiles * R; ++row) {
      const int64_t tile = row / R;
      const int r = static_cast<int>(row % R);
      for (int64_t i = 0; i < p.n_blocks; ++i) {
        uint8_t* dst = p.blocks + (tile * p.n_blocks + i) * block_bytes;
        for (int g = 0; g < 8; ++g) std::memset(dst + g * 4 * R + 4 * r, 0x80, 4);
      }
    }
  }
}

void repack_q4_0(const WeightView& view, int rows_per_tile, std::span<uint8_t> out) {
  const int R = rows_per_tile;
  const size_t head_bytes = 2 * static_cast<size_t>(R);
  const size_t block_bytes = 4 * 4 * static_cast<size_t>(R);
  const PackedPlan p = plan(view, R, BlockQ4_0::kElems, head_bytes, out);
  for (int64_t row = 0; row < view.n_rows; ++row) {
    const int64_t tile = row / R;
    const int r = static_cast<int>(row % R);
    const BlockQ4_0* src = row_blocks<BlockQ4_0>(view, row);
    for (int64_t i = 0; i < p.n_blocks; ++i) {
      const int64_t slot = tile * p.n_blocks + i;
      std::memcpy(p.heads + slot * head_bytes + 2 * r, &src[i].d, 2);
      uint8_t* dst = p.blocks + slot * block_bytes;
      for (int g = 0; g < 4; ++g)
        for (int m = 0; m < 4; ++m)
          dst[g * 4 * R + 4 * r + m] = static_cast<uint8_t>(
              q4_0_code(src[i], 8 * g + m) | (q4_0_code(src[i], 8 * g + 4 + m) << 4));
    }
  }
}

size_t packed_float_bytes(int64_t n_rows, int64_t n_cols, int rows_per_tile, size_t elem_bytes) {
  return static_cast<size_t>(tile_count(n_rows, rows_per_tile) * rows_per_tile * n_cols) *
         elem_bytes;
}

void repack_float(const WeightView& view, int rows_per_tile, size_t elem_bytes,
                  std::span<uint8_t> out) {
  const int R = rows_per_tile;
  if (view.n_rows % R != 0) std::memset(out.data(), 0, out.size());
  const size_t row_bytes = static_cast<size_t>(view.n_cols) * elem_bytes;
  for (int64_t row = 0; row < view.n_rows; ++row) {
    const int64_t tile = row / R;
    const int r = static_cast<int>(row % R);
    const uint8_t* src = view.data.data() + static_cast<size_t>(row) * row_bytes;
    uint8_t* dst = out.data() + static_cast<size_t>(tile * view.n_cols * R + r) * elem_bytes;
    for (int64_t k = 0; k < view.n_cols; ++k)
      std::memcpy(dst + static_cast<size_t>(k * R) * elem_bytes, src + k * elem_bytes, elem_bytes);
  }
}

}  // namespace hy2bit::kernels
