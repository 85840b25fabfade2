// The key/value cache: for every layer and position, the RoPE'd, QK-normed
// keys and the values of all KV heads, stored as f16 (llama.cpp's default)
// or q8_0 (blocks of 32 int8 with one f16 scale: 53% of the bytes, as
// llama.cpp's --cache-type-k/v q8_0). Head-major: each (layer, KV head) holds
// its positions one after another, so decode attention streams one
// contiguous range per head (with position-major rows, one head's slices
// were 256 bytes out of every KiB, and reading them was a quarter of a decode
// at 2048 positions). Reserved once for the context length from the OS, so
// only the positions actually used take memory; positions past n_ctx are
// refused by the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "kernels/float_ops.h"
#include "runtime/page_buffer.h"

namespace hy2bit::model {

enum class KvType { kF16, kQ8_0 };

// "f16" / "q8_0" (the names --cache-type takes), or nullopt.
std::optional<KvType> parse_kv_type(std::string_view name);
std::string_view kv_type_name(KvType type);

class KvCache {
 public:
  // For q8_0, head_dim and every slice later loaded must be whole blocks of 32.
  // f16 rows convert through `ops` (the model's kernel path), which must
  // outlive the cache.
  KvCache(int64_t n_layer, int64_t n_ctx, int64_t n_head_kv, int64_t head_dim, KvType type,
          const kernels::FloatOps& ops);
  KvCache(const KvCache&) = delete;             // copying is explicit: copy()
  KvCache& operator=(const KvCache&) = delete;
  KvCache(KvCache&&) = default;
  KvCache& operator=(KvCache&&) = default;
  KvCache copy() const;

  int64_t n_ctx() const { return n_ctx_; }
  int64_t kv_dim() const { return n_head_kv_ * head_dim_; }
  KvType type() const { return type_; }
  size_t bytes() const { return k_.size() + v_.size(); }

  // Stores kv_dim keys and values (f32) for (layer, pos).
  void store(int64_t layer, int64_t pos, const float* k, const float* v);
  // The n elements from `offset` of the keys / values at (layer, pos + r)
  // for r < n_rows, as f32 rows of n, one after another in dst. Many rows
  // per call: decode attention loads a head's rows in chunks.
  void load_k(int64_t layer, int64_t pos, int64_t n_rows, int64_t offset, int64_t n,
              float* dst) const;
  void load_v(int64_t layer, int64_t pos, int64_t n_rows, int64_t offset, int64_t n,
              float* dst) const;

 private:
  KvCache() = default;
  size_t row_offset(int64_t layer, int64_t head, int64_t pos) const {
    return static_cast<size_t>((layer * n_head_kv_ + head) * n_ctx_ + pos) * head_row_bytes_;
  }
  void load(const runtime::PageBuffer& buffer, int64_t layer, int64_t pos, int64_t n_rows,
            int64_t offset, int64_t n, float* dst) const;
  int64_t n_ctx_ = 0;
  int64_t n_head_kv_ = 0;
  int64_t head_dim_ = 0;
  KvType type_ = KvType::kF16;
  const kernels::FloatOps* ops_ = nullptr;
  size_t head_row_bytes_ = 0;  // bytes of one head's keys or values at one position
  runtime::PageBuffer k_;      // (n_layer, n_head_kv, n_ctx) rows of head_dim keys
  runtime::PageBuffer v_;      // (n_layer, n_head_kv, n_ctx) rows of head_dim values
};

}  // namespace hy2bit::model
