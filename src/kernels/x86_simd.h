// <immintrin.h> for the x86 kernel files, with GCC 12's false
// -Wmaybe-uninitialized on AVX-512 intrinsics that start from an undefined
// vector (GCC bug 105593) silenced for the header's lines only.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
