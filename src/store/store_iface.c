/* store_iface.c - the SQLite store as an mk_kms_store (kms/kms_store.h). */
#include "store/store_int.h"

static mk_err by_psk_id(void *ctx, mk_bytes psk_id, mk_subscriber *out)
{
    return mk_sqlstore_subscriber_get(ctx, psk_id, out);
}

static mk_err by_impu(void *ctx, mk_bytes impu, mk_subscriber *out)
{
    return mk_store_subscriber_by_impu(ctx, impu, out);
}

static mk_err tk_active(void *ctx, mk_ticket_key *out)
{
    return mk_store_ticket_key_active(ctx, out);
}

static mk_err tk_by_id(void *ctx, mk_bytes id, mk_ticket_key *out)
{
    return mk_store_ticket_key_by_id(ctx, id, out);
}

static mk_err replay_insert(void *ctx, const uint8_t digest[32],
                            uint64_t expires_unix, uint64_t now_unix)
{
    mk_sqlstore *s = ctx;
    if (s->writer != NULL)
        return mk_store_writer_replay(s->writer, digest, expires_unix,
                                      now_unix);
    return mk_store_replay_insert(s, digest, expires_unix, now_unix);
}

static mk_err record_write(void *ctx, const mk_record *r)
{
    mk_sqlstore *s = ctx;
    if (s->writer != NULL)
        return mk_store_writer_record(s->writer, r);
    return mk_store_record_write(s, r);
}

mk_kms_store mk_sqlstore_interface(mk_sqlstore *s)
{
    mk_kms_store t = {
        .ctx = s,
        .subscriber_by_psk_id = by_psk_id,
        .subscriber_by_impu = by_impu,
        .ticket_key_active = tk_active,
        .ticket_key_by_id = tk_by_id,
        .replay_insert = replay_insert,
        .record_write = record_write,
    };
    return t;
}
