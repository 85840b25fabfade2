// ReasoningSplitter: tags and their newlines never shown, any split of the
// stream gives the same thinking and answer text.
#include <gtest/gtest.h>

#include "hy2bit/reasoning.h"

namespace hy2bit {
namespace {

struct Split {
  std::string thinking, answer;
};

Split run(const std::vector<std::string>& pieces) {
  ReasoningSplitter splitter;
  Split result;
  auto take = [&](const std::vector<ReplySegment>& segments) {
    for (const ReplySegment& s : segments)
      (s.part == ReplyPart::kThinking ? result.thinking : result.answer) += s.text;
  };
  for (const std::string& p : pieces) take(splitter.push(p));
  take(splitter.finish());
  return result;
}

const std::string kReply = "<think>\nLet me think.\nTwo lines.\n</think>\n<answer>\nThe answer <b>is</b> 42.\n</answer>";

TEST(ReasoningSplitter, WholeReply) {
  const Split s = run({kReply});
  EXPECT_EQ(s.thinking, "Let me think.\nTwo lines.");
  EXPECT_EQ(s.answer, "The answer <b>is</b> 42.");
}

TEST(ReasoningSplitter, EverySplitPointGivesTheSameText) {
  for (size_t a = 0; a <= kReply.size(); ++a) {
    for (size_t b = a; b <= kReply.size(); b += 7) {
      const Split s = run({kReply.substr(0, a), kReply.substr(a, b - a), kReply.substr(b)});
      ASSERT_EQ(s.thinking, "Let me think.\nTwo lines.") << "split at " << a << ", " << b;
      ASSERT_EQ(s.answer, "The answer <b>is</b> 42.") << "split at " << a << ", " << b;
    }
  }
}

TEST(ReasoningSplitter, ByteByByte) {
  std::vector<std::string> bytes;
  for (char c : kReply) bytes.push_back(std::string(1, c));
  const Split s = run(bytes);
  EXPECT_EQ(s.thinking, "Let me think.\nTwo lines.");
  EXPECT_EQ(s.answer, "The answer <b>is</b> 42.");
}

TEST(ReasoningSplitter, EmptyThinkBlockOfNoThink) {
  const Split s = run({"<think>\n\n</think>\n<answer>\nHi\n</answer>"});
  EXPECT_EQ(s.thinking, "");
  EXPECT_EQ(s.answer, "Hi");
}

TEST(ReasoningSplitter, NoTagsIsAllAnswer) {
  const Split s = run({"plain ", "text\n", "\nwith < and <thin", "g"});
  EXPECT_EQ(s.thinking, "");
  EXPECT_EQ(s.answer, "plain text\n\nwith < and <thing");
}

TEST(ReasoningSplitter, UnfinishedThinkingIsFlushedAtEnd) {
  const Split s = run({"<think>\nhalf a tho", "ught\n", "<"});
  EXPECT_EQ(s.thinking, "half a thought\n<");
  EXPECT_EQ(s.answer, "");
}

TEST(ReasoningSplitter, AnswerWithoutAnswerTags) {
  const Split s = run({"<think>\nx\n</think>\nJust the answer."});
  EXPECT_EQ(s.thinking, "x");
  EXPECT_EQ(s.answer, "Just the answer.");
}

}  // namespace
}  // namespace hy2bit
