// The key/value cache: for every layer and position, the RoPE'd, QK-normed
// keys and the values of all KV heads, stored as f16 (llama.cpp's default).
// Reserved once for the context length from the OS, so only the positions
// actually used take memory; positions past n_ctx are refused by the caller.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/page_buffer.h"

namespace hy2bit::model {

class KvCache {
 public:
  KvCache(int64_t n_layer, int64_t n_ctx, int64_t kv_dim);
  KvCache(const KvCache&) = delete;             // copying is explicit: copy()
  KvCache& operator=(const KvCache&) = delete;
  KvCache(KvCache&&) = default;
  KvCache& operator=(KvCache&&) = default;
  KvCache copy() const;

  int64_t n_ctx() const { return n_ctx_; }
  int64_t kv_dim() const { return kv_dim_; }
  size_t bytes() const { return k_.size() + v_.size(); }

  // Row of kv_dim f16 values for (layer, position).
  uint16_t* k(int64_t layer, int64_t pos) { return keys() + index(layer, pos); }
  uint16_t* v(int64_t layer, int64_t pos) { return values() + index(layer, pos); }
  const uint16_t* k(int64_t layer, int64_t pos) const { return keys() + index(layer, pos); }
  const uint16_t* v(int64_t layer, int64_t pos) const { return values() + index(layer, pos); }

 private:
  KvCache() = default;
  size_t index(int64_t layer, int64_t pos) const {
    return static_cast<size_t>((layer * n_ctx_ + pos) * kv_dim_);
  }
  int64_t n_ctx_ = 0;
  int64_t kv_dim_ = 0;
  uint16_t* keys() const { return static_cast<uint16_t*>(k_.data()); }
  uint16_t* values() const { return static_cast<uint16_t*>(v_.data()); }
  runtime::PageBuffer k_;  // (n_layer, n_ctx, kv_dim) f16 keys
  runtime::PageBuffer v_;  // (n_layer, n_ctx, kv_dim) f16 values
};

}  // namespace hy2bit::model
