/* mem_store.h - an in-memory store for the KMS core (kms/kms_store.h), for
 * tests and for bench_kms --mem (what the core costs without a store):
 * the subscribers and the ticket key the caller puts in, a fixed-size
 * hash set as the replay cache, records counted (not kept), every Ticket
 * Resolve allowed (the first resolve of a J = 0 ticket, node_ticket.c).
 * Nothing is durable or shared between processes: not a store to serve
 * from. */
#ifndef MK_TESTS_LIB_MEM_STORE_H
#define MK_TESTS_LIB_MEM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "kms/kms_store.h"

#define MK_MEM_STORE_SUBS 4

typedef struct mk_mem_store {
    mk_subscriber subs[MK_MEM_STORE_SUBS];
    size_t n_subs;
    mk_ticket_key tk; /* the active ticket key */
    uint8_t (*replay)[32];
    size_t cap;       /* replay entries */
    uint64_t records; /* answers committed */
} mk_mem_store;

/* Empty, with room for `entries` replay entries; MK_E_UNAVAILABLE when
 * the memory cannot be had. */
mk_err mk_mem_store_init(mk_mem_store *m, size_t entries) MK_MUST_USE;
/* A subscriber (copied; found by PSK id and by its first IMPU);
 * MK_E_LIMIT past MK_MEM_STORE_SUBS. */
mk_err mk_mem_store_add(mk_mem_store *m, const mk_subscriber *s) MK_MUST_USE;
/* The store interface over m (m must outlive it). */
mk_kms_store mk_mem_store_interface(mk_mem_store *m);
/* Wipes the keys, frees the replay cache. */
void mk_mem_store_free(mk_mem_store *m);

#endif
