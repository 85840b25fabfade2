// KvCache storage and the row conversions it stores and loads with: f16
// with F16C where the CPU has it (else the formats' scalar conversion), q8_0
// through the formats' reference quantizer.
#include "model/kv_cache.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "formats/convert.h"

namespace hy2bit::model {
namespace {

#if defined(__x86_64__)
// F16C converts 8 values per instruction; GCC 12 does not vectorise
// _Float16 conversions on its own (it emitted one vcvtph2ps per value, 5% of
// a decode profile). Exact either way, so the choice is only speed.
__attribute__((target("avx,f16c"))) void f16_rows_to_f32_f16c(const uint16_t* src, int64_t src_stride,
                                                             int64_t n_rows, int64_t n, float* dst) {
  for (int64_t r = 0; r < n_rows; ++r, src += src_stride, dst += n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps(dst + i,
                       _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
    for (; i < n; ++i) dst[i] = formats::f16_to_f32(src[i]);
  }
}

__attribute__((target("avx,f16c"))) void f32_to_f16_f16c(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  for (; i < n; ++i) dst[i] = formats::f32_to_f16(src[i]);
}

bool have_f16c() {
  static const bool has = __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
  return has;
}
#endif

constexpr int64_t kQ8Block = 32;       // elements per q8_0 block
constexpr size_t kQ8BlockBytes = 34;   // f16 scale + 32 int8

size_t row_bytes_for(KvType type, int64_t kv_dim) {
  return type == KvType::kQ8_0 ? static_cast<size_t>(kv_dim / kQ8Block) * kQ8BlockBytes
                               : static_cast<size_t>(kv_dim) * sizeof(uint16_t);
}

}  // namespace

std::optional<KvType> parse_kv_type(std::string_view name) {
  if (name == "f16") return KvType::kF16;
  if (name == "q8_0") return KvType::kQ8_0;
  return std::nullopt;
}

std::string_view kv_type_name(KvType type) { return type == KvType::kQ8_0 ? "q8_0" : "f16"; }

void f16_rows_to_f32(const uint16_t* src, int64_t src_stride, int64_t n_rows, int64_t n,
                     float* dst) {
#if defined(__x86_64__)
  if (have_f16c()) return f16_rows_to_f32_f16c(src, src_stride, n_rows, n, dst);
#endif
  for (int64_t r = 0; r < n_rows; ++r)
    for (int64_t i = 0; i < n; ++i) dst[r * n + i] = formats::f16_to_f32(src[r * src_stride + i]);
}

void f16_row_to_f32(const uint16_t* src, float* dst, int64_t n) { f16_rows_to_f32(src, n, 1, n, dst); }

void f32_row_to_f16(const float* src, uint16_t* dst, int64_t n) {
#if defined(__x86_64__)
  if (have_f16c()) return f32_to_f16_f16c(src, dst, n);
#endif
  for (int64_t i = 0; i < n; ++i) dst[i] = formats::f32_to_f16(src[i]);
}

KvCache::KvCache(int64_t n_layer, int64_t n_ctx, int64_t kv_dim, KvType type)
    : n_ctx_(n_ctx), kv_dim_(kv_dim), type_(type), row_bytes_(row_bytes_for(type, kv_dim)),
      k_(static_cast<size_t>(n_layer * n_ctx) * row_bytes_),
      v_(static_cast<size_t>(n_layer * n_ctx) * row_bytes_) {}

KvCache KvCache::copy() const {
  KvCache c;
  c.n_ctx_ = n_ctx_;
  c.kv_dim_ = kv_dim_;
  c.type_ = type_;
  c.row_bytes_ = row_bytes_;
  c.k_ = k_.copy();
  c.v_ = v_.copy();
  return c;
}

void KvCache::store(int64_t layer, int64_t pos, const float* k, const float* v) {
  auto* k_row = static_cast<uint8_t*>(k_.data()) + row_offset(layer, pos);
  auto* v_row = static_cast<uint8_t*>(v_.data()) + row_offset(layer, pos);
  if (type_ == KvType::kQ8_0) {
    formats::quantize_row(formats::TypeId::kQ8_0, k, k_row, kv_dim_);
    formats::quantize_row(formats::TypeId::kQ8_0, v, v_row, kv_dim_);
    return;
  }
  f32_row_to_f16(k, reinterpret_cast<uint16_t*>(k_row), kv_dim_);
  f32_row_to_f16(v, reinterpret_cast<uint16_t*>(v_row), kv_dim_);
}

void KvCache::load(const runtime::PageBuffer& buffer, int64_t layer, int64_t pos, int64_t n_rows,
                   int64_t offset, int64_t n, float* dst) const {
  const auto* first = static_cast<const uint8_t*>(buffer.data()) + row_offset(layer, pos);
  if (type_ == KvType::kQ8_0) {
    for (int64_t r = 0; r < n_rows; ++r)
      formats::dequantize(formats::TypeId::kQ8_0,
                          first + r * row_bytes_ + offset / kQ8Block * kQ8BlockBytes, dst + r * n, n);
    return;
  }
  f16_rows_to_f32(reinterpret_cast<const uint16_t*>(first) + offset,
                  static_cast<int64_t>(row_bytes_ / sizeof(uint16_t)), n_rows, n, dst);
}

void KvCache::load_k(int64_t layer, int64_t pos, int64_t n_rows, int64_t offset, int64_t n,
                     float* dst) const {
  load(k_, layer, pos, n_rows, offset, n, dst);
}

void KvCache::load_v(int64_t layer, int64_t pos, int64_t n_rows, int64_t offset, int64_t n,
                     float* dst) const {
  load(v_, layer, pos, n_rows, offset, n, dst);
}

}  // namespace hy2bit::model
