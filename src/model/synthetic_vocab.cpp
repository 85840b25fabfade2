// Builds the synthetic byte-level BPE vocab of make-test-model. Candidate
// strings are proposed in a fixed order (whitespace, " x", the demo prompt's
// CJK characters, digits, English words, common Chinese characters, all CJK
// ideographs, then pseudo-words); a candidate becomes a token only when BPE
// over the merges so far splits it into exactly two tokens, which become its
// merge. So every token is what BPE makes of its own text.
#include "model/synthetic_vocab.h"

#include <array>
#include <climits>
#include <unordered_map>

namespace hy2bit::model {
namespace {

// The control tokens, in the order testdata's hy-tiny model has them
// (｜ is U+FF5C, ▁ is U+2581). Indices used below: 0 BOS, 2 pad, 3 user,
// 4 assistant, 5 EOS, 6 end of system turn.
constexpr std::array<std::string_view, kSyntheticControlCount> kControlTokens = {
    "<｜hy_begin▁of▁sentence｜>",       "<｜hy_end▁of▁sentence｜>",
    "<｜hy_▁pad▁｜>",                   "<｜hy_User｜>",
    "<｜hy_Assistant｜>",               "<｜hy_place▁holder▁no▁2｜>",
    "<｜hy_place▁holder▁no▁3｜>",       "<｜hy_place▁holder▁no▁8｜>",
    "<｜hy_place▁holder▁no▁108｜>",     "<｜hy_place▁holder▁no▁109｜>",
    "<｜hy_place▁holder▁no▁110｜>",     "<｜hy_place▁holder▁no▁111｜>",
    "<｜hy_place▁holder▁no▁112｜>",     "<｜hy_place▁holder▁no▁113｜>",
    "<｜hy_place▁holder▁no▁114｜>",     "<｜hy_place▁holder▁no▁115｜>",
};

// The demo prompt of the model card ("write a spring couplet").
constexpr std::string_view kDemoPrompt = "写一副春联";

// Frequent Chinese characters (duplicates are harmless: a token is added once).
constexpr std::string_view kCommonHanzi =
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里"
    "用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因只从想实"
    "日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应战向头文体政"
    "美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿原东声提立及比员"
    "解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件"
    "计管期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象"
    "完设式色路记南品住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改"
    "收根干造言联持组每济车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流备兵连调"
    "深商算质团集百需价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越器容照须九增研写称企"
    "八功吗包片史委乎查轻易早曾除农找装广显吧阿李标谈吃图念六引历首医局突专费号尽另周较注语仅考落青随选列"
    "武红响虽推势参希古众构房半节土投某案黑维革划敌致陈律足态护七兴派孩验责营星够章音跟志底站严巴例防族供"
    "效续施留讲型料终答紧黄绝奇察母京段依批群项故按河米围江织害斗双境客纪采举杀攻父苏密低朝友诉止细愿千值"
    "仍男钱破网热助倒育属坐帝限船脸职速刻乐否刚威毛状率甚独球般普怕弹校苦创假久错承印晚兰试股拿脑预谁益阳"
    "若哪微尼继送急血惊伤素药适波夜省初喜卫源食险待述陆习置居劳财环排福纳欢雷警获模充负云停木游龙树疑层冷"
    "洲冲射略范竟句室异激汉村哈策演简卡罪判担州静退既衣您宗积余痛检差富灵协角占配征修皮挥胜降阶审沉坚善妈"
    "刘读啊超免压银买皇养伊怀执副乱抗犯追帮宣佛岁航优怪香著田铁控税左右份穿艺背阵草脚概恶块顿敢守酒岛托央"
    "户烈洋哥索胡款靠评版宝座释景顾弟登货互付伯慢欧换闻危忙核暗姐介坏讨丽良序升监临亮露永呼味野架域沙掉括"
    "春联横批对上下新年快乐吉祥如意万事顺心想成财源广进福满门迎喜气洋洋岁岁平安辞旧";

// Frequent two-character words, the demo prompt's among them.
constexpr std::array<std::string_view, 40> kCommonHanziWords = {
    "春联", "一副", "写一", "中国", "我们", "你好", "什么", "一个", "没有", "自己",
    "他们", "这个", "时候", "可以", "知道", "现在", "因为", "所以", "如果", "但是",
    "已经", "还是", "就是", "新年", "快乐", "对联", "上联", "下联", "横批", "春节",
    "问题", "工作", "生活", "发展", "世界", "学习", "朋友", "喜欢", "今天", "谢谢",
};

constexpr std::array<std::string_view, 24> kPunctuation = {
    " (", " \"", " '", " -", " =", " {", " [", " /", "()", "{}", "[]", "==",
    "->", "//", ".\n", ",\n", ":\n", "...", "--", "**", "##", " *", "\"\n", ").",
};

constexpr std::array<std::string_view, 18> kCjkPunctuation = {
    "，", "。", "：", "！", "？", "、", "；", "“", "”", "（", "）", "《", "》", "…", "「", "」", "【", "】",
};

// Tags the model writes in its replies (see hy-model.md, "Chat format and thinking").
constexpr std::array<std::string_view, 4> kReplyTags = {"<think>", "</think>", "<answer>", "</answer>"};

constexpr std::array<std::string_view, 120> kEnglishWords = {
    "the", "of", "and", "to", "in", "is", "you", "that", "it", "he", "was", "for",
    "on", "are", "as", "with", "his", "they", "at", "be", "this", "have", "from", "or",
    "one", "had", "by", "word", "but", "not", "what", "all", "were", "we", "when", "your",
    "can", "said", "there", "use", "an", "each", "which", "she", "do", "how", "their", "if",
    "will", "up", "other", "about", "out", "many", "then", "them", "these", "so", "some", "her",
    "would", "make", "like", "him", "into", "time", "has", "look", "two", "more", "write", "go",
    "see", "number", "no", "way", "could", "people", "my", "than", "first", "water", "been", "call",
    "who", "its", "now", "find", "long", "down", "day", "did", "get", "come", "made", "may",
    "part", "model", "token", "hello", "world", "year", "spring", "poem", "answer", "think", "question", "because",
    "function", "return", "int", "string", "class", "def", "import", "self", "print", "true", "false", "new",
};

constexpr std::array<std::string_view, 16> kCapitalizedWords = {
    "The", "I", "A", "This", "In", "It", "We", "He", "What", "How", "Hello", "If", "You", "And", "But", "There",
};

constexpr std::array<std::string_view, 28> kSubwords = {
    "ing", "ed", "er", "es", "ly", "tion", "ment", "ness", "able", "al", "ent", "ous", "ive", "ize",
    "re", "un", "st", "th", "ch", "sh", "qu", "ion", "ation", "ers", "est", "ful", "less", "ity",
};

// splitmix64: a small fixed PRNG, so the pseudo-words do not depend on the
// standard library's distributions.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The UTF-8 encoding of a code point (all callers pass valid scalar values).
std::string utf8_encode(uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

// Splits valid UTF-8 text into its characters.
std::vector<std::string_view> utf8_chars(std::string_view text) {
  std::vector<std::string_view> chars;
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<uint8_t>(text[i]);
    const size_t len = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    chars.push_back(text.substr(i, len));
    i += len;
  }
  return chars;
}

// GPT-2's byte-to-unicode code point: printable Latin-1 bytes ('!'..'~',
// '¡'..'¬', '®'..'ÿ') map to themselves; the other 68 bytes map to 256, 257, ...
// in byte order (so space, byte 32, is U+0120 'Ġ').
uint32_t gpt2_byte_codepoint(uint8_t b) {
  if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174) return b;
  if (b <= 32) return 256 + b;                    // bytes 0..32 are the first 33
  if (b <= 160) return 256 + 33 + (b - 127);      // then 127..160
  return 256 + 33 + 34;                           // then 173
}

// Grows a vocab one token at a time; see the file comment for the rule.
class VocabBuilder {
 public:
  explicit VocabBuilder(size_t target) : target_(target) {
    texts_.reserve(target);
    for (int b = 0; b < 256; ++b) {
      texts_.emplace_back(1, static_cast<char>(b));
      ids_.emplace(texts_.back(), b);
    }
  }

  bool full() const { return texts_.size() >= target_; }
  const std::vector<std::string>& texts() const { return texts_; }
  const std::vector<std::pair<int32_t, int32_t>>& merges() const { return merges_; }

  // Adds `text` as a token if it is new and BPE splits it into two tokens.
  void propose(std::string_view text) {
    if (full() || text.size() < 2 || ids_.contains(std::string(text))) return;
    bpe(text, pieces_);
    if (pieces_.size() != 2) return;
    const auto id = static_cast<int32_t>(texts_.size());
    merge_result_.emplace(pair_key(pieces_[0], pieces_[1]), id);
    merges_.emplace_back(pieces_[0], pieces_[1]);
    texts_.emplace_back(text);
    ids_.emplace(texts_.back(), id);
  }

  // Proposes every prefix of `text` that is at least two bytes long, shortest
  // first, so a word's tokens grow a byte at a time (UTF-8 characters too).
  void propose_prefixes(std::string_view text) {
    for (size_t n = 2; n <= text.size() && !full(); ++n) propose(text.substr(0, n));
  }

 private:
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }

  // Byte-level BPE as llama.cpp runs it: repeatedly join the adjacent pair
  // whose merge has the lowest rank, leftmost first on ties. Merge i created
  // token 256 + i, so the created id orders merges by rank.
  void bpe(std::string_view text, std::vector<int32_t>& pieces) const {
    pieces.clear();
    for (char c : text) pieces.push_back(static_cast<uint8_t>(c));
    while (pieces.size() > 1) {
      int32_t best_id = INT32_MAX;
      size_t best_at = 0;
      for (size_t i = 0; i + 1 < pieces.size(); ++i) {
        const auto it = merge_result_.find(pair_key(pieces[i], pieces[i + 1]));
        if (it != merge_result_.end() && it->second < best_id) {
          best_id = it->second;
          best_at = i;
        }
      }
      if (best_id == INT32_MAX) break;
      pieces[best_at] = best_id;
      pieces.erase(pieces.begin() + static_cast<std::ptrdiff_t>(best_at) + 1);
    }
  }

  size_t target_;                                         // normal tokens wanted
  std::vector<std::string> texts_;                        // raw bytes of each token
  std::unordered_map<std::string, int32_t> ids_;          // raw bytes -> token id
  std::unordered_map<uint64_t, int32_t> merge_result_;    // (left, right) -> created id
  std::vector<std::pair<int32_t, int32_t>> merges_;       // rank order
  std::vector<int32_t> pieces_;                           // scratch for bpe()
};

// " " + word (written out: GCC 12 warns falsely about operator+ here).
std::string with_space(std::string_view word) {
  std::string out;
  out.reserve(word.size() + 1);
  out += ' ';
  out += word;
  return out;
}

// A pronounceable lowercase pseudo-word of 1..4 syllables.
std::string pseudo_word(uint64_t& rng) {
  static constexpr std::string_view kConsonants = "bcdfghjklmnprstvwz";
  static constexpr std::string_view kVowels = "aeiouy";
  std::string word;
  const int n_syllables = 1 + static_cast<int>(splitmix64(rng) % 4);
  for (int s = 0; s < n_syllables; ++s) {
    const uint64_t r = splitmix64(rng);
    word += kConsonants[r % kConsonants.size()];
    word += kVowels[(r >> 8) % kVowels.size()];
    if ((r >> 16) % 3 == 0) word += kConsonants[(r >> 24) % kConsonants.size()];
  }
  return word;
}

// Proposes candidates in the fixed order until the builder is full.
void fill(VocabBuilder& vb) {
  // Whitespace runs (indentation, blank lines).
  vb.propose_prefixes("        ");
  for (std::string_view s : {"\n\n", "\n\n\n", "\t\t", "\t\t\t", " \n", "\r\n", "\n "}) vb.propose_prefixes(s);
  // A space then a letter: the start of most English words.
  for (char c = 'a'; c <= 'z'; ++c) vb.propose(std::string(" ") + c);
  for (char c = 'A'; c <= 'Z'; ++c) vb.propose(std::string(" ") + c);
  // The demo prompt's characters and words, CJK punctuation, reply tags.
  for (std::string_view ch : utf8_chars(kDemoPrompt)) vb.propose_prefixes(ch);
  for (std::string_view w : {"春联", "一副"}) vb.propose(w);
  for (std::string_view p : kCjkPunctuation) vb.propose_prefixes(p);
  for (std::string_view t : kReplyTags) vb.propose_prefixes(t);
  // Two-digit numbers (the pre-tokenizer splits digits into runs of 1..3).
  for (int n = 0; n < 100; ++n)
    vb.propose(std::string{static_cast<char>('0' + n / 10), static_cast<char>('0' + n % 10)});
  for (std::string_view p : kPunctuation) vb.propose_prefixes(p);
  // English: " word", "Word", " Word", subwords.
  for (std::string_view w : kEnglishWords) vb.propose_prefixes(with_space(w));
  for (std::string_view w : kCapitalizedWords) vb.propose_prefixes(w);
  for (std::string_view w : kCapitalizedWords) vb.propose_prefixes(with_space(w));
  for (std::string_view w : kSubwords) vb.propose_prefixes(w);
  // Common Chinese characters and words.
  const std::vector<std::string_view> hanzi = utf8_chars(kCommonHanzi);
  for (std::string_view ch : hanzi) vb.propose_prefixes(ch);
  for (std::string_view w : kCommonHanziWords) vb.propose(w);
  // Letter pairs and three-digit numbers.
  for (char a = 'a'; a <= 'z'; ++a)
    for (char b = 'a'; b <= 'z'; ++b) vb.propose(std::string{a, b});
  for (int n = 0; n < 1000; ++n)
    vb.propose(std::string{static_cast<char>('0' + n / 100), static_cast<char>('0' + n / 10 % 10),
                           static_cast<char>('0' + n % 10)});
  // Every CJK ideograph the pre-tokenizer's CJK class covers, hiragana, katakana.
  for (uint32_t cp = 0x4E00; cp <= 0x9FA5 && !vb.full(); ++cp) vb.propose_prefixes(utf8_encode(cp));
  for (uint32_t cp = 0x3041; cp <= 0x30FA && !vb.full(); ++cp) vb.propose_prefixes(utf8_encode(cp));
  // Then pseudo-words (" word", "word", " Word") and Chinese two-character
  // words until full. Each round adds a token with high probability; the
  // bound only guards against a bug looping forever.
  uint64_t rng = 0x5EED5EED5EED5EEDull;
  for (uint64_t round = 0; !vb.full() && round < (uint64_t{1} << 26); ++round) {
    const uint64_t kind = splitmix64(rng) % 10;
    if (kind < 2) {
      const uint64_t r = splitmix64(rng);
      vb.propose(std::string(hanzi[r % hanzi.size()]) + std::string(hanzi[(r >> 32) % hanzi.size()]));
      continue;
    }
    std::string word = pseudo_word(rng);
    if (kind == 2) word[0] = static_cast<char>(word[0] - 'a' + 'A');
    vb.propose_prefixes(kind < 8 ? with_space(word) : word);
  }
}

}  // namespace

std::string gpt2_bytes_to_unicode(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() * 2);
  for (char c : raw) out += utf8_encode(gpt2_byte_codepoint(static_cast<uint8_t>(c)));
  return out;
}

Result<SyntheticVocab> make_synthetic_vocab(int64_t n_vocab) {
  if (n_vocab < kSyntheticVocabMin || n_vocab > kSyntheticVocabMax) {
    return make_error("synthetic vocab size is ", n_vocab, ", expected ", kSyntheticVocabMin, "..",
                      kSyntheticVocabMax, " (256 byte tokens, at least one merge, ", kSyntheticControlCount,
                      " control tokens)");
  }
  const auto n_normal = static_cast<size_t>(n_vocab - kSyntheticControlCount);
  VocabBuilder vb(n_normal);
  fill(vb);
  if (!vb.full()) {
    return make_error("synthetic vocab: only ", vb.texts().size(), " of ", n_normal,
                      " normal tokens could be built");
  }

  SyntheticVocab vocab;
  vocab.tokens.reserve(static_cast<size_t>(n_vocab));
  for (const std::string& text : vb.texts()) vocab.tokens.push_back(gpt2_bytes_to_unicode(text));
  vocab.token_types.assign(n_normal, kTokenTypeNormal);
  vocab.merges.reserve(vb.merges().size());
  for (const auto& [left, right] : vb.merges()) {
    vocab.merges.push_back(vocab.tokens[static_cast<size_t>(left)] + " " + vocab.tokens[static_cast<size_t>(right)]);
  }
  for (std::string_view control : kControlTokens) {
    vocab.tokens.emplace_back(control);
    vocab.token_types.push_back(kTokenTypeControl);
  }
  const auto first_control = static_cast<int32_t>(n_normal);
  vocab.bos_id = first_control + 0;
  vocab.pad_id = first_control + 2;
  vocab.user_id = first_control + 3;
  vocab.assistant_id = first_control + 4;
  vocab.eos_id = first_control + 5;
  vocab.end_system_id = first_control + 6;
  return vocab;
}

}  // namespace hy2bit::model
