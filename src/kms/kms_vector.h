/* kms_vector.h - the test-vector seam of the KMS core. NOT for kmsd.
 *
 * Owns: mk_kms_vector_random, which makes the core draw the random bytes of
 * its answers (MPK, session keys, salts, SPIs, ticket RAND, RANDRkms: the
 * pool of mk_kms_random, kms/context.h) from a caller's function instead of
 * mk_random (RAND_bytes), so that tests/vectors_gen.c can reproduce the
 * published test vectors of doc/vectors/ byte for byte.
 *
 * Only that generator includes this header. kmsd, kmsctl and the front end
 * never call it and no configuration key reaches it: in every server the
 * function pointer stays NULL and mk_random is the only randomness. The cost
 * on the request path is one test of that pointer per answer, where the
 * pool is refilled.
 */
#ifndef MK_KMS_KMS_VECTOR_H
#define MK_KMS_KMS_VECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "kms/kms.h"
#include "util/err.h"

/* Fill out[0..n) with the next n "random" bytes of ctx. */
typedef mk_err (*mk_kms_vector_random_fn)(void *ctx, uint8_t *out, size_t n);

/* From now on kms draws its random bytes from fn(ctx, ...); fn NULL goes
 * back to mk_random. */
void mk_kms_vector_random(mk_kms *kms, mk_kms_vector_random_fn fn, void *ctx);

#endif
