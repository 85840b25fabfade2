// The token-level grammar matcher: which vocabulary tokens keep the output a
// valid prefix of the grammar. The parse state is a set of pushdown stacks
// (as in llama.cpp's grammar sampler) kept as hash-consed nodes, so a state
// is a small integer; byte transitions between states are memoized,
// and allowed-token masks are cached per state. A mask walks a trie of the
// vocabulary's token bytes and prunes every subtree whose prefix is dead.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "generate/grammar/grammar.h"

namespace hy2bit::grammar {

// The vocabulary's token bytes in a preorder trie. Tokens with no bytes
// (control tokens, unused ids) are left out: they are never allowed.
class TokenTrie {
 public:
  // token_bytes[id]: the bytes token `id` stands for (empty: never allowed).
  explicit TokenTrie(const std::vector<std::string>& token_bytes);
  int32_t n_vocab() const { return n_vocab_; }

  struct Node {
    uint8_t byte;          // the edge from the parent
    uint32_t depth;        // 1 for the root's children
    uint32_t end;          // preorder index just past this node's subtree
    uint32_t first_token;  // tokens whose bytes end here: token_ids[first_token, +n_tokens)
    uint32_t n_tokens;
  };
  std::span<const Node> nodes() const { return nodes_; }
  std::span<const int32_t> token_ids() const { return token_ids_; }
  uint32_t max_depth() const { return max_depth_; }

 private:
  int32_t n_vocab_ = 0;
  std::vector<Node> nodes_;
  std::vector<int32_t> token_ids_;
  uint32_t max_depth_ = 0;
};

// A bit per token id.
using TokenMask = std::vector<uint64_t>;
inline bool mask_has(const TokenMask& m, int32_t id) { return (m[static_cast<size_t>(id) >> 6] >> (id & 63)) & 1; }

class Matcher {
 public:
  explicit Matcher(std::shared_ptr<const Grammar> grammar);
  // A matcher that can start: an Error when the grammar's first state is past
  // the expansion cap (kMaxExpansions; nested repetitions such as (x+)+).
  static Result<std::unique_ptr<Matcher>> create(std::shared_ptr<const Grammar> grammar);

  // Consumes bytes; false (state unchanged) if they leave the grammar.
  bool accept(std::string_view bytes);
  // Whether accept(bytes) would succeed (the state stays as it is).
  bool would_accept(std::string_view bytes);
  // The output so far is a complete sentence of the grammar.
  bool can_end() const;
  // Complete, and no byte can follow: the only way on is to stop.
  bool must_end();
  // Whether nothing, not even stopping, is possible (a cap was hit).
  bool dead() const { return current_ == kDead; }
  // Fewest bytes that complete the output from here (0 when can_end()).
  uint32_t min_bytes_to_end() const;

  // Tokens whose bytes are all accepted from the current state. With
  // `token_budget` (tokens left including this one, -1: unlimited), also
  // only those after which the output can still be completed in the
  // remaining budget, assuming one byte per token (single-byte tokens
  // exist in byte-level vocabularies). The mask is valid until the next call.
  const TokenMask& allowed_tokens(const TokenTrie& trie, int64_t token_budget = -1);

 private:
  static constexpr uint32_t kDead = 0;     // the empty set of stacks
  static constexpr uint32_t kNoNode = 0;   // node 0: the empty stack (the sentence is complete)
  static constexpr uint32_t kMaxDepth = 1024;  // nesting deeper than this is not followed
  static constexpr size_t kMaxNodes = 1u << 21, kMaxSets = 1u << 20, kMaxCachedMasks = 256;
  // Work of one expansion (one step's next state): nested repetitions such
  // as (x+)+ make the number of distinct stacks grow exponentially with the
  // nesting, so a step that would need more than this many expand_at calls
  // leads nowhere (the bytes are refused; a start state past it is dead).
  static constexpr uint32_t kMaxExpansions = 1u << 14;

  // A stack frame: the next element to match at `pos`, then `parent`'s.
  struct Node {
    uint32_t pos;
    uint32_t parent;
    uint32_t depth;
    uint32_t dist;  // fewest bytes to empty this stack
  };
  struct Set {
    std::vector<uint32_t> leaves;          // sorted node ids whose top is a byte set (or kNoNode)
    uint32_t dist;                         // min over leaves
    bool accepting;                        // contains kNoNode
  };

  uint32_t make_node(uint32_t pos, uint32_t parent);
  void expand_at(uint32_t pos, uint32_t parent, std::vector<uint32_t>& leaves);
  uint32_t intern(std::vector<uint32_t> leaves);
  uint32_t step(uint32_t set, uint8_t byte);
  // The state after the byte tops of `leaves` matched (kDead past kMaxExpansions).
  uint32_t advance(std::span<const uint32_t> leaves);
  void compact();  // forgets caches and nodes, keeping the current state

  std::shared_ptr<const Grammar> g_;
  std::vector<Node> nodes_;
  std::unordered_map<uint64_t, uint32_t> node_ids_;  // (pos, parent) -> node
  std::vector<Set> sets_;
  std::unordered_map<std::string, uint32_t> set_ids_;  // leaves bytes -> set
  std::unordered_map<uint64_t, uint32_t> steps_;       // (set << 8 | byte) -> set
  // (set, the leaves a byte matches) -> set: bytes that match the same leaves
  // (all of them, for ".") share one expansion.
  std::unordered_map<std::string, uint32_t> expansions_;
  std::unordered_map<uint32_t, TokenMask> masks_;      // set -> allowed tokens (unlimited budget)
  TokenMask scratch_;
  std::vector<uint32_t> trie_states_;
  uint32_t current_ = kDead;
  int expand_depth_ = 0;  // recursion of expand_at (rule chains in tail position do not deepen stacks)
  uint32_t expand_calls_ = 0;  // expand_at calls of the current expansion (kMaxExpansions)
};

}  // namespace hy2bit::grammar
