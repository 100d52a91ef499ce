// Which fill_segment libargon2's core.c calls: the widest vector code this CPU runs (AVX-512F,
// AVX2, else SSE2, which every x86-64 has), chosen once at load; the reference code elsewhere.
// Every variant computes the same bytes (PasswordHashingTests checks them against each other
// and against hashes made by another Argon2 implementation).
#include <stdatomic.h>
#include <string.h>
#include "argon2.h"
#include "libargon2/src/core.h"
#include "spse_argon2.h"

#if defined(__x86_64__)
typedef void (*fill_function)(const argon2_instance_t *, argon2_position_t);
void spse_argon2_fill_segment_avx512(const argon2_instance_t *instance, argon2_position_t position);
void spse_argon2_fill_segment_avx2(const argon2_instance_t *instance, argon2_position_t position);
void spse_argon2_fill_segment_sse2(const argon2_instance_t *instance, argon2_position_t position);

static const struct { const char *name; fill_function fill; } variants[] = {
    {"avx512", spse_argon2_fill_segment_avx512},
    {"avx2", spse_argon2_fill_segment_avx2},
    {"sse2", spse_argon2_fill_segment_sse2},
};
static _Atomic int chosen = 2;

static int supported(int variant) {
    __builtin_cpu_init();
    switch (variant) {
    case 0: return __builtin_cpu_supports("avx512f");
    case 1: return __builtin_cpu_supports("avx2");
    default: return 1;
    }
}

__attribute__((constructor)) static void choose(void) {
    for (int variant = 0; variant < 3; variant++) {
        if (supported(variant)) { atomic_store(&chosen, variant); return; }
    }
}

void fill_segment(const argon2_instance_t *instance, argon2_position_t position) {
    variants[atomic_load_explicit(&chosen, memory_order_relaxed)].fill(instance, position);
}

const char *spse_argon2_implementation(void) { return variants[atomic_load(&chosen)].name; }

int spse_argon2_use(const char *name) {
    for (int variant = 0; variant < 3; variant++) {
        if (strcmp(variants[variant].name, name) == 0 && supported(variant)) {
            atomic_store(&chosen, variant);
            return 1;
        }
    }
    return 0;
}
#else
#include "libargon2/src/ref.c"
const char *spse_argon2_implementation(void) { return "ref"; }
int spse_argon2_use(const char *name) { return strcmp(name, "ref") == 0; }
#endif
