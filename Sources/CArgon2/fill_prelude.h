// What libargon2/src/opt.c includes, included first by each fill_*.c wrapper, so that the
// instruction-set attribute that wrapper pushes applies to opt.c's own functions only.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <immintrin.h>
#include "argon2.h"
#include "libargon2/src/core.h"
#include "libargon2/src/blake2/blake2.h"
#include "libargon2/src/blake2/blake2-impl.h"
