// Building the GGUF vocabulary from either tokenizer form, step for step as
// llama.cpp's converter: TextModel.get_vocab_base (tokenizer.json) or
// HunYuanModel.set_vocab's tiktoken branch, then gguf-py SpecialVocab
// (special ids, add_*_token flags, chat template), then HunYuan's EOS/EOT fix.
#include <algorithm>
#include <map>
#include <set>

#include "convert/hf_vocab.h"

namespace hy2bit::convert {
namespace {

// TextModel.does_token_look_special.
bool looks_special(std::string_view t) {
  if (t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]") return true;
  if (t.starts_with("<|") && t.ends_with("|>")) return true;
  if (t.starts_with("<\xEF\xBD\x9C") && t.ends_with("\xEF\xBD\x9C>")) return true;  // <｜ ... ｜>
  return t.starts_with("<unused") && t.ends_with(">");
}

// Built by appending (std::string::replace trips a GCC 12 false -Wrestrict).
std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  size_t pos = 0;
  for (size_t hit = s.find(from); hit != std::string_view::npos; hit = s.find(from, pos)) {
    out.append(s.substr(pos, hit - pos)).append(to);
    pos = hit + from.size();
  }
  return out.append(s.substr(pos));
}

// Ordered "type -> value" lists with Python dict semantics: setting an
// existing key keeps its place.
template <typename V>
void put(std::vector<std::pair<std::string, V>>& list, const std::string& key, V value) {
  for (auto& [k, v] : list)
    if (k == key) {
      v = value;
      return;
    }
  list.emplace_back(key, value);
}
template <typename V>
const V* get(const std::vector<std::pair<std::string, V>>& list, std::string_view key) {
  for (const auto& [k, v] : list)
    if (k == key) return &v;
  return nullptr;
}

// gguf-py SpecialVocab(dir, load_merges, special_token_types) as far as it
// matters for a BPE tokenizer: ids from tokenizer_config.json's token texts
// (looked up in tokenizer.json's added tokens), then from config.json;
// add_*_token flags; the chat template. `tok` is null for the tiktoken form.
void add_special_vocab(GgufVocab& v, const TokenizerJson* tok, const VocabSources& src, bool skip_pad) {
  std::vector<std::string> types = {"bos", "eos", "unk", "sep", "cls", "mask"};
  if (!skip_pad) types.insert(types.begin() + 4, "pad");
  std::vector<std::pair<std::string, std::string>> texts;
  if (src.tokenizer_config) texts = src.tokenizer_config->token_texts;

  if (tok != nullptr) {
    // post_processor: RobertaProcessing adds bos/eos/sep; TemplateProcessing's
    // single template says whether BOS and EOS are added.
    if (tok->roberta) {
      put(v.add_flags, "bos", true);
      put(v.add_flags, "eos", true);
      put(v.add_flags, "sep", true);
    }
    const std::string* bos_text = get(texts, "bos");
    const std::string* cls_text = get(texts, "cls");
    if (tok->template_first) {
      const std::string& first = *tok->template_first;
      const bool known = (bos_text && *bos_text == first) || (cls_text && *cls_text == first);
      if (!known && !src.tokenizer_config) put(texts, "bos", first);
      else if (!known && !bos_text) put(texts, "bos", first);
      bos_text = get(texts, "bos");
      put(v.add_flags, "bos", (bos_text && *bos_text == first) || (cls_text && *cls_text == first));
    }
    if (tok->template_last) {
      const std::string& last = *tok->template_last;
      const std::string* eos_text = get(texts, "eos");
      if (!src.tokenizer_config) {
        put(texts, "eos", last);
      } else if (!eos_text || *eos_text != last) {
        if (std::find(types.begin(), types.end(), "eot") == types.end()) {
          types.push_back("eot");
          if (eos_text) put(texts, "eot", std::string(*eos_text));
        }
        put(texts, "eos", last);
      }
      eos_text = get(texts, "eos");
      put(v.add_flags, "eos", eos_text && *eos_text == last);
    }
  }
  if (src.tokenizer_config) {
    if (src.tokenizer_config->chat_template) v.chat_template = src.tokenizer_config->chat_template;
    else if (src.chat_template_file) v.chat_template = src.chat_template_file;
    for (const std::string& type : types) {
      if (const bool* add = get(src.tokenizer_config->add_flags, type)) put(v.add_flags, type, *add);
      const std::string* text = get(texts, type);
      if (text == nullptr || tok == nullptr) continue;
      for (const AddedToken& a : tok->added_tokens)
        if (a.content == *text) {
          if (!get(v.special_ids, type)) put(v.special_ids, type, a.id);
          break;
        }
    }
  }
  for (const std::string& type : types)
    if (const int64_t* id = get(src.config->special_ids, type); id && !get(v.special_ids, type))
      put(v.special_ids, type, *id);
  // gguf-py has no writer for cls_token_id: SpecialVocab skips it.
  std::erase_if(v.special_ids, [](const auto& kv) { return kv.first == "cls"; });
  std::erase_if(v.add_flags, [](const auto& kv) { return kv.first != "bos" && kv.first != "eos" && kv.first != "sep"; });
}

// HunYuanModel.set_vocab's tail: eod_token_id is the EOS, and
// generation_config.json's first of several eos ids is the EOT.
void apply_hunyuan_eos(GgufVocab& v, const VocabSources& src) {
  if (src.config->eod_token_id) put(v.late_ids, "eos", *src.config->eod_token_id);
  if (src.generation_config && src.generation_config->eot_token_id)
    put(v.late_ids, "eot", *src.generation_config->eot_token_id);
}

Status check_special_ids(const GgufVocab& v, int64_t vocab_size) {
  for (const auto& list : {v.special_ids, v.late_ids})
    for (const auto& [type, id] : list)
      if (id < 0 || id >= vocab_size)
      return make_error(type, " token id ", id, " is outside the vocabulary (config.json vocab_size ", vocab_size, ")");
  return Ok{};
}

}  // namespace

Result<GgufVocab> vocab_from_tokenizer_json(const TokenizerJson& tok, const VocabSources& src) {
  const int64_t n_vocab = src.config->vocab_size;
  std::vector<const std::string*> text_of(static_cast<size_t>(n_vocab), nullptr);
  std::vector<const AddedToken*> added_of(static_cast<size_t>(n_vocab), nullptr);
  for (const auto& [text, id] : tok.vocab) {
    if (id >= n_vocab)
      return make_error("tokenizer.json: token \"", text, "\" has id ", id, " but config.json's vocab_size is ", n_vocab);
    if (text_of[id] != nullptr)
      return make_error("tokenizer.json: tokens \"", *text_of[id], "\" and \"", text, "\" share id ", id);
    text_of[id] = &text;
  }
  for (const AddedToken& a : tok.added_tokens) {
    if (a.id >= n_vocab)
      return make_error("tokenizer.json: added token \"", a.content, "\" has id ", a.id, " but config.json's vocab_size is ",
                        n_vocab);
    added_of[a.id] = &a;  // an added token replaces the model's text for its id, as in HF
    text_of[a.id] = &a.content;
  }
  GgufVocab v;
  v.tokens.reserve(n_vocab);
  v.types.reserve(n_vocab);
  for (int64_t i = 0; i < n_vocab; ++i) {
    if (text_of[i] == nullptr) {
      v.tokens.push_back("[PAD" + std::to_string(i) + "]");
      v.types.push_back(kTokenUnused);
    } else if (const AddedToken* a = added_of[i]) {
      if (a->special || looks_special(a->content)) {
        v.tokens.push_back(a->content);
        v.types.push_back(kTokenControl);
      } else {
        v.tokens.push_back(replace_all(a->content, "\xE2\x96\x81", " "));  // user-defined ▁ is a space
        v.types.push_back(kTokenUserDefined);
      }
    } else {
      v.tokens.push_back(*text_of[i]);
      v.types.push_back(kTokenNormal);
    }
  }
  v.merges = tok.merges;
  add_special_vocab(v, &tok, src, src.config->pad_token_id.value_or(0) < 0);
  apply_hunyuan_eos(v, src);
  HY2BIT_TRY(check_special_ids(v, n_vocab));
  return v;
}

Result<GgufVocab> vocab_from_tiktoken(const TiktokenRanks& ranks, const VocabSources& src) {
  const int64_t n_vocab = src.config->vocab_size;
  if (!src.tokenizer_config) return make_error("tokenizer_config.json is needed beside the tiktoken ranks file");
  std::vector<std::string> text_of(static_cast<size_t>(n_vocab));
  std::vector<uint8_t> present(static_cast<size_t>(n_vocab), 0), special(static_cast<size_t>(n_vocab), 0);
  for (const auto& [bytes, rank] : ranks.ranks) {
    if (rank >= n_vocab)
      return make_error("tiktoken ranks: rank ", rank, " is past config.json's vocab_size ", n_vocab);
    if (present[rank]) return make_error("tiktoken ranks: rank ", rank, " is given to two tokens");
    text_of[rank] = byte_level_text(bytes);
    present[rank] = 1;
  }
  for (const AddedToken& a : src.tokenizer_config->added_tokens_decoder) {
    if (a.id >= n_vocab)
      return make_error("tokenizer_config.json: added token \"", a.content, "\" has id ", a.id,
                        " but config.json's vocab_size is ", n_vocab);
    text_of[a.id] = a.content;  // {**vocab, **special_tokens}: the special token wins
    present[a.id] = 1;
    special[a.id] = 1;
  }
  GgufVocab v;
  for (int64_t i = 0; i < n_vocab; ++i) {
    if (!present[i]) {
      v.tokens.push_back("[PAD" + std::to_string(i) + "]");
      v.types.push_back(kTokenUnused);
    } else {
      v.tokens.push_back(std::move(text_of[i]));
      v.types.push_back(special[i] ? kTokenControl : kTokenNormal);
    }
  }
  v.merges = merges_from_ranks(ranks);
  add_special_vocab(v, nullptr, src, false);
  // llama.cpp's fix for the 7B dense model's <|bos|> (hidden size 4096 only).
  if (src.config->hidden_size == 4096) put(v.late_ids, "bos", int64_t{127958});
  apply_hunyuan_eos(v, src);
  HY2BIT_TRY(check_special_ids(v, n_vocab));
  return v;
}

}  // namespace hy2bit::convert
