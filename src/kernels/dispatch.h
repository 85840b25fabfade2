// Chooses the kernel path once at start from the CPU's features (checking
// that the OS saves the registers, via XGETBV; getauxval on Arm) and
// HY2BIT_ISA=scalar|avx2|avx2_vnni|avx512|neon|neon_i8mm, and holds one
// table of typed function pointers per path (avx2_vnni: the AVX2 kernels with
// AVX-VNNI's vpdpbusd; neon: dotprod only; neon_i8mm adds smmla).
// The only global state in hy2bit is the table chosen here.
#pragma once

#include <string_view>
#include <vector>

#include "hy2bit/result.h"

namespace hy2bit::kernels {

struct KernelTable;

// The path in use: HY2BIT_ISA if set (an Error if this CPU cannot run it or
// the name is unknown), else the best this CPU runs.
Result<const KernelTable*> active_kernels();
// A path by name if this CPU can run it ("scalar" always can); nullptr otherwise.
const KernelTable* kernels_for_isa(std::string_view isa);
// Names of every path this CPU can run, best last ("scalar" first).
std::vector<std::string_view> available_isas();
// The name of a table's path.
std::string_view isa_name(const KernelTable& kernels);

}  // namespace hy2bit::kernels
