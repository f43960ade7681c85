/* pgstore_none.c - the PostgreSQL store of a build without libpq
 * (configure --without-postgresql, or libpq-dev missing): a
 * postgresql:// store is refused at open, with the reason. The other
 * functions need an open store and are never reached. */
#include <stddef.h>
#include <string.h>

#include "store/pgstore.h"

#define NO_PG MK_PGSTORE_NOT_BUILT

bool mk_pgstore_built(void)
{
    return false;
}

bool mk_pgstore_is_uri(const char *store)
{
    return store != NULL && (strncmp(store, "postgresql://", 13) == 0 ||
                             strncmp(store, "postgres://", 11) == 0);
}

mk_err mk_pgstore_open(const char *uri, mk_bytes master_key,
                       const mk_pgstore_opts *o, mk_pgstore **out)
{
    (void)uri;
    (void)master_key;
    (void)o;
    (void)out;
    MK_FAIL(MK_E_CONFIG, NO_PG);
}

void mk_pgstore_close(mk_pgstore *p)
{
    (void)p;
}

mk_kms_store mk_pgstore_interface(mk_pgstore *p)
{
    (void)p;
    mk_kms_store t = {0};
    return t;
}

mk_err mk_pgstore_replay_prune(mk_pgstore *p, uint64_t now_unix,
                               uint64_t *deleted)
{
    (void)p;
    (void)now_unix;
    (void)deleted;
    MK_FAIL(MK_E_CONFIG, NO_PG);
}

mk_err mk_pgstore_status_get(mk_pgstore *p, mk_pgstore_status *out)
{
    (void)p;
    (void)out;
    MK_FAIL(MK_E_CONFIG, NO_PG);
}

void mk_pgstore_cache_stats(const mk_pgstore *p, mk_sqlstore_cache_counts *out)
{
    (void)p;
    (void)out;
}

mk_err mk_pgstore_subscriber_add(mk_pgstore *p, const mk_subscriber *sub)
{
    (void)p;
    (void)sub;
    MK_FAIL(MK_E_CONFIG, NO_PG);
}

mk_err mk_pgstore_subscriber_get(mk_pgstore *p, mk_bytes psk_id,
                                 mk_subscriber *out)
{
    (void)p;
    (void)psk_id;
    (void)out;
    MK_FAIL(MK_E_CONFIG, NO_PG);
}

mk_err mk_pgstore_subscriber_set_active(mk_pgstore *p, mk_bytes psk_id,
                                        bool active)
{
    (void)p;
    (void)psk_id;
    (void)active;
    MK_FAIL(MK_E_CONFIG, NO_PG);
}

mk_err mk_pgstore_subscriber_remove(mk_pgstore *p, mk_bytes psk_id)
{
    (void)p;
    (void)psk_id;
    MK_FAIL(MK_E_CONFIG, NO_PG);
}

mk_err mk_pgstore_subscriber_list(mk_pgstore *p, mk_sqlstore_subscriber_cb cb,
                                  void *arg)
{
    (void)p;
    (void)cb;
    (void)arg;
    MK_FAIL(MK_E_CONFIG, NO_PG);
}

mk_err mk_pgstore_impu_owners(mk_pgstore *p, const char *impu, size_t *count)
{
    (void)p;
    (void)impu;
    (void)count;
    MK_FAIL(MK_E_CONFIG, NO_PG);
}

mk_err mk_pgstore_ticket_key_rotate(mk_pgstore *p, uint64_t now_unix,
                                    mk_ticket_key_info *created)
{
    (void)p;
    (void)now_unix;
    (void)created;
    MK_FAIL(MK_E_CONFIG, NO_PG);
}

mk_err mk_pgstore_ticket_key_retire(mk_pgstore *p, mk_bytes id)
{
    (void)p;
    (void)id;
    MK_FAIL(MK_E_CONFIG, NO_PG);
}

mk_err mk_pgstore_ticket_key_list(mk_pgstore *p, mk_sqlstore_ticket_key_cb cb,
                                  void *arg)
{
    (void)p;
    (void)cb;
    (void)arg;
    MK_FAIL(MK_E_CONFIG, NO_PG);
}

mk_err mk_pgstore_records(mk_pgstore *p, uint64_t since_unix,
                          const char *subscriber, mk_sqlstore_record_cb cb,
                          void *arg)
{
    (void)p;
    (void)since_unix;
    (void)subscriber;
    (void)cb;
    (void)arg;
    MK_FAIL(MK_E_CONFIG, NO_PG);
}

mk_err mk_pgstore_records_prune(mk_pgstore *p, uint64_t before_unix, size_t max,
                                size_t *deleted)
{
    (void)p;
    (void)before_unix;
    (void)max;
    (void)deleted;
    MK_FAIL(MK_E_CONFIG, NO_PG);
}

mk_err mk_pgstore_import_sqlite(mk_pgstore *p, mk_sqlstore *s,
                                mk_pgstore_import_counts *n)
{
    (void)p;
    (void)s;
    (void)n;
    MK_FAIL(MK_E_CONFIG, NO_PG);
}

const char *mk_pgstore_errmsg(const mk_pgstore *p)
{
    (void)p;
    return NO_PG;
}
