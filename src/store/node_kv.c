/* node_kv.c - small tables with expiry in the node state (node.h,
 * mk_node_kv_*): what the other parts of a node share across processes
 * (a GBA key cache, single-use Digest nonces, rate-limit buckets, tickets
 * already resolved). A value is stored as u64 BE expiry || bytes; an entry
 * at or past its expiry is absent to every reader, and mk_node_kv_sweep
 * deletes such entries a bounded number at a time.
 */
#include <string.h>

#include "store/node_int.h"

static mk_err check(mk_node *n, mk_node_table t, mk_bytes key)
{
    (void)n;
    if ((unsigned)t >= MK_NODE_KV__COUNT)
        MK_FAIL(MK_E_ARG, "no such node table");
    if (key.n == 0 || key.n > MK_NODE_KV_KEY_MAX || key.p == NULL)
        MK_FAIL(MK_E_ARG, "node table key empty or too long");
    return MK_OK;
}

/* The live entry of key in txn: *found, its value and expiry. */
static mk_err lookup(MDB_txn *txn, mk_node *n, mk_node_table t, mk_bytes key,
                     uint64_t now, bool *found, mk_bytes *val,
                     uint64_t *expires)
{
    MDB_val k = {.mv_size = key.n, .mv_data = (void *)key.p}, v;
    *found = false;
    int rc = mdb_get(txn, n->kv[t], &k, &v);
    if (rc == MDB_NOTFOUND)
        return MK_OK;
    if (rc != MDB_SUCCESS)
        return mk_node_err(rc, "cannot read a node table");
    if (v.mv_size < 8 || v.mv_size > 8 + MK_NODE_KV_VAL_MAX)
        MK_FAIL(MK_E_UNAVAILABLE, "node table entry damaged");
    uint64_t e = mk_node_get_u64(v.mv_data);
    if (e <= now)
        return MK_OK;
    *found = true;
    *val = MK_BYTES((const uint8_t *)v.mv_data + 8, v.mv_size - 8);
    *expires = e;
    return MK_OK;
}

static mk_err store(MDB_txn *txn, mk_node *n, mk_node_table t, mk_bytes key,
                    mk_bytes val, uint64_t expires, bool replacing)
{
    uint8_t buf[8 + MK_NODE_KV_VAL_MAX];
    MDB_stat st;
    if (val.n > MK_NODE_KV_VAL_MAX)
        MK_FAIL(MK_E_ARG, "node table value too long");
    int rc = mdb_stat(txn, n->kv[t], &st);
    if (rc != MDB_SUCCESS)
        return mk_node_err(rc, "cannot read a node table");
    if (!replacing && st.ms_entries >= n->cfg.kv_max)
        MK_FAIL(MK_E_UNAVAILABLE, "node table full");
    mk_node_put_u64(buf, expires);
    if (val.n > 0)
        memcpy(buf + 8, val.p, val.n);
    MDB_val k = {.mv_size = key.n, .mv_data = (void *)key.p};
    MDB_val v = {.mv_size = 8 + val.n, .mv_data = buf};
    rc = mdb_put(txn, n->kv[t], &k, &v, 0);
    mk_wipe(buf, sizeof buf); /* values may be wrapped keys, nonces */
    return rc == MDB_SUCCESS ? MK_OK
                             : mk_node_err(rc, "cannot write a node table");
}

static mk_err del(MDB_txn *txn, mk_node *n, mk_node_table t, mk_bytes key)
{
    MDB_val k = {.mv_size = key.n, .mv_data = (void *)key.p};
    int rc = mdb_del(txn, n->kv[t], &k, NULL);
    return rc == MDB_SUCCESS || rc == MDB_NOTFOUND
               ? MK_OK
               : mk_node_err(rc, "cannot write a node table");
}

/* An entry exists (dead or alive): a put replaces it, not a new one. */
static bool exists(MDB_txn *txn, mk_node *n, mk_node_table t, mk_bytes key)
{
    MDB_val k = {.mv_size = key.n, .mv_data = (void *)key.p}, v;
    return mdb_get(txn, n->kv[t], &k, &v) == MDB_SUCCESS;
}

static mk_err finish(MDB_txn *txn, mk_err rc)
{
    if (rc != MK_OK) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mk_node_commit(txn, "cannot commit to a node table");
}

mk_err mk_node_kv_put(mk_node *n, mk_node_table t, mk_bytes key,
                      mk_bytes val, uint64_t expires_unix, uint64_t now_unix,
                      bool only_new)
{
    MDB_txn *txn = NULL;
    bool found = false;
    mk_bytes cur;
    uint64_t e;
    mk_err rc;
    MK_GUARD(check(n, t, key));
    MK_GUARD(mk_node_txn(n, false, &txn));
    rc = lookup(txn, n, t, key, now_unix, &found, &cur, &e);
    if (rc == MK_OK && found && only_new)
        rc = mk_err_raise(MK_E_EXISTS, -1, 0, "node table entry exists");
    if (rc == MK_OK)
        rc = store(txn, n, t, key, val, expires_unix,
                   exists(txn, n, t, key));
    return finish(txn, rc);
}

/* The live entry of key copied out (get, take): MK_E_NOT_FOUND when absent
 * or dead, MK_E_NOSPACE when it does not fit; val and len may be NULL. */
static mk_err copy_live(MDB_txn *txn, mk_node *n, mk_node_table t,
                        mk_bytes key, uint64_t now, uint8_t *val, size_t cap,
                        size_t *len, uint64_t *expires)
{
    bool found = false;
    mk_bytes cur = MK_BYTES_NONE;
    uint64_t e = 0;
    MK_GUARD(lookup(txn, n, t, key, now, &found, &cur, &e));
    if (!found)
        MK_FAIL(MK_E_NOT_FOUND, "no such node table entry");
    if (val != NULL && cur.n > cap)
        MK_FAIL(MK_E_NOSPACE, "node table value too long");
    if (val != NULL && cur.n > 0)
        memcpy(val, cur.p, cur.n);
    if (len != NULL)
        *len = cur.n;
    if (expires != NULL)
        *expires = e;
    return MK_OK;
}

mk_err mk_node_kv_get(mk_node *n, mk_node_table t, mk_bytes key,
                      uint64_t now_unix, uint8_t *val, size_t cap,
                      size_t *len, uint64_t *expires_unix)
{
    MDB_txn *txn = NULL;
    MK_GUARD(check(n, t, key));
    MK_GUARD(mk_node_txn(n, true, &txn));
    mk_err rc = copy_live(txn, n, t, key, now_unix, val, cap, len,
                          expires_unix);
    mdb_txn_abort(txn);
    return rc;
}

mk_err mk_node_kv_take(mk_node *n, mk_node_table t, mk_bytes key,
                       uint64_t now_unix, uint8_t *val, size_t cap,
                       size_t *len)
{
    MDB_txn *txn = NULL;
    MK_GUARD(check(n, t, key));
    MK_GUARD(mk_node_txn(n, false, &txn));
    mk_err rc = copy_live(txn, n, t, key, now_unix, val, cap, len, NULL);
    if (rc == MK_OK)
        rc = del(txn, n, t, key);
    return finish(txn, rc);
}

mk_err mk_node_kv_update_in(MDB_txn *txn, mk_node *n, mk_node_table t,
                            mk_bytes key, uint64_t now_unix, mk_node_kv_fn fn,
                            void *arg)
{
    bool found = false;
    mk_bytes cur = MK_BYTES_NONE;
    uint64_t e = 0, new_exp = 0;
    uint8_t out[MK_NODE_KV_VAL_MAX];
    size_t out_len = 0;
    MK_GUARD(check(n, t, key));
    mk_err rc = lookup(txn, n, t, key, now_unix, &found, &cur, &e);
    if (rc == MK_OK)
        rc = fn(arg, found, cur, e, out, &out_len, &new_exp);
    if (rc == MK_OK && out_len > sizeof out)
        rc = mk_err_raise(MK_E_ARG, -1, 0, "node table value too long");
    if (rc == MK_OK && out_len == 0 && new_exp == 0)
        rc = del(txn, n, t, key);
    else if (rc == MK_OK)
        rc = store(txn, n, t, key, MK_BYTES(out, out_len), new_exp,
                   exists(txn, n, t, key));
    mk_wipe(out, sizeof out);
    return rc;
}

mk_err mk_node_kv_update(mk_node *n, mk_node_table t, mk_bytes key,
                         uint64_t now_unix, mk_node_kv_fn fn, void *arg)
{
    MDB_txn *txn = NULL;
    MK_GUARD(check(n, t, key));
    MK_GUARD(mk_node_txn(n, false, &txn));
    return finish(txn, mk_node_kv_update_in(txn, n, t, key, now_unix, fn,
                                            arg));
}

mk_err mk_node_kv_delete(mk_node *n, mk_node_table t, mk_bytes key)
{
    MDB_txn *txn = NULL;
    MK_GUARD(check(n, t, key));
    MK_GUARD(mk_node_txn(n, false, &txn));
    return finish(txn, del(txn, n, t, key));
}

mk_err mk_node_kv_sweep(mk_node *n, uint64_t now_unix, size_t budget,
                        size_t *deleted)
{
    size_t d = 0;
    MDB_txn *txn = NULL;
    MK_GUARD(mk_node_txn(n, false, &txn));
    for (int t = 0; t < MK_NODE_KV__COUNT; t++) {
        MDB_cursor *c = NULL;
        MDB_val k, v;
        size_t seen = 0;
        int x = mdb_cursor_open(txn, n->kv[t], &c);
        if (x != MDB_SUCCESS) {
            mdb_txn_abort(txn);
            return mk_node_err(x, "cannot sweep a node table");
        }
        /* resume where the last sweep of this table stopped */
        k.mv_size = n->kv_sweep_len[t];
        k.mv_data = n->kv_sweep_key[t];
        x = mdb_cursor_get(c, &k, &v, k.mv_size ? MDB_SET_RANGE : MDB_FIRST);
        while (x == MDB_SUCCESS && seen < budget) {
            seen++;
            if (v.mv_size >= 8 && mk_node_get_u64(v.mv_data) <= now_unix) {
                if ((x = mdb_cursor_del(c, 0)) != MDB_SUCCESS)
                    break;
                d++;
            }
            /* after a delete, MDB_NEXT gives the entry that followed */
            x = mdb_cursor_get(c, &k, &v, MDB_NEXT);
        }
        if (x == MDB_SUCCESS && k.mv_size <= MK_NODE_KV_KEY_MAX) {
            memcpy(n->kv_sweep_key[t], k.mv_data, k.mv_size);
            n->kv_sweep_len[t] = k.mv_size;
        } else {
            n->kv_sweep_len[t] = 0; /* at the end: start over next time */
        }
        mdb_cursor_close(c);
        if (x != MDB_SUCCESS && x != MDB_NOTFOUND) {
            mdb_txn_abort(txn);
            return mk_node_err(x, "cannot sweep a node table");
        }
    }
    if (deleted != NULL)
        *deleted = d;
    return mk_node_commit(txn, "cannot sweep a node table");
}
