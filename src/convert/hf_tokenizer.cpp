// Parsing of the tokenizer files: tokenizer.json, tokenizer_config.json and
// tiktoken ranks (hy.tiktoken), plus GPT-2's byte-level text and the BPE
// merge reconstruction from ranks that llama.cpp's HunYuan set_vocab does.
#include <algorithm>
#include <unordered_map>

#include "convert/hf_vocab.h"
#include "convert/json_util.h"
#include "text/base64.h"

namespace hy2bit::convert {
namespace {

constexpr int64_t kMaxTokenId = int64_t{1} << 30;

Result<AddedToken> parse_added(const Json& t, std::optional<int64_t> id, std::string_view what) {
  if (!t.is_object()) return make_error(what, ": an added token is not an object");
  AddedToken a;
  if (id) {
    a.id = *id;
  } else {
    Result<int64_t> v = required_int(t, "id", what);
    if (!v) return v.error();
    a.id = *v;
  }
  if (a.id < 0 || a.id >= kMaxTokenId) return make_error(what, ": added token id ", a.id, " is out of range");
  Result<std::optional<std::string>> content = optional_string(t, "content", what);
  if (!content) return content.error();
  if (!*content) return make_error(what, ": added token ", a.id, " has no \"content\"");
  a.content = std::move(**content);
  Result<std::optional<bool>> special = optional_bool(t, "special", what);
  if (!special) return special.error();
  a.special = special->value_or(false);
  return a;
}

// The text of a tokenizer_config "<type>_token": a string or {"content": ...}.
std::optional<std::string> token_text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object()) {
    const auto c = v.find("content");
    if (c != v.end() && c->is_string()) return c->get<std::string>();
  }
  return std::nullopt;
}


// GPT-2 bytes_to_unicode: printable bytes map to themselves, the other 68 to
// U+0100 upwards in byte order.
const std::vector<uint32_t>& byte_code_points() {
  static const std::vector<uint32_t> table = [] {
    std::vector<uint32_t> t(256);
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[b] = printable ? b : next++;
    }
    return t;
  }();
  return table;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

struct ViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace

Result<TokenizerJson> parse_tokenizer_json(std::string_view json_text) {
  constexpr const char* kWhat = "tokenizer.json";
  Result<Json> parsed = parse_json(json_text, kWhat);
  if (!parsed) return parsed.error();
  const Json& j = *parsed;
  if (!j.is_object()) return make_error(kWhat, ": not a JSON object");
  TokenizerJson tok;
  const auto model = j.find("model");
  if (model == j.end() || !model->is_object()) return make_error(kWhat, ": no \"model\" object");
  Result<std::optional<std::string>> type = optional_string(*model, "type", "tokenizer.json model");
  if (!type) return type.error();
  if (type->value_or("") != "BPE")
    return make_error(kWhat, ": model type \"", type->value_or(""), "\" is not supported (expected BPE)");
  const auto vocab = model->find("vocab");
  if (vocab == model->end() || !vocab->is_object()) return make_error(kWhat, ": no model.vocab object");
  for (const auto& [text, id] : vocab->items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= kMaxTokenId)
      return make_error(kWhat, ": id of token \"", text, "\" is not a token id");
    tok.vocab.emplace_back(text, id.get<int64_t>());
  }
  // Merges: "a b" strings, or (since transformers 4.45) [a, b] pairs whose
  // spaces llama.cpp writes as U+0120 so "a b" stays splittable.
  if (const auto merges = model->find("merges"); merges != model->end()) {
    if (!merges->is_array()) return make_error(kWhat, ": model.merges is not a list");
    for (const Json& m : *merges) {
      if (m.is_string()) {
        tok.merges.push_back(m.get<std::string>());
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        std::string joined;
        for (int side = 0; side < 2; ++side) {
          if (side == 1) joined += ' ';
          for (const char c : m[side].get_ref<const std::string&>()) {
            if (c == ' ') append_utf8(joined, 0x120);
            else joined += c;
          }
        }
        tok.merges.push_back(std::move(joined));
      } else {
        return make_error(kWhat, ": merge ", tok.merges.size(), " is neither \"a b\" nor [a, b]");
      }
    }
  }
  if (const auto added = j.find("added_tokens"); added != j.end() && !added->is_null()) {
    if (!added->is_array()) return make_error(kWhat, ": added_tokens is not a list");
    for (const Json& a : *added) {
      Result<AddedToken> t = parse_added(a, std::nullopt, kWhat);
      if (!t) return t.error();
      tok.added_tokens.push_back(std::move(*t));
    }
  }
  if (const auto post = j.find("post_processor"); post != j.end() && post->is_object()) {
    std::vector<const Json*> processors;
    if (const auto list = post->find("processors"); list != post->end() && list->is_array())
      for (const Json& p : *list) processors.push_back(&p);
    else
      processors.push_back(&*post);
    for (const Json* p : processors) {
      if (!p->is_object()) continue;
      const auto type_it = p->find("type");
      const std::string ptype = type_it != p->end() && type_it->is_string() ? type_it->get<std::string>() : "";
      if (ptype == "RobertaProcessing") {
        tok.roberta = true;
      } else if (ptype == "TemplateProcessing") {
        const auto single = p->find("single");
        if (single == p->end() || !single->is_array() || single->size() <= 1) continue;
        auto special_id = [](const Json& item) -> std::optional<std::string> {
          if (!item.is_object()) return std::nullopt;
          const auto st = item.find("SpecialToken");
          if (st == item.end() || !st->is_object()) return std::nullopt;
          const auto id = st->find("id");
          if (id == st->end() || !id->is_string() || id->get_ref<const std::string&>().empty()) return std::nullopt;
          return id->get<std::string>();
        };
        tok.template_first = special_id(single->front());
        tok.template_last = special_id(single->back());
      }
    }
  }
  return tok;
}

Result<TokenizerConfig> parse_tokenizer_config(std::string_view json_text) {
  constexpr const char* kWhat = "tokenizer_config.json";
  Result<Json> parsed = parse_json(json_text, kWhat);
  if (!parsed) return parsed.error();
  const Json& j = *parsed;
  if (!j.is_object()) return make_error(kWhat, ": not a JSON object");
  TokenizerConfig cfg;
  for (const char* type : {"bos", "eos", "unk", "sep", "pad", "cls", "mask", "eot", "eom"}) {
    const std::string add_key = std::string("add_") + type + "_token";
    if (const auto it = j.find(add_key); it != j.end() && it->is_boolean()) cfg.add_flags.emplace_back(type, it->get<bool>());
    if (const auto it = j.find(std::string(type) + "_token"); it != j.end())
      if (std::optional<std::string> text = token_text(*it)) cfg.token_texts.emplace_back(type, std::move(*text));
  }
  if (const auto t = j.find("chat_template"); t != j.end() && !t->is_null()) {
    if (!t->is_string())
      return make_error(kWhat, ": chat_template is not a string (named template lists are not supported)");
    cfg.chat_template = t->get<std::string>();
  }
  if (const auto d = j.find("added_tokens_decoder"); d != j.end() && !d->is_null()) {
    if (!d->is_object()) return make_error(kWhat, ": added_tokens_decoder is not an object");
    for (const auto& [key, value] : d->items()) {
      int64_t id = 0;
      if (key.empty() || key.size() > 10 || !std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return make_error(kWhat, ": added_tokens_decoder key \"", key, "\" is not a token id");
      id = std::stoll(key);
      Result<AddedToken> t = parse_added(value, id, kWhat);
      if (!t) return t.error();
      cfg.added_tokens_decoder.push_back(std::move(*t));
    }
    std::sort(cfg.added_tokens_decoder.begin(), cfg.added_tokens_decoder.end(),
              [](const AddedToken& a, const AddedToken& b) { return a.id < b.id; });
  }
  return cfg;
}

Result<TiktokenRanks> parse_tiktoken_ranks(std::string_view text) {
  TiktokenRanks out;
  std::unordered_map<std::string, size_t> seen;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const size_t space = line.find(' ');
    if (space == std::string_view::npos)
      return make_error("tiktoken ranks line ", line_no, ": expected \"<base64 token> <rank>\"");
    const std::string_view rank_text = line.substr(space + 1);
    std::optional<std::string> token = text::base64_decode(line.substr(0, space));
    if (!token) return make_error("tiktoken ranks line ", line_no, ": the token is not valid base64");
    if (rank_text.empty() || rank_text.size() > 10 ||
        !std::all_of(rank_text.begin(), rank_text.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return make_error("tiktoken ranks line ", line_no, ": the rank is not a non-negative integer");
    const int64_t rank = std::stoll(std::string(rank_text));
    if (rank >= kMaxTokenId) return make_error("tiktoken ranks line ", line_no, ": rank ", rank, " is out of range");
    if (!seen.emplace(*token, line_no).second)
      return make_error("tiktoken ranks line ", line_no, ": token repeats line ", seen[*token]);
    out.ranks.emplace_back(std::move(*token), rank);
  }
  if (out.ranks.empty()) return make_error("tiktoken ranks file holds no tokens");
  return out;
}

std::string byte_level_text(std::string_view bytes) {
  const std::vector<uint32_t>& table = byte_code_points();
  std::string out;
  for (const char c : bytes) append_utf8(out, table[static_cast<unsigned char>(c)]);
  return out;
}

std::vector<std::string> merges_from_ranks(const TiktokenRanks& ranks) {
  std::unordered_map<std::string, int64_t, ViewHash, std::equal_to<>> rank_of;
  for (const auto& [token, rank] : ranks.ranks) rank_of.emplace(token, rank);
  std::vector<std::string> merges;
  std::vector<size_t> starts;  // part i is token[starts[i], starts[i+1])
  for (const auto& [token, max_rank] : ranks.ranks) {
    if (token.size() < 2) continue;
    const std::string_view t = token;
    starts.clear();
    for (size_t i = 0; i <= t.size(); ++i) starts.push_back(i);
    // Merge the lowest-ranked adjacent pair while its rank is below the token's own.
    while (starts.size() > 2) {
      size_t best = 0;
      int64_t best_rank = -1;
      for (size_t i = 0; i + 2 < starts.size(); ++i) {
        const auto it = rank_of.find(t.substr(starts[i], starts[i + 2] - starts[i]));
        if (it != rank_of.end() && (best_rank < 0 || it->second < best_rank)) {
          best = i;
          best_rank = it->second;
        }
      }
      if (best_rank < 0 || best_rank >= max_rank) break;
      starts.erase(starts.begin() + static_cast<std::ptrdiff_t>(best) + 1);
    }
    if (starts.size() == 3)
      merges.push_back(byte_level_text(t.substr(0, starts[1])) + " " + byte_level_text(t.substr(starts[1])));
  }
  return merges;
}

}  // namespace hy2bit::convert
