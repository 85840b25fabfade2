// Fuzz target: the reasoning splitter (hy2bit/reasoning.h) over arbitrary
// model output, cut into pieces at arbitrary points as tokens arrive.
// Input layout: byte 0 seeds the piece lengths; the rest is the reply.
// Invariant: the thinking text and the answer text come out the same
// however the reply is cut (whole, byte by byte, or in the given pieces),
// and no more text comes out than went in.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "support.h"
#include "hy2bit/reasoning.h"

using namespace hy2bit;

namespace {

struct Parts {
  std::string thinking, answer;
  bool operator==(const Parts&) const = default;
};

void collect(Parts& parts, const std::vector<ReplySegment>& segments) {
  for (const ReplySegment& s : segments) (s.part == ReplyPart::kThinking ? parts.thinking : parts.answer) += s.text;
}

// Feeds `reply` in pieces of 1..max_piece bytes, lengths drawn from `seed`.
Parts split(std::string_view reply, uint32_t seed, size_t max_piece) {
  ReasoningSplitter splitter;
  Parts parts;
  while (!reply.empty()) {
    seed = seed * 1103515245u + 12345u;
    const size_t n = std::min(reply.size(), 1 + (seed >> 16) % max_piece);
    collect(parts, splitter.push(reply.substr(0, n)));
    reply.remove_prefix(n);
  }
  collect(parts, splitter.finish());
  return parts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view reply(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Parts whole = split(reply, 0, reply.size() + 1);
  fuzz::check(whole.thinking.size() + whole.answer.size() <= reply.size(), "the splitter only removes");
  fuzz::check(split(reply, 0, 1) == whole, "byte-by-byte pieces give the same parts");
  fuzz::check(split(reply, data[0], 1 + data[0] % 16) == whole, "any pieces give the same parts");
  return 0;
}
