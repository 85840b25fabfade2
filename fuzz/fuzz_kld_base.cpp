// Fuzz target: the KLD base file reader (eval::KldBaseView::parse, behind
// hy2bit::parse_kld_base), on arbitrary bytes as `hy2bit perplexity
// --kl-divergence` maps them. Invariants: an accepted file is exactly as
// long as its header says, every token lies in the vocabulary, and every
// row can be read back with its header in range.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "support.h"
#include "eval/kld_base.h"

using namespace hy2bit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  Result<eval::KldBaseView> view = eval::KldBaseView::parse(bytes);
  Result<KldBaseInfo> info = parse_kld_base(bytes);
  fuzz::check(view.ok() == info.ok(), "parse_kld_base agrees with KldBaseView::parse");
  if (!view) {
    fuzz::trace_refusal("KLD base", view.error());
    return 0;
  }
  const KldBaseInfo& i = view->info();
  const uint64_t n_tokens = uint64_t{i.n_chunks} * i.n_ctx;
  const uint64_t n_rows = uint64_t{i.n_chunks} * static_cast<uint64_t>(view->n_scored());
  fuzz::check(i.tokens.size() == n_tokens, "one token per position");
  fuzz::check(size == sizeof(eval::KldBaseHeader) + 4 * n_tokens + n_rows * eval::kld_row_bytes(i.n_vocab),
              "the file is exactly as long as its header says");
  for (int32_t t : i.tokens) fuzz::check(t >= 0 && static_cast<uint32_t>(t) < i.n_vocab, "tokens in the vocabulary");
  std::vector<uint16_t> q(i.n_vocab);
  for (int64_t c = 0; c < static_cast<int64_t>(i.n_chunks); ++c)
    for (int64_t j = 0; j < view->n_scored(); ++j) {
      const eval::KldRowHeader h = view->row(c, j, q);
      fuzz::check(h.top_token < i.n_vocab && h.min_log_prob <= 0 && h.scale >= 0, "row header in range");
    }
  return 0;
}
