// The table of typed kernel function pointers for one ISA path (scalar,
// avx2, avx2_vnni, avx512, neon, neon_i8mm) and the quantized-activation
// format they share.
// Each weight type gets: an activation quantizer, an optional repack into the
// path's layout (packed_layouts.h) and a row-range GEMM. No intrinsics here.
//
// The scheme: dispatch.cpp picks one table when the program starts. scalar/
// is plain C++, the reference every other path is tested against. Each SIMD
// folder (x86_avx2/, built twice, x86_avx512/, arm_neon/) compiles with its
// ISA's flags; what is the same on every path is written once in simd/ (the
// tile walk, the float GEMM, the float loops of FloatOps) against a small
// per-path traits struct and included by each folder, so every copy gets
// its own flags; the folders keep only their traits, the micro-kernels whose
// instructions really differ, and table.cpp, which fills this table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "formats/type_id.h"
#include "kernels/float_ops.h"
#include "kernels/prepared_weights.h"

namespace hy2bit::kernels {

// Activations quantized for the integer kernels, the same bytes on every path
// so integer dot products are bit-exact across ISAs. Per token and per block
// of `block` elements (256 for q2_0c and Q6_K, like llama.cpp's Q8_K; 32 for
// Q8_0 and Q4_0, like Q8_0): amax = max |x|, d = amax / 127,
// q = round_to_nearest_even(x * (127 / amax)) clamped to [-127, 127]
// (d = 0 and q = 0 when amax is 0). Then x ~= q * d.
struct ActsQ8 {
  int64_t n_tokens = 0;
  int64_t n_cols = 0;
  int64_t block = 0;          // elements per scale: 256 or 32
  int8_t* qs = nullptr;       // [n_tokens][n_cols]
  float* d = nullptr;         // [n_tokens][n_cols / block] scale of each block
  int32_t* sums = nullptr;    // [n_tokens][n_cols / block] sum of qs in each block
  int32_t* sums16 = nullptr;  // [n_tokens][n_cols / 16] sum of qs per 16 (block 256 only)
  // Optional token-interleaved copy of qs for multi-token kernels, so the
  // activation dwords one weight load meets sit side by side:
  // [ceil(n_tokens / tile_tokens)][n_cols / 4][tile_tokens] dwords, dword
  // (tile, c, t) = qs[tile * tile_tokens + t][4c .. 4c + 3]; tokens past
  // n_tokens in the last tile read as zero. nullptr when not wanted.
  int8_t* qs_tiled = nullptr;
  int64_t tile_tokens = 0;
};

// The byte offset of token t's dword c (columns 4c .. 4c + 3) in
// ActsQ8::qs_tiled. Internal linkage: no copy built with an ISA's flags may
// be shared with code that runs without them.
namespace {
inline int64_t tiled_dword_offset(const ActsQ8& acts, int64_t t, int64_t c) {
  const int64_t tile = t / acts.tile_tokens;
  return ((tile * (acts.n_cols / 4) + c) * acts.tile_tokens + t % acts.tile_tokens) * 4;
}
}  // namespace

// Elements per scale of each activation format.
constexpr int64_t kActBlockQ8K = 256;
constexpr int64_t kActBlockQ8_0 = 32;

// Quantizes tokens [token_begin, token_end) of x ([n_tokens][acts.n_cols] f32)
// into acts (whose arrays are sized for all acts.n_tokens tokens), including
// qs_tiled when it is set; then token_begin must be a multiple of
// acts.tile_tokens and token_end one too or n_tokens (whole tiles per call).
using QuantizeActsFn = void (*)(const float* x, int64_t token_begin, int64_t token_end,
                                const ActsQ8& acts);

// Everything one GEMM call needs. Rows are split by the caller; the kernel
// computes y[t][r] for every token t and rows r in [row_begin, row_end).
struct GemmArgs {
  const PreparedWeights* w = nullptr;  // shape, the file's bytes, the repacked bytes
  const float* x = nullptr;            // [n_tokens][n_cols] f32 activations (float types)
  const ActsQ8* acts = nullptr;        // quantized activations (integer types)
  int64_t n_tokens = 0;
  float* y = nullptr;  // [n_tokens][ldy] outputs
  int64_t ldy = 0;     // floats between tokens in y (n_rows)
};
// The table's thin adapter: turns GemmArgs into the typed views (spans of
// block structs or packed tiles) and calls the typed kernel of the ISA file.
using GemmFn = void (*)(const GemmArgs& args, int64_t row_begin, int64_t row_end);

// Bytes of the repacked copy for a shape (0: the kernel reads the file's bytes).
using RepackedBytesFn = size_t (*)(int64_t n_rows, int64_t n_cols);
// Writes the repacked copy of `view` into out (repacked_bytes long, 64-byte aligned).
using RepackFn = void (*)(const WeightView& view, std::span<uint8_t> out);

// The kernels of one weight type on one path.
struct TypeKernels {
  QuantizeActsFn quantize = nullptr;  // nullptr: the GEMM reads f32 x directly
  int64_t act_block = 0;              // ActsQ8::block the GEMM expects (0 for f32)
  int64_t act_tile_tokens = 0;        // ActsQ8::tile_tokens it reads when n_tokens > 1 (0: none)
  RepackedBytesFn repacked_bytes = nullptr;  // nullptr: no repack
  RepackFn repack = nullptr;
  GemmFn gemm = nullptr;  // nullptr: type not supported on this path
  int64_t row_tile = 1;   // rows per tile: thread splits align to it
};

// One ISA path: its name, the kernels of each weight type and the float
// loops of the rest of the forward pass.
struct KernelTable {
  std::string_view isa;  // "scalar", "avx2", "avx512", "neon", "neon_i8mm"
  TypeKernels f32;
  TypeKernels f16;
  TypeKernels bf16;
  TypeKernels q8_0;
  TypeKernels q4_0;
  TypeKernels q6_k;
  TypeKernels q2_0c;
  FloatOps ops;
};

// The entry of a weight type, or nullptr when the path does not support it.
const TypeKernels* kernels_for_type(const KernelTable& table, formats::TypeId type);

// Each path's table, built by a function in its own folder. Call one only
// after checking that the CPU runs that ISA: its code may use it anywhere.
namespace scalar {
KernelTable make_table();
}
namespace avx2 {
KernelTable make_table();
}
namespace avx2_vnni {  // the x86_avx2 sources built with AVX-VNNI
KernelTable make_table();
}
namespace avx512 {
KernelTable make_table();
}
namespace neon {
KernelTable make_table();
}

}  // namespace hy2bit::kernels
