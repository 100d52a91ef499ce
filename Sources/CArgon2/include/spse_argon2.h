#ifndef SPSE_ARGON2_H
#define SPSE_ARGON2_H
/// The fill code libargon2 runs on this CPU: "avx512", "avx2", "sse2" (x86-64) or "ref".
const char *spse_argon2_implementation(void);
/// Switches to the named fill code if this CPU runs it (1), else changes nothing (0). For tests
/// and benchmarks: every variant gives the same hashes.
int spse_argon2_use(const char *name);
#endif
