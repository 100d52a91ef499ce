// libargon2's optimized fill_segment (libargon2/src/opt.c) built for AVX512: the dispatcher
// (fill_dispatch.c) runs it only on a CPU that has it, so the binary still runs on any x86-64.
#if defined(__x86_64__)
#include "fill_prelude.h"
// opt.c chooses its code by the compiler's feature macros; this file alone is compiled for them.
#pragma clang attribute push (__attribute__((target("avx512f,avx2,ssse3"))), apply_to = function)
#ifndef __AVX512F__
#define __AVX512F__ 1
#endif
#ifndef __AVX2__
#define __AVX2__ 1
#endif
#ifndef __SSSE3__
#define __SSSE3__ 1
#endif
#define fill_segment spse_argon2_fill_segment_avx512
#include "libargon2/src/opt.c"
#pragma clang attribute pop
#endif
