// Splits a streamed Hunyuan reply into its thinking and answer parts:
// `<think>\n...\n</think>\n<answer>\n...\n</answer>`. Pieces arrive in any
// split (a tag may straddle two tokens); the tags and the newlines that hug
// them are never emitted. Text outside any tag counts as answer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hy2bit {

enum class ReplyPart { kThinking, kAnswer };

struct ReplySegment {
  ReplyPart part;
  std::string text;
};

class ReasoningSplitter {
 public:
  // Feeds the next piece of reply text; returns what can be shown now.
  std::vector<ReplySegment> push(std::string_view piece);
  // The reply ended: returns whatever was held back.
  std::vector<ReplySegment> finish();

  ReplyPart current_part() const { return part_; }

 private:
  void emit(std::vector<ReplySegment>& out, std::string_view text);
  std::vector<ReplySegment> drain(bool at_end);

  std::string pending_;            // text not yet emitted (a possible tag or trailing newlines)
  ReplyPart part_ = ReplyPart::kAnswer;
  bool skip_leading_newline_ = false;  // just after an opening tag
};

}  // namespace hy2bit
