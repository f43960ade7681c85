/* store_cache.c - the rows a connection looked up, kept exactly consistent
 * with the database without a transaction per answer (store.h).
 *
 * Why: an answer used to cost a read transaction per lookup (subscriber,
 * ticket key), each with its file locks, for rows that change only when an
 * operator acts. A lookup served from here touches no file; the answer's
 * one commit, to the node state (node.h), checks it.
 *
 * How it stays exact:
 * - Every entry was read in one read transaction together with the
 *   generation (meta 'generation', bumped by triggers on subscribers,
 *   impus, responder_patterns and ticket_keys by ANY writer; store_schema.c
 *   v2). All entries share one generation: a miss that reads another one
 *   drops every entry first.
 * - A hit marks the answer as served from the cache with that generation;
 *   a read marks it as fresh with the generation it read. The answer's
 *   commit to the node publishes a fresh generation newer than the node's
 *   and refuses (MK_E_STALE, nothing written) an answer whose rows are of
 *   any other generation than the node's; the core runs it again on fresh
 *   rows. Operator changes publish their generation at once
 *   (mk_store_changed), so an answer is never committed on rows older than
 *   the last change an operator has completed.
 * - Hits are served only while "armed": an answer_commit of this
 *   connection has found the node at the cache's generation (and a commit
 *   that finds another one drops the cache, so a change made while the
 *   server is idle costs at most one rerun, of the answer in flight). A
 *   connection that never commits answers (kmsctl, tests of the lookups)
 *   never hits, and reads the database as before.
 * - "Not found" and failed lookups are never cached.
 * Keys (PSKs, TPKs) live in mk_key inside fixed slots of the connection and
 * are wiped when a slot is replaced or dropped, and with the connection.
 */
#include <string.h>

#include "store/store_int.h"

/* FNV-1a: the keys (PSK ids, IMPUs) are chosen by operators and UEs, but a
 * collision only costs a miss (direct-mapped slots), never a wrong hit. */
static uint32_t hash_of(mk_bytes b)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < b.n; i++) {
        h ^= b.p[i];
        h *= 16777619u;
    }
    return h;
}

static void sub_slot_empty(mk_sub_slot *c)
{
    if (!c->used)
        return;
    mk_key_wipe(&c->sub.psk);
    mk_wipe(c, sizeof *c);
}

static void tk_slot_empty(mk_tk_slot *c)
{
    if (!c->used)
        return;
    mk_key_wipe(&c->tk.key);
    mk_wipe(c, sizeof *c);
}

void mk_store_cache_drop(mk_sqlstore *s)
{
    mk_store_cache *c = &s->cache;
    for (size_t i = 0; i < MK_SUB_CACHE_SLOTS; i++)
        sub_slot_empty(&c->subs[i]);
    memset(c->impus, 0, sizeof c->impus);
    for (size_t i = 0; i < MK_TK_CACHE_SLOTS; i++)
        tk_slot_empty(&c->tks[i]);
    /* the plaintext of every unwrapped key goes too, not only the rows: a
     * retired ticket key must not linger where it would only miss */
    mk_store_unwrap_forget(s);
    if (c->gen_known)
        c->stats.drops++;
    c->gen_known = false;
    c->armed = false;
    c->tk_next = 0;
}

mk_err mk_store_gen_read(mk_sqlstore *s, bool *known, int64_t *gen)
{
    sqlite3_stmt *st = NULL;
    mk_err rc = MK_OK;
    *known = false;
    *gen = 0;
    MK_GUARD(mk_store_stmt(s, ST_GEN_GET, &st));
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        if (sqlite3_column_type(st, 0) == SQLITE_INTEGER) {
            *known = true;
            *gen = sqlite3_column_int64(st, 0);
        }
    } else if (step != SQLITE_DONE) {
        rc = mk_store_db_err(s, step, "cannot read the store generation");
    }
    mk_store_stmt_done(st);
    return rc;
}

/* A hit is served: remember which generation the answer relies on. All
 * hits between two commits are of one generation (adopting another one
 * disarms the cache until the next commit); should that ever change, the
 * first one is kept, and the commit finds the answer stale. */
static void served(mk_store_cache *c)
{
    if (!c->used) {
        c->used = true;
        c->used_gen = c->gen;
    }
    c->stats.hits++;
}

static bool may_serve(mk_store_cache *c)
{
    if (c->armed && c->gen_known)
        return true;
    c->stats.misses++;
    return false;
}

/* The entry was not there: the caller reads the database. */
static bool missed(mk_store_cache *c)
{
    c->stats.misses++;
    return false;
}

static bool same_id(const mk_subscriber *sub, mk_bytes psk_id)
{
    return sub->psk_id_len == psk_id.n &&
           memcmp(sub->psk_id, psk_id.p, psk_id.n) == 0;
}

static bool same_uri(const char *uri, mk_bytes b)
{
    return strnlen(uri, MK_URI_MAX) == b.n && memcmp(uri, b.p, b.n) == 0;
}

bool mk_store_cache_sub_by_psk_id(mk_sqlstore *s, mk_bytes psk_id,
                                  mk_subscriber *out)
{
    mk_store_cache *c = &s->cache;
    if (!may_serve(c) || psk_id.n == 0)
        return false;
    mk_sub_slot *e = &c->subs[hash_of(psk_id) % MK_SUB_CACHE_SLOTS];
    if (!e->used || !same_id(&e->sub, psk_id))
        return missed(c);
    *out = e->sub;
    served(c);
    return true;
}

bool mk_store_cache_sub_by_impu(mk_sqlstore *s, mk_bytes impu,
                                mk_subscriber *out)
{
    mk_store_cache *c = &s->cache;
    if (!may_serve(c) || impu.n == 0)
        return false;
    const mk_impu_slot *x = &c->impus[hash_of(impu) % MK_IMPU_CACHE_SLOTS];
    if (!x->used)
        return missed(c);
    /* the index may point to a slot reused since: check the slot itself */
    mk_sub_slot *e = &c->subs[x->sub];
    if (!e->used || x->impu >= e->sub.n_impu ||
        !(e->impu_ok & (1u << x->impu)) ||
        !same_uri(e->sub.impu[x->impu], impu))
        return missed(c);
    *out = e->sub;
    served(c);
    return true;
}

bool mk_store_cache_tk_active(mk_sqlstore *s, mk_ticket_key *out)
{
    mk_store_cache *c = &s->cache;
    if (!may_serve(c))
        return false;
    /* one generation, and the database allows one active key: an entry in
     * state active, however it was looked up, is THE active key */
    for (size_t i = 0; i < MK_TK_CACHE_SLOTS; i++) {
        const mk_tk_slot *e = &c->tks[i];
        if (e->used && e->tk.state == MK_TK_ACTIVE) {
            *out = e->tk;
            served(c);
            return true;
        }
    }
    return missed(c);
}

bool mk_store_cache_tk_by_id(mk_sqlstore *s, mk_bytes id, mk_ticket_key *out)
{
    mk_store_cache *c = &s->cache;
    if (!may_serve(c) || id.n == 0)
        return false;
    for (size_t i = 0; i < MK_TK_CACHE_SLOTS; i++) {
        const mk_tk_slot *e = &c->tks[i];
        if (e->used && e->tk.id_len == id.n &&
            memcmp(e->tk.id, id.p, id.n) == 0) {
            *out = e->tk;
            served(c);
            return true;
        }
    }
    return missed(c);
}

/* Before keeping a row read in the current transaction: adopt that
 * transaction's generation. false: do not keep it (generation unknown). */
static mk_err adopt(mk_sqlstore *s, bool *keep)
{
    mk_store_cache *c = &s->cache;
    bool known;
    int64_t gen;
    *keep = false;
    MK_GUARD(mk_store_gen_read(s, &known, &gen));
    if (!known) {
        mk_store_cache_drop(s);
        return MK_OK;
    }
    if (c->gen_known && c->gen != gen)
        mk_store_cache_drop(s); /* disarms until a commit confirms gen */
    c->gen = gen;
    c->gen_known = true;
    /* this answer read rows of gen: its commit publishes it to the node;
     * two reads of one answer at two generations can never be current */
    if (c->fresh && c->fresh_gen != gen)
        c->fresh_gen = MK_GEN_MIXED;
    else if (!c->fresh)
        c->fresh_gen = gen;
    c->fresh = true;
    *keep = true;
    return MK_OK;
}

mk_err mk_store_cache_sub_put(mk_sqlstore *s, const mk_subscriber *sub,
                              mk_bytes by_impu)
{
    mk_store_cache *c = &s->cache;
    bool keep;
    MK_GUARD(adopt(s, &keep));
    if (!keep || sub->psk_id_len == 0 || sub->psk_id_len > MK_PSK_ID_MAX ||
        sub->n_impu > MK_IMPU_MAX)
        return MK_OK;
    mk_bytes id = MK_BYTES(sub->psk_id, sub->psk_id_len);
    size_t i = hash_of(id) % MK_SUB_CACHE_SLOTS;
    mk_sub_slot *e = &c->subs[i];
    uint8_t ok = 0;
    /* same generation, same PSK id: the same row; keep what the slot
     * already proved about its IMPUs */
    if (e->used && same_id(&e->sub, id))
        ok = e->impu_ok;
    sub_slot_empty(e);
    e->sub = *sub;
    e->impu_ok = ok;
    e->used = true;
    if (by_impu.n == 0)
        return MK_OK;
    for (size_t k = 0; k < sub->n_impu; k++) {
        if (!same_uri(sub->impu[k], by_impu))
            continue;
        e->impu_ok |= (uint8_t)(1u << k);
        mk_impu_slot *x = &c->impus[hash_of(by_impu) % MK_IMPU_CACHE_SLOTS];
        x->used = true;
        x->sub = (uint16_t)i;
        x->impu = (uint8_t)k;
        break;
    }
    return MK_OK;
}

mk_err mk_store_cache_tk_put(mk_sqlstore *s, const mk_ticket_key *tk)
{
    mk_store_cache *c = &s->cache;
    bool keep;
    MK_GUARD(adopt(s, &keep));
    if (!keep)
        return MK_OK;
    mk_tk_slot *e = NULL;
    for (size_t i = 0; i < MK_TK_CACHE_SLOTS && e == NULL; i++)
        if (c->tks[i].used && c->tks[i].tk.id_len == tk->id_len &&
            memcmp(c->tks[i].tk.id, tk->id, tk->id_len) == 0)
            e = &c->tks[i];
    if (e == NULL) {
        e = &c->tks[c->tk_next];
        c->tk_next = (c->tk_next + 1) % MK_TK_CACHE_SLOTS;
    }
    tk_slot_empty(e);
    e->tk = *tk;
    e->used = true;
    return MK_OK;
}

void mk_store_cache_confirm(mk_sqlstore *s, bool known, int64_t gen)
{
    mk_store_cache *c = &s->cache;
    if (known && c->gen_known && c->gen == gen)
        c->armed = true;
    else if (c->gen_known)
        mk_store_cache_drop(s);
}

mk_err mk_store_cache_stale(mk_sqlstore *s)
{
    s->cache.stats.stale++;
    mk_store_cache_drop(s);
    MK_FAIL(MK_E_STALE, "the lookups of this answer came from a snapshot "
                        "that is no longer current; nothing written");
}

void mk_sqlstore_cache_stats(const mk_sqlstore *s,
                             mk_sqlstore_cache_counts *out)
{
    *out = s->cache.stats;
}
