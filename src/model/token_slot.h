// One token of a forward pass: its id, which sequence's KV cache it extends,
// at which position, and where its logits (and final hidden state) go. Several sequences can share one
// pass (batched decoding); tokens of one sequence come in position order.
#pragma once

#include <cstdint>

#include "model/kv_cache.h"

namespace hy2bit::model {

struct TokenSlot {
  int32_t token;    // id, already checked to be in the vocabulary
  KvCache* cache;   // the sequence's cache; the token's k/v are stored at `pos`
  int64_t pos;      // its position; attention sees cache positions 0..pos
  float* logits;    // where its n_vocab logits go, or nullptr if not needed
  float* hidden = nullptr;  // where its n_embd final hidden state (after output_norm) goes, or nullptr
};

}  // namespace hy2bit::model
