// Tests for the Tokenizer beyond the llama.cpp cases: special-token matching,
// BOS, invalid UTF-8, decoding, the tiny model's vocabulary, byte fallback in
// a small synthetic vocabulary, and the validation errors of from_gguf.
#include "text/tokenizer.h"

#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "text/chat_format.h"
#include "text/text_test_util.h"

namespace hy2bit::text {
namespace {

using Ids = std::vector<int32_t>;

Ids encode(const Tokenizer& tok, std::string_view text, EncodeOptions options = {}) {
  Result<Ids> ids = tok.encode(text, options);
  EXPECT_TRUE(ids.ok()) << ids.error().message;
  return ids.ok() ? *ids : Ids{};
}

// ---- the real bilingual vocabulary (testdata/tokenizer/hy-vocab.gguf) ----

TEST(Tokenizer, VocabularyMetadata) {
  const Tokenizer* tok = test::vocab_tokenizer();
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->n_vocab(), 102408);
  EXPECT_EQ(tok->n_merges(), 99757u);
  EXPECT_EQ(tok->bos(), 102400);
  EXPECT_EQ(tok->eos(), 102405);
  EXPECT_EQ(tok->pad(), 102402);
  EXPECT_FALSE(tok->eot().has_value());
  EXPECT_TRUE(tok->add_bos());
  EXPECT_TRUE(tok->is_eog(102405));
  EXPECT_FALSE(tok->is_eog(102404));
  EXPECT_EQ(tok->find_token(kHyUser), 102403);
  EXPECT_EQ(tok->find_token(kHyAssistant), 102404);
  EXPECT_EQ(tok->find_token(kHyEndOfSystem), 102406);
  EXPECT_FALSE(tok->find_token("no such token").has_value());
  EXPECT_TRUE(tok->is_control(102400));
  EXPECT_FALSE(tok->is_control(100));
  EXPECT_EQ(tok->type(102388), TokenType::kUserDefined);  // [PAD102388]
  EXPECT_EQ(tok->type(-1), TokenType::kUndefined);
  EXPECT_EQ(tok->type(tok->n_vocab()), TokenType::kUndefined);
  EXPECT_TRUE(check_chat_vocab(*tok).ok());
}

TEST(Tokenizer, SpecialTokensAreWholeTokensOnlyWhenParsed) {
  const Tokenizer* tok = test::vocab_tokenizer();
  ASSERT_NE(tok, nullptr);
  const std::string text = std::string(kHyUser) + "你好" + std::string(kHyAssistant);
  const Ids parsed = encode(*tok, text, {.parse_special = true});
  ASSERT_GE(parsed.size(), 3u);
  EXPECT_EQ(parsed.front(), 102403);
  EXPECT_EQ(parsed.back(), 102404);
  // Without parsing, the same text is ordinary text: no control token at all.
  const Ids plain = encode(*tok, text, {.parse_special = false});
  for (const int32_t id : plain) EXPECT_FALSE(tok->is_control(id)) << id;
  EXPECT_GT(plain.size(), parsed.size());
  // User-defined tokens are matched even without special parsing (llama.cpp).
  EXPECT_EQ(encode(*tok, "a[PAD102388]b", {.parse_special = false}),
            (Ids{encode(*tok, "a")[0], 102388, encode(*tok, "b")[0]}));
  // A special token cut short, or wrapped, is not the token.
  EXPECT_EQ(encode(*tok, "<｜hy_User｜"), (Ids{27, 68940, 237, 9426, 62, 5726, 68940, 237}));
  EXPECT_EQ(encode(*tok, "<<｜hy_User｜>>"), (Ids{27, 102403, 29}));
  // Adjacent special tokens with nothing between them.
  EXPECT_EQ(encode(*tok, std::string(kHyBos) + std::string(kHyEndOfSystem) + std::string(kHyUser)),
            (Ids{102400, 102406, 102403}));
}

TEST(Tokenizer, BosOnlyWhenAsked) {
  const Tokenizer* tok = test::vocab_tokenizer();
  ASSERT_NE(tok, nullptr);
  const Ids without = encode(*tok, "Hello world", {.add_bos = false});
  const Ids with = encode(*tok, "Hello world", {.add_bos = true});
  EXPECT_EQ(without, (Ids{17464, 1843}));
  ASSERT_EQ(with.size(), without.size() + 1);
  EXPECT_EQ(with[0], tok->bos());
  EXPECT_EQ(Ids(with.begin() + 1, with.end()), without);
  EXPECT_EQ(encode(*tok, "", {.add_bos = true}), (Ids{tok->bos()}));
  EXPECT_TRUE(encode(*tok, "").empty());
  // A BOS written in the text is parsed like any control token (chat prompts carry it).
  EXPECT_EQ(encode(*tok, std::string(kHyBos) + "Hello world"), (Ids{102400, 17464, 1843}));
}

TEST(Tokenizer, TildeIsASymbol) {
  // Ids from llama.cpp after PR #26972 (which matches the Hugging Face
  // tokenizer); llama.cpp 557fe2d9 gives 56 93 92 for "Y~}".
  const Tokenizer* tok = test::vocab_tokenizer();
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(encode(*tok, "Y~}"), (Ids{56, 34662}));
  EXPECT_EQ(encode(*tok, "a ~~ b"), (Ids{64, 57557, 270}));
  EXPECT_EQ(encode(*tok, "~/home/user"), (Ids{47467, 5819, 14, 3631}));
  EXPECT_EQ(encode(*tok, "x ~ y"), (Ids{87, 4408, 320}));
  EXPECT_EQ(encode(*tok, "a~b"), (Ids{64, 93, 65}));
  EXPECT_EQ(encode(*tok, "price: ~$5"), (Ids{21786, 25, 4408, 3, 20}));
  EXPECT_EQ(encode(*tok, "\u00A0\u2003 x\u0085y"), (Ids{1202, 51570, 1376, 124, 214, 88}));
}

TEST(Tokenizer, InvalidUtf8IsAnError) {
  const Tokenizer* tok = test::vocab_tokenizer();
  ASSERT_NE(tok, nullptr);
  Result<Ids> ids = tok->encode("abc\xE4\xB8");
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(ids.error().message,
            "prompt is not valid UTF-8 at byte 3 (found 0xe4, a character cut off by the end of the text)");
  Result<Ids> lone = tok->encode(std::string(kHyUser) + "\x80");
  ASSERT_FALSE(lone.ok());
  EXPECT_NE(lone.error().message.find("at byte " + std::to_string(kHyUser.size())), std::string::npos);
}

TEST(Tokenizer, TokenBytes) {
  const Tokenizer* tok = test::vocab_tokenizer();
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->token_bytes(17464), "Hello");
  EXPECT_EQ(tok->token_bytes(1843), " world");      // "Ġworld" mapped back
  EXPECT_EQ(tok->token_bytes(185), "\n");            // "Ċ"
  EXPECT_EQ(tok->text(1843), "\xC4\xA0world");       // raw vocabulary text
  // Control tokens: text only when asked; user-defined: always.
  EXPECT_EQ(tok->token_bytes(102403), "");
  EXPECT_EQ(tok->token_bytes(102403, /*render_special=*/true), kHyUser);
  EXPECT_EQ(tok->token_bytes(102388), "[PAD102388]");
  EXPECT_EQ(tok->token_bytes(-5), "");
  EXPECT_EQ(tok->token_bytes(tok->n_vocab()), "");
  // Pieces of one character split across tokens: the bytes, not text.
  const Ids emoji = encode(*tok, "🦙");
  ASSERT_GT(emoji.size(), 1u);
  std::string bytes;
  for (const int32_t id : emoji) bytes += tok->token_bytes(id);
  EXPECT_EQ(bytes, "🦙");
  EXPECT_EQ(tok->decode(encode(*tok, "Hé 写一副春联!")), "Hé 写一副春联!");
}

TEST(Tokenizer, LargeInputRoundTrips) {
  const Tokenizer* tok = test::vocab_tokenizer();
  ASSERT_NE(tok, nullptr);
  std::string text;
  while (text.size() < 1'000'000) text += "The quick brown fox 跳过了 the lazy dog; 12345 ~~ <｜hy_User｜>\n";
  const Ids ids = encode(*tok, text);  // ~0.1 s in Release; speed is not asserted here
  EXPECT_GT(ids.size(), 200'000u);
  EXPECT_EQ(tok->decode(ids, true), text);
}

// ---- the tiny model's synthetic vocabulary (testdata/models/hy-tiny-f16.gguf) ----

TEST(Tokenizer, TinyModelVocabulary) {
  const Tokenizer* tok = test::shared_tokenizer("models/hy-tiny-f16.gguf");
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->n_vocab(), 1000);
  EXPECT_EQ(tok->bos(), 984);
  EXPECT_EQ(tok->eos(), 989);
  EXPECT_TRUE(check_chat_vocab(*tok).ok());
  for (int32_t id = 984; id < 1000; ++id) EXPECT_TRUE(tok->is_control(id)) << id;
  // Ids checked against llama.cpp on this vocabulary.
  EXPECT_EQ(encode(*tok, " pleas ryrnex"), (Ids{983, 982}));
  const std::string text = std::string(kHyBos) + "Cowisring a ryrne\n" + std::string(kHyAssistant);
  const Ids ids = encode(*tok, text);
  EXPECT_EQ(ids, (Ids{984, 67, 111, 119, 105, 115, 114, 105, 110, 103, 32, 97, 981, 10, 988}));
  EXPECT_EQ(tok->decode(ids, /*render_special=*/true), text);
  EXPECT_EQ(tok->decode(ids), "Cowisring a ryrne\n");
}

// ---- small synthetic vocabularies written with the GGUF writer ----

using Metadata = std::vector<std::pair<std::string, gguf::OwnedValue>>;

// GPT-2's byte-level character for each byte.
std::string mapped(uint8_t b) {
  const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
  uint32_t cp = b;
  if (!printable) {
    cp = 256;
    for (int c = 0; c < b; ++c) {
      if (!((c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE)) ++cp;
    }
  }
  std::string out;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return out;
}

// All 256 byte characters except 'x' and 'z', merges "a b" (result "ab" is
// not a token), "ab c" -> "abc", "x y" -> "xy" (left part not a token), and a
// control, a user-defined and a byte token.
Metadata small_vocab() {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  for (int b = 0; b < 256; ++b) {
    if (b == 'x' || b == 'z') continue;
    tokens.push_back(mapped(static_cast<uint8_t>(b)));
    types.push_back(1);
  }
  for (const char* t : {"abc", "xy", "he", "hel"}) {
    tokens.emplace_back(t);
    types.push_back(1);
  }
  tokens.emplace_back("<|ctl|>");
  types.push_back(3);
  tokens.emplace_back("<|user|>");
  types.push_back(4);
  tokens.emplace_back("<0x41>");
  types.push_back(6);
  return {
      {"general.architecture", gguf::OwnedValue::string("hunyuan-dense")},
      {"tokenizer.ggml.model", gguf::OwnedValue::string("gpt2")},
      {"tokenizer.ggml.pre", gguf::OwnedValue::string("deepseek-v3")},
      {"tokenizer.ggml.tokens", gguf::OwnedValue::string_array(tokens)},
      {"tokenizer.ggml.token_type", gguf::OwnedValue::i32_array(types)},
      {"tokenizer.ggml.merges", gguf::OwnedValue::string_array({"a b", "ab c", "x y", "h e", "he l"})},
      {"tokenizer.ggml.bos_token_id", gguf::OwnedValue::u32(static_cast<uint32_t>(tokens.size() - 3))},
      {"tokenizer.ggml.eos_token_id", gguf::OwnedValue::u32(static_cast<uint32_t>(tokens.size() - 3))},
  };
}

void set(Metadata& m, const std::string& key, gguf::OwnedValue value) {
  for (auto& [k, v] : m) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  m.emplace_back(key, std::move(value));
}

void remove_key(Metadata& m, const std::string& key) {
  std::erase_if(m, [&](const auto& kv) { return kv.first == key; });
}

TEST(Tokenizer, MergesByRankAndByteFallback) {
  Result<Tokenizer> made = test::tokenizer_from_metadata(small_vocab(), "small_vocab");
  ASSERT_TRUE(made.ok()) << made.error().message;
  const Tokenizer& tok = *made;
  const int32_t a = *tok.find_token("a");
  const int32_t b = *tok.find_token("b");
  const int32_t abc = *tok.find_token("abc");
  const int32_t y = *tok.find_token("y");
  const int32_t xy = *tok.find_token("xy");
  EXPECT_FALSE(tok.find_token("ab").has_value());  // only a merge intermediate
  EXPECT_EQ(encode(tok, "abc"), (Ids{abc}));
  // "ab" is not a token and llama.cpp then emits the tokens of its single
  // bytes: "a" and "b".
  EXPECT_EQ(encode(tok, "ab"), (Ids{a, b}));
  // 'x' is not a token: alone it is dropped (llama.cpp emits nothing for it)...
  EXPECT_EQ(encode(tok, "x"), Ids{});
  EXPECT_EQ(encode(tok, "zy"), (Ids{y}));
  // ...but the merge "x y" still applies and gives the token "xy".
  EXPECT_EQ(encode(tok, "xy"), (Ids{xy}));
  EXPECT_EQ(encode(tok, "hel"), (Ids{*tok.find_token("hel")}));
  // Special tokens and decoding.
  EXPECT_EQ(encode(tok, "<|ctl|><|user|>"), (Ids{tok.bos(), tok.bos() + 1}));
  EXPECT_EQ(tok.token_bytes(tok.bos() + 1), "<|user|>");
  EXPECT_EQ(tok.token_bytes(tok.bos() + 2), "A");  // byte token <0x41>
  EXPECT_EQ(tok.token_bytes(*tok.find_token(mapped(' '))), " ");
}

// from_gguf on small_vocab() changed by `edit` must fail with `expected`.
void expect_load_error(const std::string& name, const std::function<void(Metadata&)>& edit,
                       const std::string& expected) {
  Metadata m = small_vocab();
  edit(m);
  Result<Tokenizer> made = test::tokenizer_from_metadata(m, name);
  ASSERT_FALSE(made.ok()) << name << " loaded";
  EXPECT_EQ(made.error().message, expected) << name;
}

TEST(Tokenizer, RejectsBadVocabularies) {
  expect_load_error("model", [](Metadata& m) { set(m, "tokenizer.ggml.model", gguf::OwnedValue::string("llama")); },
                    "metadata key 'tokenizer.ggml.model' is 'llama', expected 'gpt2' (byte-level BPE, the only "
                    "tokenizer hunyuan-dense uses)");
  expect_load_error("pre", [](Metadata& m) { set(m, "tokenizer.ggml.pre", gguf::OwnedValue::string("qwen2")); },
                    "metadata key 'tokenizer.ggml.pre' is 'qwen2', expected 'hunyuan-dense' or 'deepseek-v3' (the "
                    "only pre-tokenizer hy2bit implements)");
  expect_load_error("no_tokens", [](Metadata& m) { remove_key(m, "tokenizer.ggml.tokens"); },
                    "metadata key 'tokenizer.ggml.tokens' is missing");
  expect_load_error("tokens_type", [](Metadata& m) { set(m, "tokenizer.ggml.tokens", gguf::OwnedValue::u32(3)); },
                    "metadata key 'tokenizer.ggml.tokens' has type uint32, expected array of string");
  expect_load_error("dup_token",
                    [](Metadata& m) {
                      set(m, "tokenizer.ggml.tokens", gguf::OwnedValue::string_array({"a", "b", "a"}));
                      set(m, "tokenizer.ggml.token_type", gguf::OwnedValue::i32_array({1, 1, 1}));
                      set(m, "tokenizer.ggml.bos_token_id", gguf::OwnedValue::u32(0));
                      set(m, "tokenizer.ggml.eos_token_id", gguf::OwnedValue::u32(0));
                    },
                    "metadata key 'tokenizer.ggml.tokens' has token 2 = 'a' equal to token 0, expected distinct "
                    "token texts");
  expect_load_error("types_len",
                    [](Metadata& m) { set(m, "tokenizer.ggml.token_type", gguf::OwnedValue::i32_array({1, 1})); },
                    "metadata key 'tokenizer.ggml.token_type' has 2 entries, expected 261 (one per token)");
  expect_load_error("type_value",
                    [](Metadata& m) {
                      std::vector<int32_t> types(261, 1);
                      types[7] = 9;
                      set(m, "tokenizer.ggml.token_type", gguf::OwnedValue::i32_array(types));
                    },
                    "metadata key 'tokenizer.ggml.token_type' entry 7 is 9, expected a token type 0..6");
  expect_load_error("merge_no_space",
                    [](Metadata& m) { set(m, "tokenizer.ggml.merges", gguf::OwnedValue::string_array({"a b", "ab"})); },
                    "metadata key 'tokenizer.ggml.merges' entry 1 is 'ab', expected two non-empty symbols separated "
                    "by one space");
  expect_load_error("merge_two_spaces",
                    [](Metadata& m) { set(m, "tokenizer.ggml.merges", gguf::OwnedValue::string_array({"a b c"})); },
                    "metadata key 'tokenizer.ggml.merges' entry 0 is 'a b c', expected two non-empty symbols "
                    "separated by one space");
  expect_load_error("merge_empty_side",
                    [](Metadata& m) { set(m, "tokenizer.ggml.merges", gguf::OwnedValue::string_array({" b"})); },
                    "metadata key 'tokenizer.ggml.merges' entry 0 is ' b', expected two non-empty symbols separated "
                    "by one space");
  expect_load_error("no_merges", [](Metadata& m) { remove_key(m, "tokenizer.ggml.merges"); },
                    "metadata key 'tokenizer.ggml.merges' is missing");
  expect_load_error("bos_range",
                    [](Metadata& m) { set(m, "tokenizer.ggml.bos_token_id", gguf::OwnedValue::u32(261)); },
                    "metadata key 'tokenizer.ggml.bos_token_id' is 261, expected a token id below n_vocab = 261");
  expect_load_error("no_eos", [](Metadata& m) { remove_key(m, "tokenizer.ggml.eos_token_id"); },
                    "metadata key 'tokenizer.ggml.eos_token_id' is missing");
  expect_load_error("eot_range",
                    [](Metadata& m) { set(m, "tokenizer.ggml.eot_token_id", gguf::OwnedValue::u32(1u << 30)); },
                    "metadata key 'tokenizer.ggml.eot_token_id' is 1073741824, expected a token id below n_vocab = "
                    "261");
  expect_load_error("add_bos_type",
                    [](Metadata& m) { set(m, "tokenizer.ggml.add_bos_token", gguf::OwnedValue::u32(1)); },
                    "metadata key 'tokenizer.ggml.add_bos_token' has type uint32, expected a bool");
}

TEST(Tokenizer, OptionalKeys) {
  Metadata m = small_vocab();
  remove_key(m, "tokenizer.ggml.token_type");  // all tokens normal
  set(m, "tokenizer.ggml.eot_token_id", gguf::OwnedValue::u32(5));
  set(m, "tokenizer.ggml.add_bos_token", gguf::OwnedValue::boolean(true));
  Result<Tokenizer> made = test::tokenizer_from_metadata(m, "optional_keys");
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_EQ(made->eot(), 5);
  EXPECT_TRUE(made->is_eog(5));
  EXPECT_TRUE(made->add_bos());
  EXPECT_FALSE(made->is_control(made->bos()));
  // "<|ctl|>" is now a normal token: not matched whole.
  EXPECT_GT(encode(*made, "<|ctl|>").size(), 1u);
}

}  // namespace
}  // namespace hy2bit::text
