// Two open-addressing hash tables for the BPE tokenizer, built once at load:
// SymbolIndex (string -> symbol id, ~120k token texts) and MergeTable (pair of
// symbol ids -> merge rank and result, ~100k merges). Flat arrays with linear
// probing: loading and the merge loop avoid the node allocations and pointer
// chasing of std::unordered_map. Internal to src/text.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace hy2bit::text {

// 64-bit hash of a short byte string (token texts are a few bytes long).
inline uint64_t hash_text(std::string_view s) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
  const char* p = s.data();
  size_t n = s.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
    p += 8;
    n -= 8;
  }
  uint64_t w = 0;
  std::memcpy(&w, p, n);
  h = (h ^ w) * 0x94D049BB133111EBull;
  h ^= h >> 29;
  return h;
}

// Maps strings to non-negative symbol ids. The table stores only ids and a
// 32-bit hash tag per slot; the strings themselves live with the caller and
// are reached through `text_of(id)`, passed to every call.
class SymbolIndex {
 public:
  static constexpr int32_t kNone = -1;

  template <typename TextOf>
  int32_t find(std::string_view s, const TextOf& text_of) const {
    if (slots_.empty()) return kNone;
    const uint64_t h = hash_text(s);
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.id == kNone) return kNone;
      if (slot.tag == tag && text_of(slot.id) == s) return slot.id;
    }
  }

  // Adds `id` under its text; the text must not be present yet.
  template <typename TextOf>
  void insert(int32_t id, const TextOf& text_of) {
    if ((count_ + 1) * 2 > slots_.size()) grow(text_of);
    place(id, hash_text(text_of(id)));
    ++count_;
  }

  // Sizes the table for `n` entries up front (avoids rehashing during load).
  void reserve(size_t n) {
    if (count_ == 0 && n * 2 > slots_.size()) resize_empty(n * 2);
  }

 private:
  struct Slot {
    uint32_t tag = 0;     // high half of the text's hash
    int32_t id = kNone;   // kNone marks an empty slot
  };

  void resize_empty(size_t min_slots) {
    size_t n = 16;
    while (n < min_slots) n *= 2;
    slots_.assign(n, Slot{});
    mask_ = n - 1;
  }
  void place(int32_t id, uint64_t h) {
    size_t i = h & mask_;
    while (slots_[i].id != kNone) i = (i + 1) & mask_;
    slots_[i] = {static_cast<uint32_t>(h >> 32), id};
  }
  template <typename TextOf>
  void grow(const TextOf& text_of) {
    std::vector<Slot> old = std::move(slots_);
    resize_empty(old.size() * 2 + 16);
    for (const Slot& s : old) {
      if (s.id != kNone) place(s.id, hash_text(text_of(s.id)));
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t count_ = 0;
};

// Maps an ordered pair of symbol ids to the merge's rank and merged symbol.
class MergeTable {
 public:
  struct Merge {
    int32_t rank = -1;    // position in tokenizer.ggml.merges; lower merges first
    int32_t result = -1;  // symbol of the concatenated string
  };

  void reserve(size_t n) {
    size_t slots = 16;
    while (slots < n * 2) slots *= 2;
    slots_.assign(slots, Slot{});
    mask_ = slots - 1;
  }

  // Adds the pair unless present (a repeated pair keeps its first, lowest
  // rank). reserve() must have made room for every insert.
  void insert(int32_t left, int32_t right, Merge merge) {
    const uint64_t key = pack(left, right);
    for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return;
      if (slots_[i].key == kEmpty) {
        slots_[i] = {key, merge};
        return;
      }
    }
  }

  // The merge of (left, right), or nullptr.
  const Merge* find(int32_t left, int32_t right) const {
    const uint64_t key = pack(left, right);
    for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return &slots_[i].merge;
      if (slots_[i].key == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~0ull;  // symbol ids are non-negative int32: never both 0xFFFFFFFF
  struct Slot {
    uint64_t key = kEmpty;  // left << 32 | right
    Merge merge;
  };
  static uint64_t pack(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  size_t slot_of(uint64_t key) const {
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    return (h ^ (h >> 32)) & mask_;
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

}  // namespace hy2bit::text
