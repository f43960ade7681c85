/* node_journal.c - the record journal of the node (node.h): the encoding of
 * one mk_record, reading the journal in order for the drain, trimming what
 * the store holds.
 *
 * Encoding (format 1): u8 format, u64 time, u8 service, u64 valid_from,
 * u64 valid_to, then subscriber, initiator, responder, ticket_id, spis,
 * outcome, each a u16 length and its bytes (no NUL). A field that does not
 * fit its mk_record array on decoding is an error, never cut short.
 */
#include <stddef.h>
#include <string.h>

#include "store/node_int.h"

#define RECORD_FORMAT 1

/* The text fields of mk_record, in their encoding order. */
#define FIELD(f) {offsetof(mk_record, f), sizeof ((mk_record *)0)->f}
static const struct {
    size_t off, cap;
} text_fields[] = {FIELD(subscriber), FIELD(initiator), FIELD(responder),
                   FIELD(ticket_id),  FIELD(spis),      FIELD(outcome)};
#undef FIELD
#define N_TEXT (sizeof text_fields / sizeof text_fields[0])

static mk_err put_str(mk_buf *b, const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == cap)
        MK_FAIL(MK_E_ARG, "record field is not NUL-terminated");
    MK_GUARD(mk_buf_u16(b, (uint16_t)n));
    return mk_buf_put(b, s, n);
}

mk_err mk_node_record_encode(const mk_record *r, uint8_t *out, size_t cap,
                             size_t *len)
{
    mk_buf b;
    mk_buf_init(&b, out, cap);
    if (r->service < 0 || r->service > 255)
        MK_FAIL(MK_E_ARG, "record service out of range");
    MK_GUARD(mk_buf_u8(&b, RECORD_FORMAT));
    MK_GUARD(mk_buf_u64(&b, r->time_unix));
    MK_GUARD(mk_buf_u8(&b, (uint8_t)r->service));
    MK_GUARD(mk_buf_u64(&b, r->valid_from));
    MK_GUARD(mk_buf_u64(&b, r->valid_to));
    for (size_t i = 0; i < N_TEXT; i++)
        MK_GUARD(put_str(&b, (const char *)r + text_fields[i].off,
                         text_fields[i].cap));
    *len = b.n;
    return MK_OK;
}

static mk_err get_str(mk_cursor *c, char *dst, size_t cap)
{
    uint16_t n;
    MK_GUARD(mk_cur_u16(c, &n));
    if ((size_t)n >= cap)
        MK_FAIL(MK_E_LENGTH, "journal record field longer than its field");
    MK_GUARD(mk_cur_copy(c, n, (uint8_t *)dst, cap));
    dst[n] = '\0';
    return MK_OK;
}

mk_err mk_node_record_decode(mk_bytes in, mk_record *r)
{
    mk_cursor c;
    uint8_t format, service;
    memset(r, 0, sizeof *r);
    mk_cur_init(&c, in);
    MK_GUARD(mk_cur_u8(&c, &format));
    if (format != RECORD_FORMAT)
        MK_FAIL(MK_E_VALUE, "journal record of another format");
    MK_GUARD(mk_cur_u64(&c, &r->time_unix));
    MK_GUARD(mk_cur_u8(&c, &service));
    r->service = service;
    MK_GUARD(mk_cur_u64(&c, &r->valid_from));
    MK_GUARD(mk_cur_u64(&c, &r->valid_to));
    for (size_t i = 0; i < N_TEXT; i++)
        MK_GUARD(get_str(&c, (char *)r + text_fields[i].off,
                         text_fields[i].cap));
    return mk_cur_expect_end(&c);
}

mk_err mk_node_journal_read(mk_node *n, uint64_t after, size_t max,
                            mk_node_journal_cb cb, void *arg, uint64_t *last)
{
    MDB_txn *txn = NULL;
    MDB_cursor *c = NULL;
    MDB_val k, v;
    uint8_t key[8];
    mk_record r;
    mk_err rc = MK_OK;
    size_t given = 0;
    *last = after;
    MK_GUARD(mk_node_txn(n, true, &txn));
    int x = mdb_cursor_open(txn, n->journal, &c);
    if (x != MDB_SUCCESS) {
        mdb_txn_abort(txn);
        return mk_node_err(x, "cannot read the record journal");
    }
    mk_node_put_u64(key, after + 1);
    k.mv_size = sizeof key;
    k.mv_data = key;
    for (x = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
         x == MDB_SUCCESS && given < max;
         x = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8) {
            rc = mk_err_raise(MK_E_UNAVAILABLE, -1, 0,
                              "record journal damaged (key)");
            break;
        }
        uint64_t seq = mk_node_get_u64(k.mv_data);
        if (mk_node_record_decode(MK_BYTES(v.mv_data, v.mv_size), &r) !=
            MK_OK) {
            rc = mk_err_raise(MK_E_UNAVAILABLE, -1, 0,
                              "record journal damaged (record)");
            break;
        }
        if ((rc = cb(arg, seq, &r)) != MK_OK)
            break;
        *last = seq;
        given++;
    }
    if (rc == MK_OK && x != MDB_SUCCESS && x != MDB_NOTFOUND)
        rc = mk_node_err(x, "cannot read the record journal");
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    return rc;
}

mk_err mk_node_journal_trim(mk_node *n, uint64_t upto)
{
    MDB_txn *txn = NULL;
    MDB_cursor *c = NULL;
    MDB_val k, v;
    MK_GUARD(mk_node_txn(n, false, &txn));
    int x = mdb_cursor_open(txn, n->journal, &c);
    while (x == MDB_SUCCESS &&
           (x = mdb_cursor_get(c, &k, &v, MDB_FIRST)) == MDB_SUCCESS &&
           k.mv_size == 8 && mk_node_get_u64(k.mv_data) <= upto)
        x = mdb_cursor_del(c, 0);
    if (c != NULL)
        mdb_cursor_close(c);
    if (x != MDB_SUCCESS && x != MDB_NOTFOUND) {
        mdb_txn_abort(txn);
        return mk_node_err(x, "cannot trim the record journal");
    }
    return mk_node_commit(txn, "cannot trim the record journal");
}
