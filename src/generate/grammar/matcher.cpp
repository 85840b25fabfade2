// Matcher internals. Stacks are chains of hash-consed nodes (equal stacks are
// equal ids), a state is an interned sorted set of leaf stacks, and
// step(state, byte) is memoized, so a mask costs one hash lookup per visited
// trie node once the states around it are known.
#include "generate/grammar/matcher.h"

#include <algorithm>
#include <numeric>
#include <span>

namespace hy2bit::grammar {

// ---- token trie ------------------------------------------------------------

TokenTrie::TokenTrie(const std::vector<std::string>& token_bytes)
    : n_vocab_(static_cast<int32_t>(token_bytes.size())) {
  std::vector<int32_t> order;
  for (size_t i = 0; i < token_bytes.size(); ++i)
    if (!token_bytes[i].empty()) order.push_back(static_cast<int32_t>(i));
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return token_bytes[static_cast<size_t>(a)] < token_bytes[static_cast<size_t>(b)];
  });
  // Sorted strings give the trie in preorder: each string adds nodes for
  // the bytes past its common prefix with the previous one.
  std::vector<uint32_t> path;  // node index per depth - 1 of the previous string
  std::string_view prev;
  std::vector<std::pair<uint32_t, int32_t>> ends;  // (node, token)
  for (int32_t id : order) {
    const std::string_view s = token_bytes[static_cast<size_t>(id)];
    size_t common = 0;
    while (common < s.size() && common < prev.size() && s[common] == prev[common]) ++common;
    path.resize(common);
    for (size_t d = common; d < s.size(); ++d) {
      path.push_back(static_cast<uint32_t>(nodes_.size()));
      nodes_.push_back({static_cast<uint8_t>(s[d]), static_cast<uint32_t>(d + 1), 0, 0, 0});
    }
    ends.push_back({path.back(), id});
    max_depth_ = std::max<uint32_t>(max_depth_, static_cast<uint32_t>(s.size()));
    prev = s;
  }
  // Tokens per node (they arrive grouped by node, in node order).
  token_ids_.reserve(ends.size());
  for (size_t i = 0; i < ends.size(); ++i) {
    Node& n = nodes_[ends[i].first];
    if (n.n_tokens == 0) n.first_token = static_cast<uint32_t>(token_ids_.size());
    ++n.n_tokens;
    token_ids_.push_back(ends[i].second);
  }
  // Subtree ends: the next node at the same or a smaller depth.
  std::vector<uint32_t> open;
  for (size_t i = 0; i <= nodes_.size(); ++i) {
    const uint32_t depth = i < nodes_.size() ? nodes_[i].depth : 0;
    while (!open.empty() && nodes_[open.back()].depth >= depth) {
      nodes_[open.back()].end = static_cast<uint32_t>(i);
      open.pop_back();
    }
    if (i < nodes_.size()) open.push_back(static_cast<uint32_t>(i));
  }
}

// ---- stacks and states -----------------------------------------------------

Matcher::Matcher(std::shared_ptr<const Grammar> grammar) : g_(std::move(grammar)) { compact(); }

Result<std::unique_ptr<Matcher>> Matcher::create(std::shared_ptr<const Grammar> grammar) {
  auto m = std::make_unique<Matcher>(std::move(grammar));
  if (m->dead())
    return make_error("grammar too complex: its first step needs more than ", kMaxExpansions,
                      " rule expansions (nested repetitions such as (x+)+ grow exponentially)");
  return m;
}

uint32_t Matcher::make_node(uint32_t pos, uint32_t parent) {
  const uint64_t key = (uint64_t{pos} << 32) | parent;
  auto it = node_ids_.find(key);
  if (it != node_ids_.end()) return it->second;
  const Node& p = nodes_[parent];
  const auto id = static_cast<uint32_t>(nodes_.size());
  const auto dist = static_cast<uint32_t>(std::min<uint64_t>(uint64_t{g_->min_bytes[pos]} + p.dist, UINT32_MAX));
  nodes_.push_back({pos, parent, p.depth + 1, dist});
  node_ids_.emplace(key, id);
  return id;
}

// Pushes the leaves reachable from "match elements[pos...] then the stack
// `parent`": byte-set tops, or kNoNode when everything can be matched empty.
void Matcher::expand_at(uint32_t pos, uint32_t parent, std::vector<uint32_t>& leaves) {
  // Past this many nested expansions the path is dropped, like deep stacks;
  // past kMaxExpansions calls the whole expansion is given up (expand()).
  if (expand_depth_ >= static_cast<int>(kMaxDepth) * 4 || ++expand_calls_ > kMaxExpansions) return;
  struct Deeper {
    int& depth;
    explicit Deeper(int& d) : depth(++d) {}
    ~Deeper() { --depth; }
  } deeper(expand_depth_);
  const Element& e = g_->elements[pos];
  switch (e.kind) {
    case Element::kEnd:
      if (parent == kNoNode) {
        leaves.push_back(kNoNode);
      } else {
        expand_at(nodes_[parent].pos, nodes_[parent].parent, leaves);
      }
      return;
    case Element::kBytes:
      if (nodes_[parent].depth < kMaxDepth) leaves.push_back(make_node(pos, parent));
      return;
    case Element::kRule: {
      // The rest of this alternative, unless nothing is left (a tail call).
      const uint32_t rest =
          g_->elements[pos + 1].kind == Element::kEnd ? parent : make_node(pos + 1, parent);
      if (nodes_[rest].depth >= kMaxDepth) return;
      for (uint32_t alt : g_->rule_alts[e.index]) expand_at(alt, rest, leaves);
      return;
    }
  }
}

uint32_t Matcher::intern(std::vector<uint32_t> leaves) {
  if (leaves.empty()) return kDead;
  std::sort(leaves.begin(), leaves.end());
  leaves.erase(std::unique(leaves.begin(), leaves.end()), leaves.end());
  std::string key(reinterpret_cast<const char*>(leaves.data()), leaves.size() * sizeof(uint32_t));
  auto it = set_ids_.find(key);
  if (it != set_ids_.end()) return it->second;
  Set s;
  s.dist = UINT32_MAX;
  s.accepting = false;
  for (uint32_t n : leaves) {
    s.dist = std::min(s.dist, nodes_[n].dist);
    if (n == kNoNode) s.accepting = true;
  }
  s.leaves = std::move(leaves);
  const auto id = static_cast<uint32_t>(sets_.size());
  sets_.push_back(std::move(s));
  set_ids_.emplace(std::move(key), id);
  return id;
}

uint32_t Matcher::step(uint32_t set, uint8_t byte) {
  if (set == kDead) return kDead;
  const uint64_t key = (uint64_t{set} << 8) | byte;
  auto it = steps_.find(key);
  if (it != steps_.end()) return it->second;
  // The leaves the byte matches, as the key of the expansion they share.
  std::string matched(reinterpret_cast<const char*>(&set), sizeof(set));
  for (uint32_t leaf : sets_[set].leaves) {
    if (leaf == kNoNode) continue;
    if (g_->byte_sets[g_->elements[nodes_[leaf].pos].index].has(byte))
      matched.append(reinterpret_cast<const char*>(&leaf), sizeof(leaf));
  }
  uint32_t next = kDead;
  if (auto shared = expansions_.find(matched); shared != expansions_.end()) {
    next = shared->second;
  } else {
    const std::span<const uint32_t> leaves(reinterpret_cast<const uint32_t*>(matched.data()) + 1,
                                           matched.size() / sizeof(uint32_t) - 1);
    next = advance(leaves);
    expansions_.emplace(std::move(matched), next);
  }
  steps_.emplace(key, next);
  return next;
}

uint32_t Matcher::advance(std::span<const uint32_t> leaves) {
  std::vector<uint32_t> out;
  expand_calls_ = 0;
  for (uint32_t leaf : leaves) {
    const Node n = nodes_[leaf];
    expand_at(n.pos + 1, n.parent, out);
  }
  if (expand_calls_ > kMaxExpansions) return kDead;
  return intern(std::move(out));
}

void Matcher::compact() {
  // The current state's stacks as element positions, bottom last.
  std::vector<std::vector<uint32_t>> stacks;
  const bool fresh = sets_.empty();
  if (!fresh && current_ != kDead) {
    for (uint32_t leaf : sets_[current_].leaves) {
      std::vector<uint32_t> chain;
      for (uint32_t n = leaf; n != kNoNode; n = nodes_[n].parent) chain.push_back(nodes_[n].pos);
      stacks.push_back(std::move(chain));
    }
  }
  const bool was_dead = !fresh && current_ == kDead;
  nodes_.clear();
  node_ids_.clear();
  sets_.clear();
  set_ids_.clear();
  steps_.clear();
  expansions_.clear();
  masks_.clear();
  nodes_.push_back({0, 0, 0, 0});  // kNoNode: the empty stack
  Set dead;
  dead.dist = UINT32_MAX;
  dead.accepting = false;
  sets_.push_back(std::move(dead));
  set_ids_.emplace(std::string(), kDead);
  if (fresh) {
    std::vector<uint32_t> leaves;
    expand_calls_ = 0;
    for (uint32_t alt : g_->rule_alts[g_->root]) expand_at(alt, kNoNode, leaves);
    current_ = expand_calls_ > kMaxExpansions ? kDead : intern(std::move(leaves));
    return;
  }
  if (was_dead) {
    current_ = kDead;
    return;
  }
  std::vector<uint32_t> leaves;
  for (const std::vector<uint32_t>& chain : stacks) {
    uint32_t n = kNoNode;
    for (size_t i = chain.size(); i-- > 0;) n = make_node(chain[i], n);
    leaves.push_back(n);
  }
  current_ = intern(std::move(leaves));
}

// ---- the public steps ------------------------------------------------------

bool Matcher::accept(std::string_view bytes) {
  uint32_t s = current_;
  for (char c : bytes) {
    s = step(s, static_cast<uint8_t>(c));
    if (s == kDead) return false;
  }
  current_ = s;
  if (nodes_.size() > kMaxNodes || sets_.size() > kMaxSets || steps_.size() > 4 * kMaxNodes ||
      expansions_.size() > 4 * kMaxNodes)
    compact();
  return true;
}

bool Matcher::would_accept(std::string_view bytes) {
  uint32_t s = current_;
  for (char c : bytes) {
    s = step(s, static_cast<uint8_t>(c));
    if (s == kDead) return false;
  }
  return true;
}

bool Matcher::can_end() const { return sets_[current_].accepting; }

bool Matcher::must_end() {
  if (!can_end()) return false;
  for (unsigned b = 0; b < 256; ++b)
    if (step(current_, static_cast<uint8_t>(b)) != kDead) return false;
  return true;
}

uint32_t Matcher::min_bytes_to_end() const { return sets_[current_].dist; }

const TokenMask& Matcher::allowed_tokens(const TokenTrie& trie, int64_t token_budget) {
  const size_t words = (static_cast<size_t>(trie.n_vocab()) + 63) / 64;
  // The budget only bites when the output might not finish in time.
  const bool tight = token_budget >= 0 &&
                     static_cast<uint64_t>(token_budget) <= uint64_t{sets_[current_].dist} + trie.max_depth() + 1;
  if (!tight) {
    auto it = masks_.find(current_);
    if (it != masks_.end()) return it->second;
  }
  scratch_.assign(words, 0);
  const std::span<const TokenTrie::Node> nodes = trie.nodes();
  const std::span<const int32_t> ids = trie.token_ids();
  trie_states_.assign(trie.max_depth() + 1, kDead);
  trie_states_[0] = current_;
  const int64_t after = token_budget - 1;  // tokens left once this one is taken
  for (size_t i = 0; i < nodes.size();) {
    const TokenTrie::Node& n = nodes[i];
    const uint32_t s = step(trie_states_[n.depth - 1], n.byte);
    if (s == kDead) {
      i = n.end;  // no token below this prefix can match
      continue;
    }
    trie_states_[n.depth] = s;
    if (n.n_tokens > 0 && (!tight || int64_t{sets_[s].dist} <= after)) {
      for (uint32_t k = 0; k < n.n_tokens; ++k) {
        const auto id = static_cast<size_t>(ids[n.first_token + k]);
        scratch_[id >> 6] |= uint64_t{1} << (id & 63);
      }
    }
    ++i;
  }
  if (tight) return scratch_;
  if (masks_.size() >= kMaxCachedMasks) masks_.clear();
  return masks_.emplace(current_, scratch_).first->second;
}

}  // namespace hy2bit::grammar
