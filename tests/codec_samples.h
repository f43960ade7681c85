/* codec_samples.h - test messages for the codec tests: the public vectors
 * (RFC 4567 §5.1, mikey.md §6.2 A, GStreamer) and messages built with the
 * codec API that together contain every payload type, every implied-length
 * value (MAC alg, TS type, hash func, DH group, KV, key type) and the
 * RFC 6043 nested data (TP Data, base-ticket Ticket Data, Initiator Data). */
#ifndef MK_TESTS_CODEC_SAMPLES_H
#define MK_TESTS_CODEC_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

#include "codec/mikey.h"

#define CS_MAX 2048

typedef struct cs_sample {
    const char *name;
    uint8_t b[CS_MAX];
    size_t n;
} cs_sample;

/* Whole messages (decode OK). Built on first use; aborts if building fails. */
size_t cs_message_count(void);
const cs_sample *cs_message(size_t i);
const cs_sample *cs_message_by_name(const char *name);

/* Decrypted KEMAC plaintexts (first payload Key data) with every key type
 * and KV type. */
size_t cs_plain_count(void);
const cs_sample *cs_plain(size_t i);

/* The public vectors: RFC 4567 §5.1 as base64, mikey.md §6.2 A as hex. */
extern const char cs_rfc4567_i_b64[];
extern const char cs_rfc4567_r_b64[];
extern const char cs_digest_a_i_hex[];
extern const char cs_digest_a_r_hex[];

#endif
