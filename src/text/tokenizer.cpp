// Byte-level BPE as llama.cpp's llama-vocab does it for tokenizer.ggml.model
// "gpt2": split out special tokens (longest first), pre-tokenize each raw
// fragment, map every byte to its GPT-2 "printable" character, then merge the
// adjacent pair of lowest merge rank (leftmost on ties) until none applies.
// Strings are interned to integer "symbols" at load so the merge loop only
// compares integers; no per-token allocation happens while encoding.
#include "text/tokenizer.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <limits>
#include <utility>

#include "text/symbol_tables.h"
#include "text/utf8.h"

namespace hy2bit::text {
namespace {

constexpr std::string_view kModelKey = "tokenizer.ggml.model";
constexpr std::string_view kPreKey = "tokenizer.ggml.pre";
constexpr std::string_view kTokensKey = "tokenizer.ggml.tokens";
constexpr std::string_view kTypesKey = "tokenizer.ggml.token_type";
constexpr std::string_view kMergesKey = "tokenizer.ggml.merges";
constexpr std::string_view kAddBosKey = "tokenizer.ggml.add_bos_token";

// Longest text encode() accepts: piece offsets are int32, and no prompt needs more.
constexpr size_t kMaxTextBytes = size_t{1} << 30;

// GPT-2's byte <-> unicode table: printable Latin-1 bytes ('!'..'~',
// '¡'..'¬', '®'..'ÿ') stand for themselves; the other 68 bytes (controls,
// space, DEL, NBSP, soft hyphen) become U+0100.. in byte order.
std::array<uint32_t, 256> byte_to_codepoint_table() {
  std::array<uint32_t, 256> table{};
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    table[b] = printable ? b : next++;
  }
  return table;
}

// For error messages: `s` in single quotes, control bytes (and every byte
// >= 0x80 if `s` is not valid UTF-8) as \xNN, cut to a readable length.
std::string shown(std::string_view s) {
  constexpr size_t kMax = 48;
  const bool utf8 = is_valid_utf8(s);
  size_t n = std::min(s.size(), kMax);
  while (utf8 && n < s.size() && n > 0 && (static_cast<uint8_t>(s[n]) & 0xC0) == 0x80) --n;  // whole characters
  std::string out = "'";
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x20 || c == 0x7F || (c >= 0x80 && !utf8)) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out += n < s.size() ? "...'" : "'";
  return out;
}

// Reads a required array-of-strings key.
Result<const gguf::Array*> string_array(const gguf::File& file, std::string_view key) {
  const gguf::Value* v = file.find(key);
  if (v == nullptr) return make_error("metadata key '", key, "' is missing");
  const gguf::Array* arr = v->as_array();
  if (arr == nullptr || arr->elem_type != gguf::ValueType::kString) {
    std::string found(gguf::value_type_name(v->type));
    if (arr != nullptr) found += " of " + std::string(gguf::value_type_name(arr->elem_type));
    return make_error("metadata key '", key, "' has type ", found, ", expected array of string");
  }
  return arr;
}

// Reads an optional token id key; nullopt if absent, Error if not an id < n_vocab.
Result<std::optional<int32_t>> optional_id(const gguf::File& file, std::string_view key, size_t n_vocab) {
  if (file.find(key) == nullptr) return std::optional<int32_t>();
  Result<uint64_t> id = file.get_uint(key);
  if (!id) return id.error();
  if (*id >= n_vocab)
    return make_error("metadata key '", key, "' is ", *id, ", expected a token id below n_vocab = ", n_vocab);
  return std::optional<int32_t>(static_cast<int32_t>(*id));
}

// A candidate merge of two adjacent symbols during BPE.
struct Candidate {
  int32_t rank;      // merge rank: lower merges first
  int32_t left;      // index of the left symbol in the piece
  int32_t right;     // index of the right symbol
  int32_t left_id;   // symbol ids when pushed: a candidate is stale once either changed
  int32_t right_id;
  int32_t result;    // symbol of the merged string
};

// Heap order: lowest rank first, then leftmost (llama.cpp's llm_bigram_bpe).
struct CandidateAfter {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

// One symbol of a piece being merged; a linked list over the piece's bytes.
struct Symbol {
  int32_t id;     // interned string: a token id if < n_vocab
  int32_t prev;   // index of the previous live symbol, -1 at the start
  int32_t next;   // index of the next live symbol, -1 at the end
  int32_t start;  // first byte of the piece it covers
  int32_t len;    // bytes covered; 0 once merged into its left neighbour
};

// Buffers reused across the pieces of one encode() call.
struct BpeScratch {
  std::vector<Symbol> symbols;
  std::vector<Candidate> heap;
};

}  // namespace

// Strings, lookup tables and merges; owned by the Tokenizer.
struct Tokenizer::Vocab {
  // Token texts back to back: id i is texts[text_offsets[i] .. text_offsets[i+1]).
  // Offsets are 32-bit (a vocabulary's text is megabytes; from_gguf refuses
  // one past 4 GiB), which halves them: 1 MB less for a 120k vocabulary.
  std::string texts;
  std::vector<uint32_t> text_offsets;
  // token_piece() for render_special = true, same layout.
  std::string pieces;
  std::vector<uint32_t> piece_offsets;
  // Symbols are interned strings: ids below n_vocab are tokens; strings that
  // occur only in merges get n_vocab + index into extra_texts.
  SymbolIndex symbol_index;  // symbol text -> symbol id
  std::vector<std::string> extra_texts;
  MergeTable merges;    // (left symbol, right symbol) -> rank and merged symbol

  std::array<int32_t, 256> byte_symbol{};     // symbol of each byte's mapped character
  std::array<std::string, 256> byte_mapped;   // that character in UTF-8
  std::array<int16_t, 0x144> codepoint_byte;  // inverse map: code point -> byte, -1 if none

  // Control, user-defined and unknown tokens, longest text first (the order
  // llama.cpp's tokenizer_st_partition tries them in; ties by id).
  std::vector<int32_t> special_ids;
  // Byte trie over their texts, to find every occurrence in one pass. A node
  // whose `rank` >= 0 ends special_ids[rank].
  struct TrieNode {
    std::vector<std::pair<uint8_t, int32_t>> next;  // byte -> child node
    int32_t rank = -1;
  };
  std::vector<TrieNode> trie;
  std::array<bool, 256> trie_first{};  // bytes that can start a special token

  void add_to_trie(std::string_view s, int32_t rank) {
    if (trie.empty()) trie.emplace_back();
    trie_first[static_cast<uint8_t>(s[0])] = true;
    int32_t node = 0;
    for (const char ch : s) {
      const uint8_t b = static_cast<uint8_t>(ch);
      int32_t child = -1;
      for (const auto& [byte, index] : trie[node].next) {
        if (byte == b) child = index;
      }
      if (child < 0) {
        child = static_cast<int32_t>(trie.size());
        trie[node].next.emplace_back(b, child);
        trie.emplace_back();
      }
      node = child;
    }
    trie[node].rank = rank;
  }

  // Every (rank, position) where a special token's text occurs in `text`.
  void find_specials(std::string_view text, std::vector<std::pair<int32_t, size_t>>& found) const {
    for (size_t pos = 0; pos < text.size(); ++pos) {
      if (!trie_first[static_cast<uint8_t>(text[pos])]) continue;
      int32_t node = 0;
      for (size_t i = pos; i < text.size(); ++i) {
        int32_t child = -1;
        for (const auto& [byte, index] : trie[node].next) {
          if (byte == static_cast<uint8_t>(text[i])) child = index;
        }
        if (child < 0) break;
        node = child;
        if (trie[node].rank >= 0) found.emplace_back(trie[node].rank, pos);
      }
    }
  }

  std::string_view text(int32_t id) const {
    return std::string_view(texts).substr(text_offsets[id], text_offsets[id + 1] - text_offsets[id]);
  }
  std::string_view piece(int32_t id) const {
    return std::string_view(pieces).substr(piece_offsets[id], piece_offsets[id + 1] - piece_offsets[id]);
  }
  int32_t n_vocab() const { return static_cast<int32_t>(text_offsets.size() - 1); }

  std::string_view symbol_text(int32_t sym) const {
    return sym < n_vocab() ? text(sym) : std::string_view(extra_texts[sym - n_vocab()]);
  }
  int32_t find_symbol(std::string_view s) const {
    return symbol_index.find(s, [this](int32_t sym) { return symbol_text(sym); });
  }
  // The symbol for string `s`, created if new.
  int32_t intern(std::string_view s) {
    const int32_t found = find_symbol(s);
    if (found != SymbolIndex::kNone) return found;
    const int32_t sym = n_vocab() + static_cast<int32_t>(extra_texts.size());
    extra_texts.emplace_back(s);
    symbol_index.insert(sym, [this](int32_t id) { return symbol_text(id); });
    return sym;
  }

  // llama.cpp's llama_decode_text: each character of a normal token's text
  // maps back to one byte; characters outside the table are reported inline.
  void append_decoded_normal(std::string& out, std::string_view token_text) const {
    size_t pos = 0;
    while (pos < token_text.size()) {
      Utf8Char c = decode_utf8(token_text, pos);
      if (c.cp < codepoint_byte.size() && codepoint_byte[c.cp] >= 0 && c.len > 0) {
        out.push_back(static_cast<char>(codepoint_byte[c.cp]));
      } else {
        std::string utf8;
        if (c.len == 0) {
          c = {kReplacementChar, 1};  // as llama.cpp's lenient decoder does
          append_utf8(utf8, c.cp);
        } else {
          utf8.assign(token_text.substr(pos, c.len));
        }
        out += "[UNK_BYTE_0x";
        for (unsigned char b : utf8) {
          char hex[4];
          std::snprintf(hex, sizeof(hex), "%02x", b);
          out += hex;
        }
        out += token_text;
        out += ']';
      }
      pos += c.len;
    }
  }

  // BPE of one pre-tokenized piece, appending token ids to `out`.
  void encode_piece(std::string_view piece, BpeScratch& scratch, std::vector<int32_t>& out) const {
    const Vocab& vb = *this;
    const int32_t n_vocab = vb.n_vocab();
    const int32_t n = static_cast<int32_t>(piece.size());

    // One symbol per byte (one mapped character each), linked in order.
    std::vector<Symbol>& symbols = scratch.symbols;
    symbols.resize(piece.size());
    for (int32_t i = 0; i < n; ++i) {
      symbols[i] = {vb.byte_symbol[static_cast<uint8_t>(piece[i])], i - 1, i + 1 < n ? i + 1 : -1, i, 1};
    }

    std::vector<Candidate>& heap = scratch.heap;
    heap.clear();
    const auto push_pair = [&](int32_t left, int32_t right) {
      if (left < 0 || right < 0) return;
      const MergeTable::Merge* merge = vb.merges.find(symbols[left].id, symbols[right].id);
      if (merge == nullptr) return;
      heap.push_back({merge->rank, left, right, symbols[left].id, symbols[right].id, merge->result});
      std::push_heap(heap.begin(), heap.end(), CandidateAfter{});
    };
    for (int32_t i = 0; i + 1 < n; ++i) push_pair(i, i + 1);

    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), CandidateAfter{});
      const Candidate c = heap.back();
      heap.pop_back();
      Symbol& left = symbols[c.left];
      Symbol& right = symbols[c.right];
      // Stale if either side was merged away or changed since the push.
      if (left.len == 0 || right.len == 0 || left.id != c.left_id || right.id != c.right_id) continue;
      left.id = c.result;
      left.len += right.len;
      right.len = 0;
      left.next = right.next;
      if (right.next >= 0) symbols[right.next].prev = c.left;
      push_pair(left.prev, c.left);
      push_pair(c.left, left.next);
    }

    for (int32_t i = 0; i >= 0 && i < n; i = symbols[i].next) {
      const Symbol& s = symbols[i];
      if (s.id < n_vocab) {
        out.push_back(s.id);
        continue;
      }
      // Not a token: llama.cpp emits the tokens of single bytes of the mapped
      // text, skipping bytes that are not tokens themselves.
      for (int32_t b = s.start; b < s.start + s.len; ++b) {
        for (const char c : vb.byte_mapped[static_cast<uint8_t>(piece[b])]) {
          const int32_t id = vb.find_symbol(std::string_view(&c, 1));
          if (id != SymbolIndex::kNone && id < n_vocab) out.push_back(id);
        }
      }
    }
  }
};

Tokenizer::Tokenizer(std::unique_ptr<Vocab> vocab, PreTokenizer pre)
    : vocab_(std::move(vocab)), pre_(std::move(pre)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Result<Tokenizer> Tokenizer::from_gguf(const gguf::File& file) {
  // ---- model and pre-tokenizer names ----
  Result<std::string_view> model = file.get_string(kModelKey);
  if (!model) return model.error();
  if (*model != "gpt2")
    return make_error("metadata key '", kModelKey, "' is ", shown(*model),
                      ", expected 'gpt2' (byte-level BPE, the only tokenizer hunyuan-dense uses)");
  Result<std::string_view> pre_name = file.get_string(kPreKey);
  if (!pre_name) return pre_name.error();
  if (*pre_name != "hunyuan-dense" && *pre_name != "deepseek-v3")
    return make_error("metadata key '", kPreKey, "' is ", shown(*pre_name),
                      ", expected 'hunyuan-dense' or 'deepseek-v3' (the only pre-tokenizer hy2bit implements)");

  // ---- tokens ----
  Result<const gguf::Array*> tokens = string_array(file, kTokensKey);
  if (!tokens) return tokens.error();
  const std::vector<gguf::Value>& token_values = (*tokens)->elems;
  const size_t n_vocab = token_values.size();
  if (n_vocab == 0) return make_error("metadata key '", kTokensKey, "' is empty, expected at least one token");
  if (n_vocab >= static_cast<size_t>(std::numeric_limits<int32_t>::max() / 2))
    return make_error("metadata key '", kTokensKey, "' has ", n_vocab, " tokens, more than token ids can hold");

  auto vocab = std::make_unique<Vocab>();
  Vocab& vb = *vocab;
  vb.text_offsets.reserve(n_vocab + 1);
  vb.text_offsets.push_back(0);
  for (size_t i = 0; i < n_vocab; ++i) {
    const std::string_view t = token_values[i].as_string().value_or(std::string_view());
    if (t.empty()) {
      vb.texts += "[EMPTY_" + std::to_string(i) + "]";  // llama.cpp's name for empty tokens
    } else {
      vb.texts += t;
    }
    if (vb.texts.size() > std::numeric_limits<uint32_t>::max())
      return make_error("metadata key '", kTokensKey, "' holds more than 4 GiB of token text");
    vb.text_offsets.push_back(static_cast<uint32_t>(vb.texts.size()));
  }
  vb.texts.shrink_to_fit();  // grown by appending: up to twice its size
  // Index the texts (llama.cpp asserts that they are distinct; here it is an Error).
  vb.symbol_index.reserve(n_vocab + 1024);
  for (size_t i = 0; i < n_vocab; ++i) {
    const int32_t id = static_cast<int32_t>(i);
    const int32_t same = vb.find_symbol(vb.text(id));
    if (same != SymbolIndex::kNone)
      return make_error("metadata key '", kTokensKey, "' has token ", i, " = ", shown(vb.text(id)),
                        " equal to token ", same, ", expected distinct token texts");
    vb.symbol_index.insert(id, [&](int32_t sym) { return vb.symbol_text(sym); });
  }

  // ---- token types (all normal if absent) ----
  std::vector<TokenType> types(n_vocab, TokenType::kNormal);
  if (const gguf::Value* v = file.find(kTypesKey)) {
    const gguf::Array* arr = v->as_array();
    if (arr == nullptr)
      return make_error("metadata key '", kTypesKey, "' has type ", gguf::value_type_name(v->type),
                        ", expected array of int32");
    if (arr->elems.size() != n_vocab)
      return make_error("metadata key '", kTypesKey, "' has ", arr->elems.size(), " entries, expected ", n_vocab,
                        " (one per token)");
    for (size_t i = 0; i < n_vocab; ++i) {
      const std::optional<int64_t> t = arr->elems[i].as_int();
      if (!t || *t < 0 || *t > 6)
        return make_error("metadata key '", kTypesKey, "' entry ", i, " is ",
                          t ? std::to_string(*t) : std::string("out of range"), ", expected a token type 0..6");
      types[i] = static_cast<TokenType>(*t);
    }
  }

  // ---- special ids and flags ----
  Result<std::optional<int32_t>> bos = optional_id(file, "tokenizer.ggml.bos_token_id", n_vocab);
  if (!bos) return bos.error();
  if (!bos->has_value()) return make_error("metadata key 'tokenizer.ggml.bos_token_id' is missing");
  Result<std::optional<int32_t>> eos = optional_id(file, "tokenizer.ggml.eos_token_id", n_vocab);
  if (!eos) return eos.error();
  if (!eos->has_value()) return make_error("metadata key 'tokenizer.ggml.eos_token_id' is missing");
  Result<std::optional<int32_t>> eot = optional_id(file, "tokenizer.ggml.eot_token_id", n_vocab);
  if (!eot) return eot.error();
  Result<std::optional<int32_t>> eom = optional_id(file, "tokenizer.ggml.eom_token_id", n_vocab);
  if (!eom) return eom.error();
  Result<std::optional<int32_t>> pad = optional_id(file, "tokenizer.ggml.padding_token_id", n_vocab);
  if (!pad) return pad.error();
  bool add_bos = false;
  if (file.find(kAddBosKey) != nullptr) {
    Result<bool> b = file.get_bool(kAddBosKey);
    if (!b) return b.error();
    add_bos = *b;
  }

  // ---- byte-level alphabet ----
  const std::array<uint32_t, 256> byte_cp = byte_to_codepoint_table();
  vb.codepoint_byte.fill(-1);
  for (int b = 0; b < 256; ++b) {
    append_utf8(vb.byte_mapped[b], byte_cp[b]);
    vb.codepoint_byte[byte_cp[b]] = static_cast<int16_t>(b);
  }
  for (int b = 0; b < 256; ++b) vb.byte_symbol[b] = vb.intern(vb.byte_mapped[b]);

  // ---- merges: "left right", rank = index; a repeated pair keeps its first rank ----
  Result<const gguf::Array*> merges = string_array(file, kMergesKey);
  if (!merges) return merges.error();
  const std::vector<gguf::Value>& merge_values = (*merges)->elems;
  if (merge_values.size() >= static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    return make_error("metadata key '", kMergesKey, "' has ", merge_values.size(), " entries, too many");
  vb.merges.reserve(merge_values.size());
  std::string joined;
  for (size_t i = 0; i < merge_values.size(); ++i) {
    const std::string_view m = merge_values[i].as_string().value_or(std::string_view());
    const size_t space = m.find(' ');
    if (space == std::string_view::npos || space == 0 || space + 1 >= m.size() ||
        m.find(' ', space + 1) != std::string_view::npos)
      return make_error("metadata key '", kMergesKey, "' entry ", i, " is ", shown(m),
                        ", expected two non-empty symbols separated by one space");
    const std::string_view left = m.substr(0, space);
    const std::string_view right = m.substr(space + 1);
    joined.assign(left);
    joined.append(right);
    const int32_t left_sym = vb.intern(left);
    const int32_t right_sym = vb.intern(right);
    const int32_t result_sym = vb.intern(joined);
    vb.merges.insert(left_sym, right_sym, {static_cast<int32_t>(i), result_sym});
  }

  // ---- special tokens for the partition, longest first ----
  for (size_t i = 0; i < n_vocab; ++i) {
    const TokenType t = types[i];
    if (t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown)
      vb.special_ids.push_back(static_cast<int32_t>(i));
  }
  std::stable_sort(vb.special_ids.begin(), vb.special_ids.end(), [&](int32_t a, int32_t b) {
    return vb.text(a).size() > vb.text(b).size();
  });
  for (size_t rank = 0; rank < vb.special_ids.size(); ++rank)
    vb.add_to_trie(vb.text(vb.special_ids[rank]), static_cast<int32_t>(rank));

  // ---- decoded pieces (render_special = true form) ----
  vb.piece_offsets.reserve(n_vocab + 1);
  vb.piece_offsets.push_back(0);
  vb.pieces.reserve(vb.texts.size());
  for (size_t i = 0; i < n_vocab; ++i) {
    const int32_t id = static_cast<int32_t>(i);
    switch (types[i]) {
      case TokenType::kNormal: vb.append_decoded_normal(vb.pieces, vb.text(id)); break;
      case TokenType::kControl:
      case TokenType::kUnknown:
      case TokenType::kUserDefined: vb.pieces += vb.text(id); break;
      case TokenType::kByte: {
        // "<0xHH>" byte-fallback tokens stand for that byte (as newer llama.cpp decodes them).
        const std::string_view t = vb.text(id);
        unsigned value = 0;
        if (t.size() == 6 && t.starts_with("<0x") && t.back() == '>' &&
            std::sscanf(std::string(t.substr(3, 2)).c_str(), "%2x", &value) == 1)
          vb.pieces.push_back(static_cast<char>(value));
        break;
      }
      default: break;  // unused, undefined: no text (as llama.cpp)
    }
    if (vb.pieces.size() > std::numeric_limits<uint32_t>::max())
      return make_error("metadata key '", kTokensKey, "' decodes to more than 4 GiB of token text");
    vb.piece_offsets.push_back(static_cast<uint32_t>(vb.pieces.size()));
  }
  vb.pieces.shrink_to_fit();

  Result<PreTokenizer> pre = PreTokenizer::create();
  if (!pre) return pre.error();
  Tokenizer tok(std::move(vocab), std::move(*pre));
  tok.types_ = std::move(types);
  tok.bos_ = **bos;
  tok.eos_ = **eos;
  tok.eot_ = *eot;
  tok.eom_ = *eom;
  tok.pad_ = *pad;
  tok.add_bos_ = add_bos;
  tok.n_merges_ = merge_values.size();
  return tok;
}

Result<std::vector<int32_t>> Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  if (text.size() > kMaxTextBytes)
    return make_error("prompt is ", text.size(), " bytes, more than the ", kMaxTextBytes, " the tokenizer accepts");
  HY2BIT_TRY(validate_utf8(text));

  // Special tokens first, as llama.cpp's tokenizer_st_partition: for each
  // special token, longest first, every leftmost non-overlapping occurrence
  // that lies wholly in text not yet claimed becomes that token. All
  // occurrences are found in one trie pass, then that rule is replayed on them.
  std::vector<std::pair<int32_t, size_t>> found;  // (rank in special_ids, byte position)
  if (!vocab_->trie.empty()) vocab_->find_specials(text, found);
  std::sort(found.begin(), found.end());
  std::vector<uint8_t> claimed;                    // per byte: 1 once inside a chosen special token
  std::vector<std::pair<size_t, int32_t>> chosen;  // (byte position, token id)
  for (size_t i = 0; i < found.size();) {
    const int32_t rank = found[i].first;
    const int32_t id = vocab_->special_ids[rank];
    const TokenType t = types_[id];
    const size_t len = vocab_->text(id).size();
    const bool enabled = options.parse_special || (t != TokenType::kControl && t != TokenType::kUnknown);
    size_t end_of_last = 0;  // occurrences of one token do not overlap (find resumes after a match)
    for (; i < found.size() && found[i].first == rank; ++i) {
      const size_t pos = found[i].second;
      if (!enabled || pos < end_of_last) continue;
      if (claimed.empty()) claimed.assign(text.size(), 0);
      if (std::find(claimed.begin() + pos, claimed.begin() + pos + len, 1) != claimed.begin() + pos + len) continue;
      std::fill(claimed.begin() + pos, claimed.begin() + pos + len, 1);
      chosen.emplace_back(pos, id);
      end_of_last = pos + len;
    }
  }
  std::sort(chosen.begin(), chosen.end());

  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  if (options.add_bos) out.push_back(bos_);
  size_t raw_start = 0;  // raw text between special tokens goes through the pre-tokenizer and BPE
  for (const auto& [pos, id] : chosen) {
    if (pos > raw_start) HY2BIT_TRY(encode_fragment(text.substr(raw_start, pos - raw_start), out));
    out.push_back(id);
    raw_start = pos + vocab_->text(id).size();
  }
  if (raw_start < text.size()) HY2BIT_TRY(encode_fragment(text.substr(raw_start), out));
  return out;
}

Status Tokenizer::encode_fragment(std::string_view fragment, std::vector<int32_t>& out) const {
  Result<std::vector<std::string_view>> pieces = pre_.split(fragment);
  if (!pieces) return pieces.error();
  BpeScratch scratch;
  for (const std::string_view piece : *pieces) vocab_->encode_piece(piece, scratch, out);
  return Ok{};
}

std::string_view Tokenizer::token_piece(int32_t id, bool render_special) const {
  if (id < 0 || id >= n_vocab()) return {};
  const TokenType t = types_[id];
  if (!render_special && (t == TokenType::kControl || t == TokenType::kUnknown)) return {};
  return vocab_->piece(id);
}

std::string Tokenizer::token_bytes(int32_t id, bool render_special) const {
  return std::string(token_piece(id, render_special));
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool render_special) const {
  std::string out;
  for (const int32_t id : ids) out += token_piece(id, render_special);
  return out;
}

bool Tokenizer::is_eog(int32_t id) const {
  return id == eos_ || (eot_ && id == *eot_) || (eom_ && id == *eom_);
}

TokenType Tokenizer::type(int32_t id) const {
  return id >= 0 && id < n_vocab() ? types_[id] : TokenType::kUndefined;
}

std::string_view Tokenizer::text(int32_t id) const {
  return id >= 0 && id < n_vocab() ? vocab_->text(id) : std::string_view();
}

std::optional<int32_t> Tokenizer::find_token(std::string_view text) const {
  const int32_t id = vocab_->find_symbol(text);
  if (id == SymbolIndex::kNone || id >= n_vocab()) return std::nullopt;  // not a token (a merge-only string)
  return id;
}

}  // namespace hy2bit::text
