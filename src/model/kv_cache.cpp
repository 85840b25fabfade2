// KvCache storage.
#include "model/kv_cache.h"

namespace hy2bit::model {

KvCache::KvCache(int64_t n_layer, int64_t n_ctx, int64_t kv_dim)
    : n_ctx_(n_ctx), kv_dim_(kv_dim),
      k_(static_cast<size_t>(n_layer * n_ctx * kv_dim) * sizeof(uint16_t)),
      v_(static_cast<size_t>(n_layer * n_ctx * kv_dim) * sizeof(uint16_t)) {}

KvCache KvCache::copy() const {
  KvCache c;
  c.n_ctx_ = n_ctx_;
  c.kv_dim_ = kv_dim_;
  c.k_ = k_.copy();
  c.v_ = v_.copy();
  return c;
}

}  // namespace hy2bit::model
