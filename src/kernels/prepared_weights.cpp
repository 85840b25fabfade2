// PreparedWeights::prepare(): checks a weight's shape against its type and
// the path's kernel once, at load, and repacks it where the path wants; and
// the aligned (huge-page-advised) storage repacked weights live in.
#include "kernels/prepared_weights.h"

#include <sys/mman.h>

#include <algorithm>
#include <new>
#include <optional>

#include "kernels/kernel_table.h"

namespace hy2bit::kernels {

void* allocate_weight_bytes(size_t n_bytes) {
  constexpr size_t kHugePage = size_t{2} << 20;
  if (n_bytes < kHugePage) return ::operator new (n_bytes, std::align_val_t{64});
  void* p = ::operator new (n_bytes, std::align_val_t{kHugePage});
  // Advice only: without transparent huge pages this changes nothing.
  madvise(p, n_bytes, MADV_HUGEPAGE);
  return p;
}

void free_weight_bytes(void* p, size_t n_bytes) {
  constexpr size_t kHugePage = size_t{2} << 20;
  ::operator delete (p, std::align_val_t{n_bytes < kHugePage ? size_t{64} : kHugePage});
}

Result<PreparedWeights> PreparedWeights::prepare(const KernelTable& kernels,
                                                 const WeightView& view, WeightArena* arena,
                                                 WeightArena::Placement placement) {
  const std::optional<formats::TypeInfo> info = formats::type_info(view.type.id);
  if (!info || info->block_bytes != view.type.block_bytes ||
      info->block_elems != view.type.block_elems)
    return make_error("weight of type ", view.type.name,
                      ": type info does not match the type table");
  const TypeKernels* k = kernels_for_type(kernels, view.type.id);
  if (k == nullptr)
    return make_error("weight of type ", info->name, ": no kernel on the ", kernels.isa, " path");
  if (view.n_rows <= 0 || view.n_cols <= 0)
    return make_error("weight of type ", info->name, ": shape ", view.n_cols, " x ", view.n_rows,
                      " is empty (expected n_cols > 0 and n_rows > 0)");
  const int64_t col_multiple = std::max<int64_t>(info->block_elems, k->act_block);
  if (view.n_cols % col_multiple != 0)
    return make_error("weight of type ", info->name, ": n_cols ", view.n_cols,
                      " is not a multiple of ", col_multiple);
  const std::optional<uint64_t> row_bytes =
      formats::bytes_for_elems(*info, static_cast<uint64_t>(view.n_cols));
  uint64_t total = 0;
  if (!row_bytes || __builtin_mul_overflow(*row_bytes, static_cast<uint64_t>(view.n_rows), &total))
    return make_error("weight of type ", info->name, ": shape ", view.n_cols, " x ", view.n_rows,
                      " overflows the byte count");
  if (view.data.size() < total)
    return make_error("weight of type ", info->name, " shape ", view.n_cols, " x ", view.n_rows,
                      ": data has ", view.data.size(), " bytes, expected ", total);

  PreparedWeights w;
  w.view_ = view;
  w.view_.data = view.data.first(static_cast<size_t>(total));
  w.kernels_ = &kernels;
  if (k->repack != nullptr) {
    const size_t n_bytes = k->repacked_bytes(view.n_rows, view.n_cols);
    std::span<uint8_t> out = arena != nullptr ? arena->allocate(n_bytes, placement) : std::span<uint8_t>();
    if (out.empty()) {
      w.owned_.resize(n_bytes);
      out = std::span<uint8_t>(w.owned_.data(), w.owned_.size());
    }
    k->repack(w.view_, out);
    w.repacked_ = out;
  }
  return w;
}

}  // namespace hy2bit::kernels
