// Picks the kernel path: CPU features from CPUID, checked against the
// register state the OS saves (XGETBV), or on Arm Linux from the kernel's
// HWCAP bits (getauxval), and HY2BIT_ISA to force a path.
// Each path's table is built once, on first use, and never changes: the
// only global state in hy2bit.
#include "kernels/dispatch.h"

#include <cstdlib>
#include <string>

#include "kernels/kernel_table.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif
#if defined(HY2BIT_HAVE_NEON)
#include "kernels/arm_neon/neon_kernels.h"
#endif

namespace hy2bit::kernels {
namespace {

// Best last, per architecture.
constexpr std::string_view kIsaNames[] = {"scalar", "avx2", "avx2_vnni", "avx512", "neon",
                                          "neon_i8mm"};

// What this CPU and OS can run, per path.
struct CpuSupport {
  bool avx2 = false;    // AVX2 + FMA + F16C + BMI2, YMM state saved by the OS
  bool avx2_vnni = false;  // + AVX-VNNI (VEX vpdpbusd)
  bool avx512 = false;  // + AVX-512 F/BW/VL/DQ/VNNI/VBMI, ZMM state saved
  bool neon = false;       // AdvSIMD with dotprod and fp16 (armv8.2-a+dotprod+fp16)
  bool neon_i8mm = false;  // + int8 matrix multiply (smmla)
};

#if defined(__x86_64__) || defined(__i386__)
uint64_t read_xcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

CpuSupport detect_cpu() {
  CpuSupport s;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return s;
  const bool fma = ecx & (1u << 12), osxsave = ecx & (1u << 27), avx = ecx & (1u << 28),
             f16c = ecx & (1u << 29);
  if (!osxsave || !avx) return s;
  const uint64_t xcr0 = read_xcr0();
  const bool os_ymm = (xcr0 & 0x6) == 0x6;    // SSE and AVX state
  const bool os_zmm = (xcr0 & 0xE6) == 0xE6;  // + opmask, ZMM_Hi256, Hi16_ZMM
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return s;
  const bool avx2 = ebx & (1u << 5), bmi2 = ebx & (1u << 8);
  const bool avx512f = ebx & (1u << 16), avx512dq = ebx & (1u << 17), avx512bw = ebx & (1u << 30),
             avx512vl = ebx & (1u << 31);
  const bool avx512vbmi = ecx & (1u << 1), avx512vnni = ecx & (1u << 11);
  s.avx2 = os_ymm && avx2 && fma && f16c && bmi2;
  if (__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) s.avx2_vnni = s.avx2 && (eax & (1u << 4));
  s.avx512 =
      s.avx2 && os_zmm && avx512f && avx512dq && avx512bw && avx512vl && avx512vbmi && avx512vnni;
  return s;
}
#else
CpuSupport detect_cpu() {
  CpuSupport s;
#if defined(__aarch64__) && defined(__linux__) && defined(HY2BIT_HAVE_NEON)
  // AdvSIMD is in every aarch64 CPU, but the NEON files are built with
  // -march=armv8.2-a+dotprod+i8mm+fp16: each extension a path runs must be
  // reported (only the neon_i8mm table reaches smmla code).
  const unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
  s.neon = (hwcap & HWCAP_ASIMDDP) && (hwcap & HWCAP_FPHP) && (hwcap & HWCAP_ASIMDHP);
  s.neon_i8mm = s.neon && (hwcap2 & HWCAP2_I8MM);
#endif
  return s;
}
#endif

const CpuSupport& cpu_support() {
  static const CpuSupport support = detect_cpu();
  return support;
}

bool supported(std::string_view isa) {
  const CpuSupport& s = cpu_support();
  if (isa == "scalar") return true;
  if (isa == "avx2") return s.avx2;
  if (isa == "avx2_vnni") return s.avx2_vnni;
  if (isa == "avx512") return s.avx512;
  if (isa == "neon") return s.neon;
  if (isa == "neon_i8mm") return s.neon_i8mm;
  return false;
}

// Each path's table, built on first use (only after supported() said yes,
// since its code may use the ISA anywhere).
#if defined(HY2BIT_HAVE_X86)
const KernelTable* avx2_table() {
  static const KernelTable table = avx2::make_table();
  return &table;
}
const KernelTable* avx2_vnni_table() {
  static const KernelTable table = avx2_vnni::make_table();
  return &table;
}
const KernelTable* avx512_table() {
  static const KernelTable table = avx512::make_table();
  return &table;
}
#else
const KernelTable* avx2_table() { return nullptr; }
const KernelTable* avx2_vnni_table() { return nullptr; }
const KernelTable* avx512_table() { return nullptr; }
#endif

// The Arm NEON paths (arm_neon/, built on aarch64 where CMake defines
// HY2BIT_HAVE_NEON): "neon" uses sdot, "neon_i8mm" adds smmla for prefill.
#if defined(HY2BIT_HAVE_NEON)
const KernelTable* neon_table() {
  static const KernelTable table = neon::make_table();
  return &table;
}
const KernelTable* neon_i8mm_table() {
  static const KernelTable table = neon::make_i8mm_table();
  return &table;
}
#else
const KernelTable* neon_table() { return nullptr; }
const KernelTable* neon_i8mm_table() { return nullptr; }
#endif

std::string list_names(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

}  // namespace

const TypeKernels* kernels_for_type(const KernelTable& table, formats::TypeId type) {
  const TypeKernels* k = nullptr;
  switch (type) {
    case formats::TypeId::kF32:
      k = &table.f32;
      break;
    case formats::TypeId::kF16:
      k = &table.f16;
      break;
    case formats::TypeId::kBF16:
      k = &table.bf16;
      break;
    case formats::TypeId::kQ8_0:
      k = &table.q8_0;
      break;
    case formats::TypeId::kQ4_0:
      k = &table.q4_0;
      break;
    case formats::TypeId::kQ6_K:
      k = &table.q6_k;
      break;
    case formats::TypeId::kQ2_0C:
      k = &table.q2_0c;
      break;
  }
  return (k != nullptr && k->gemm != nullptr) ? k : nullptr;
}

const KernelTable* kernels_for_isa(std::string_view isa) {
  if (!supported(isa)) return nullptr;
  if (isa == "scalar") {
    static const KernelTable table = scalar::make_table();
    return &table;
  }
  if (isa == "avx2") return avx2_table();
  if (isa == "avx2_vnni") return avx2_vnni_table();
  if (isa == "avx512") return avx512_table();
  if (isa == "neon") return neon_table();
  if (isa == "neon_i8mm") return neon_i8mm_table();
  return nullptr;
}

std::vector<std::string_view> available_isas() {
  std::vector<std::string_view> names;
  for (std::string_view isa : kIsaNames)
    if (kernels_for_isa(isa) != nullptr) names.push_back(isa);
  return names;
}

Result<const KernelTable*> active_kernels() {
  const char* forced = std::getenv("HY2BIT_ISA");
  if (forced == nullptr || *forced == '\0') return kernels_for_isa(available_isas().back());
  const std::string_view isa(forced);
  bool known = false;
  for (std::string_view name : kIsaNames) known = known || name == isa;
  if (!known)
    return make_error("HY2BIT_ISA=", isa, " is not a kernel path (expected one of ",
                      list_names({std::begin(kIsaNames), std::end(kIsaNames)}), ")");
  const KernelTable* table = kernels_for_isa(isa);
  if (table == nullptr)
    return make_error("HY2BIT_ISA=", isa,
                      " cannot run on this CPU (available: ", list_names(available_isas()), ")");
  return table;
}

std::string_view isa_name(const KernelTable& kernels) { return kernels.isa; }

}  // namespace hy2bit::kernels
