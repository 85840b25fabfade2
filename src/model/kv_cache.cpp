// KvCache storage: f16 rows converted by the kernel path's FloatOps, q8_0
// through the formats' reference quantizer.
#include "model/kv_cache.h"

#include <algorithm>

#include "formats/convert.h"

namespace hy2bit::model {
namespace {

constexpr int64_t kQ8Block = 32;       // elements per q8_0 block
constexpr size_t kQ8BlockBytes = 34;   // f16 scale + 32 int8

size_t row_bytes_for(KvType type, int64_t n) {
  return type == KvType::kQ8_0 ? static_cast<size_t>(n / kQ8Block) * kQ8BlockBytes
                               : static_cast<size_t>(n) * sizeof(uint16_t);
}

}  // namespace

std::optional<KvType> parse_kv_type(std::string_view name) {
  if (name == "f16") return KvType::kF16;
  if (name == "q8_0") return KvType::kQ8_0;
  return std::nullopt;
}

std::string_view kv_type_name(KvType type) { return type == KvType::kQ8_0 ? "q8_0" : "f16"; }

KvCache::KvCache(int64_t n_layer, int64_t n_ctx, int64_t n_head_kv, int64_t head_dim, KvType type,
                 const kernels::FloatOps& ops)
    : n_ctx_(n_ctx), n_head_kv_(n_head_kv), head_dim_(head_dim), type_(type), ops_(&ops),
      head_row_bytes_(row_bytes_for(type, head_dim)),
      k_(static_cast<size_t>(n_layer * n_head_kv * n_ctx) * head_row_bytes_),
      v_(static_cast<size_t>(n_layer * n_head_kv * n_ctx) * head_row_bytes_) {}

KvCache KvCache::copy() const {
  KvCache c;
  c.n_ctx_ = n_ctx_;
  c.n_head_kv_ = n_head_kv_;
  c.head_dim_ = head_dim_;
  c.type_ = type_;
  c.ops_ = ops_;
  c.head_row_bytes_ = head_row_bytes_;
  c.k_ = k_.copy();
  c.v_ = v_.copy();
  return c;
}

void KvCache::store(int64_t layer, int64_t pos, const float* k, const float* v) {
  for (int64_t h = 0; h < n_head_kv_; ++h) {
    auto* k_row = static_cast<uint8_t*>(k_.data()) + row_offset(layer, h, pos);
    auto* v_row = static_cast<uint8_t*>(v_.data()) + row_offset(layer, h, pos);
    const float* k_head = k + h * head_dim_;
    const float* v_head = v + h * head_dim_;
    if (type_ == KvType::kQ8_0) {
      formats::quantize_row(formats::TypeId::kQ8_0, k_head, k_row, head_dim_);
      formats::quantize_row(formats::TypeId::kQ8_0, v_head, v_row, head_dim_);
    } else {
      ops_->f32_to_f16(k_head, reinterpret_cast<uint16_t*>(k_row), head_dim_);
      ops_->f32_to_f16(v_head, reinterpret_cast<uint16_t*>(v_row), head_dim_);
    }
  }
}

// Each head's part of [offset, offset + n), for all n_rows positions.
void KvCache::load(const runtime::PageBuffer& buffer, int64_t layer, int64_t pos, int64_t n_rows,
                   int64_t offset, int64_t n, float* dst) const {
  for (int64_t h = offset / head_dim_; h * head_dim_ < offset + n; ++h) {
    const int64_t begin = std::max(offset, h * head_dim_);          // in the row of all heads
    const int64_t end = std::min(offset + n, (h + 1) * head_dim_);
    const int64_t in_head = begin - h * head_dim_;
    const auto* first = static_cast<const uint8_t*>(buffer.data()) + row_offset(layer, h, pos);
    float* out = dst + (begin - offset);
    if (type_ == KvType::kQ8_0) {
      for (int64_t r = 0; r < n_rows; ++r)
        formats::dequantize(formats::TypeId::kQ8_0,
                            first + r * head_row_bytes_ + in_head / kQ8Block * kQ8BlockBytes,
                            out + r * n, end - begin);
    } else {
      ops_->f16_rows_to_f32(reinterpret_cast<const uint16_t*>(first) + in_head, head_dim_, n_rows,
                      end - begin, out, n);
    }
  }
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
