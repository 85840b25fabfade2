// The reply splitter's state machine. It holds back only what could still be
// the start of a tag or newlines that might precede a closing tag.
#include "hy2bit/reasoning.h"

#include <array>

namespace hy2bit {
namespace {

struct Tag {
  std::string_view text;
  bool opens;        // opening tags switch part and drop one following newline
  ReplyPart part;    // the part an opening tag starts
};
constexpr std::array<Tag, 4> kTags = {{
    {"<think>", true, ReplyPart::kThinking},
    {"</think>", false, ReplyPart::kAnswer},
    {"<answer>", true, ReplyPart::kAnswer},
    {"</answer>", false, ReplyPart::kAnswer},
}};

// True if `s` is a proper prefix of some tag (so it must wait for more text).
bool could_start_tag(std::string_view s) {
  for (const Tag& tag : kTags)
    if (s.size() < tag.text.size() && tag.text.substr(0, s.size()) == s) return true;
  return false;
}

}  // namespace

void ReasoningSplitter::emit(std::vector<ReplySegment>& out, std::string_view text) {
  if (skip_leading_newline_ && !text.empty()) {
    if (text.front() == '\n') text.remove_prefix(1);
    skip_leading_newline_ = false;
  }
  if (text.empty()) return;
  if (!out.empty() && out.back().part == part_) {
    out.back().text += text;
  } else {
    out.push_back({part_, std::string(text)});
  }
}

std::vector<ReplySegment> ReasoningSplitter::drain(bool at_end) {
  std::vector<ReplySegment> out;
  size_t start = 0;  // first byte of pending_ not yet handled
  for (;;) {
    const size_t lt = pending_.find('<', start);
    if (lt == std::string::npos) break;
    std::string_view rest = std::string_view(pending_).substr(lt);
    const Tag* matched = nullptr;
    for (const Tag& tag : kTags)
      if (rest.substr(0, tag.text.size()) == tag.text) matched = &tag;
    if (!matched) {
      if (!at_end && could_start_tag(rest)) break;  // wait for the rest of the tag
      emit(out, std::string_view(pending_).substr(start, lt + 1 - start));
      start = lt + 1;
      continue;
    }
    // Text before the tag; a closing tag swallows the newlines right before it.
    std::string_view before = std::string_view(pending_).substr(start, lt - start);
    if (!matched->opens)
      while (!before.empty() && before.back() == '\n') before.remove_suffix(1);
    emit(out, before);
    // After any tag one newline is dropped: "<think>\n", "</think>\n<answer>\n".
    part_ = matched->part;
    skip_leading_newline_ = true;
    start = lt + matched->text.size();
  }
  // Hold back a possible tag start, and trailing newlines (a closing tag may follow).
  size_t keep_from = pending_.size();
  const size_t lt = pending_.find('<', start);
  if (!at_end && lt != std::string::npos) keep_from = lt;
  if (!at_end)
    while (keep_from > start && pending_[keep_from - 1] == '\n') --keep_from;
  emit(out, std::string_view(pending_).substr(start, keep_from - start));
  pending_.erase(0, at_end ? pending_.size() : keep_from);
  return out;
}

std::vector<ReplySegment> ReasoningSplitter::push(std::string_view piece) {
  pending_ += piece;
  return drain(/*at_end=*/false);
}

std::vector<ReplySegment> ReasoningSplitter::finish() { return drain(/*at_end=*/true); }

}  // namespace hy2bit
