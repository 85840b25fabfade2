// Tests for src/text/utf8: strict validation with byte offsets, U+FFFD
// replacement by maximal subparts, and Utf8StreamBuffer never emitting half a
// character however the bytes are split across pushes.
#include "text/utf8.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace hy2bit::text {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

TEST(Utf8, DecodesEveryLength) {
  EXPECT_EQ(decode_utf8("A", 0).cp, 0x41u);
  EXPECT_EQ(decode_utf8("\xC3\xA9", 0).cp, 0xE9u);              // é
  EXPECT_EQ(decode_utf8("\xE4\xB8\xAD", 0).cp, 0x4E2Du);        // 中
  EXPECT_EQ(decode_utf8("\xF0\x9F\xA6\x99", 0).cp, 0x1F999u);   // 🦙
  EXPECT_EQ(decode_utf8("\xF0\x9F\xA6\x99", 0).len, 4u);
  EXPECT_EQ(decode_utf8("\xF4\x8F\xBF\xBF", 0).cp, 0x10FFFFu);  // largest code point
}

TEST(Utf8, AppendRoundTripsAllScalarValues) {
  for (uint32_t cp = 0; cp <= 0x10FFFF; cp += (cp < 0x3000 ? 1 : 97)) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    std::string s;
    append_utf8(s, cp);
    const Utf8Char c = decode_utf8(s, 0);
    ASSERT_EQ(c.len, s.size()) << "cp " << cp;
    ASSERT_EQ(c.cp, cp);
  }
}

TEST(Utf8, RejectsIllFormedSequences) {
  const std::vector<std::string> bad = {
      "\x80",              // lone continuation byte
      "\xC0\x80",          // overlong NUL
      "\xC1\xBF",          // overlong
      "\xE0\x80\x80",      // overlong 3-byte
      "\xED\xA0\x80",      // surrogate U+D800
      "\xF0\x80\x80\x80",  // overlong 4-byte
      "\xF4\x90\x80\x80",  // above U+10FFFF
      "\xF5\x80\x80\x80",  // invalid lead
      "\xFF",
      "\xE4\xB8",          // truncated
      "\xC3",              // truncated
  };
  for (const std::string& s : bad) {
    EXPECT_FALSE(is_valid_utf8(s)) << testing::PrintToString(s);
    EXPECT_EQ(decode_utf8(s, 0).len, 0u) << testing::PrintToString(s);
  }
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("写一副春联 🦙 \xC3\xA9"));
}

TEST(Utf8, ValidateNamesTheByteOffset) {
  EXPECT_TRUE(validate_utf8("hello").ok());
  const Status s = validate_utf8(std::string("hello\xFFworld"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "prompt is not valid UTF-8 at byte 5 (found 0xff, expected a well-formed UTF-8 sequence)");
  const Status cut = validate_utf8("ab\xE4\xB8", "message 2");
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().message,
            "message 2 is not valid UTF-8 at byte 2 (found 0xe4, a character cut off by the end of the text)");
  // Offset of the first bad byte, after valid multi-byte characters.
  const Status later = validate_utf8("中文\xED\xA0\x80");
  ASSERT_FALSE(later.ok());
  EXPECT_NE(later.error().message.find("at byte 6 "), std::string::npos) << later.error().message;
}

TEST(Utf8, ReplacesMaximalSubparts) {
  EXPECT_EQ(replace_invalid_utf8("ok"), "ok");
  EXPECT_EQ(replace_invalid_utf8("a\xFF" "b"), "a" + kFffd + "b");
  // A truncated 3-byte sequence is one maximal subpart: one U+FFFD.
  EXPECT_EQ(replace_invalid_utf8("a\xE4\xB8" "b"), "a" + kFffd + "b");
  // Surrogates: ED is a valid lead but A0 is not a valid second byte after it,
  // so ED, A0 and 80 are each their own subpart (Unicode's recommended practice).
  EXPECT_EQ(replace_invalid_utf8("\xED\xA0\x80"), kFffd + kFffd + kFffd);
  EXPECT_EQ(replace_invalid_utf8("\xF0\x9F\xA6"), kFffd);
  EXPECT_EQ(replace_invalid_utf8("\xF0\x9F\xA6\x99"), "\xF0\x9F\xA6\x99");
  EXPECT_TRUE(is_valid_utf8(replace_invalid_utf8("\x80\x81\xC3\xFE\xE4\xB8\xAD\xE4")));
}

TEST(Utf8, SanitizeRejectsOrReplaces) {
  Result<std::string> rejected = sanitize_utf8("x\xC3", InvalidUtf8::kReject);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().message.rfind("prompt is not valid UTF-8 at byte 1", 0), 0u);
  Result<std::string> replaced = sanitize_utf8("x\xC3", InvalidUtf8::kReplace);
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(*replaced, "x" + kFffd);
  Result<std::string> fine = sanitize_utf8("写", InvalidUtf8::kReject);
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(*fine, "写");
}

// Pushes `pieces` one by one; checks that every output is valid UTF-8 on its
// own (never half a character) and returns the whole output.
std::string stream(const std::vector<std::string>& pieces) {
  Utf8StreamBuffer buffer;
  std::string all;
  for (const std::string& piece : pieces) {
    const std::string out = buffer.push(piece);
    EXPECT_TRUE(is_valid_utf8(out)) << "after pushing " << testing::PrintToString(piece);
    all += out;
  }
  const std::string tail = buffer.flush();
  EXPECT_TRUE(is_valid_utf8(tail));
  EXPECT_EQ(buffer.pending_bytes(), 0u);
  return all + tail;
}

TEST(Utf8StreamBuffer, HoldsSplitCharactersUntilComplete) {
  Utf8StreamBuffer buffer;
  EXPECT_EQ(buffer.push("a\xE4"), "a");  // 中 = E4 B8 AD, cut after its first byte
  EXPECT_EQ(buffer.pending_bytes(), 1u);
  EXPECT_EQ(buffer.push("\xB8"), "");
  EXPECT_EQ(buffer.push("\xAD" "b"), "中b");
  EXPECT_EQ(buffer.pending_bytes(), 0u);
  EXPECT_EQ(buffer.flush(), "");
}

TEST(Utf8StreamBuffer, EveryByteSplitOfMixedText) {
  // ASCII, 2-, 3- and 4-byte characters, an emoji ZWJ sequence.
  const std::string text = "Hé 写一副春联 🦙👨\u200D👩\u200D👧 ok";
  // One byte per push.
  std::vector<std::string> bytes;
  for (const char c : text) bytes.emplace_back(1, c);
  EXPECT_EQ(stream(bytes), text);
  // Every two-way split.
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    EXPECT_EQ(stream({text.substr(0, cut), text.substr(cut)}), text) << "cut at " << cut;
  }
}

TEST(Utf8StreamBuffer, InvalidBytesBecomeReplacementAtOnce) {
  Utf8StreamBuffer buffer;
  EXPECT_EQ(buffer.push("\xFF"), kFffd);          // can never become valid: not held
  EXPECT_EQ(buffer.pending_bytes(), 0u);
  EXPECT_EQ(buffer.push("\xE4\xB8"), "");          // could still complete: held
  EXPECT_EQ(buffer.push("x"), kFffd + "x");       // it did not
  EXPECT_EQ(buffer.push("\xED\xA0"), kFffd + kFffd);  // surrogate prefix: invalid at once
  EXPECT_EQ(buffer.push("\xF0\x9F"), "");
  EXPECT_EQ(buffer.flush(), kFffd);               // end of stream: held tail becomes U+FFFD
  EXPECT_EQ(stream({"a\x80", "\xC3", "\xA9", "\xC3"}), "a" + kFffd + "é" + kFffd);
}

}  // namespace
}  // namespace hy2bit::text
