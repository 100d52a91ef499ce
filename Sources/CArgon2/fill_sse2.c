// libargon2's optimized fill_segment (libargon2/src/opt.c) built for SSE2: the dispatcher
// (fill_dispatch.c) runs it only on a CPU that has it, so the binary still runs on any x86-64.
#if defined(__x86_64__)
#include "fill_prelude.h"
#define fill_segment spse_argon2_fill_segment_sse2
#include "libargon2/src/opt.c"
#endif
