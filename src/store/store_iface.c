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

static mk_err answer_commit(void *ctx, const mk_answer_write *w)
{
    return mk_store_answer_commit(ctx, w);
}

static mk_err rate_take(void *ctx, mk_bytes name, uint32_t rate_milli,
                        uint32_t burst, uint64_t now_ms,
                        uint32_t *retry_after_s)
{
    return mk_store_rate_take(ctx, name, rate_milli, burst, now_ms,
                              retry_after_s);
}

mk_kms_store mk_sqlstore_interface(mk_sqlstore *s)
{
    mk_kms_store t = {
        .ctx = s,
        .subscriber_by_psk_id = by_psk_id,
        .subscriber_by_impu = by_impu,
        .ticket_key_active = tk_active,
        .ticket_key_by_id = tk_by_id,
        .answer_commit = answer_commit,
        .rate_take = rate_take,
    };
    return t;
}
