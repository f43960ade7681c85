/* pgstore_none.c - the PostgreSQL store of a build without libpq
 * (configure --without-postgresql, or libpq-dev missing): a
 * postgresql:// store is refused at open, with the reason. The other
 * functions need an open store and are never reached. */
#include <stddef.h>
#include <string.h>

#include "store/pgstore.h"

#define NO_PG MK_PGSTORE_NOT_BUILT

/* Every function below keeps the signature of pgstore.h and uses none of
 * its parameters: one statement of that here, instead of a (void) line
 * per parameter in each of them. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

/* A function of pgstore.h that needs an open store: never reached. */
#define NOT_BUILT(decl) \
    decl { MK_FAIL(MK_E_CONFIG, NO_PG); }

bool mk_pgstore_built(void)
{
    return false;
}

bool mk_pgstore_is_uri(const char *store)
{
    return store != NULL && (strncmp(store, "postgresql://", 13) == 0 ||
                             strncmp(store, "postgres://", 11) == 0);
}

NOT_BUILT(mk_err mk_pgstore_open(const char *uri, mk_bytes master_key,
          const mk_pgstore_opts *o, mk_pgstore **out))

void mk_pgstore_close(mk_pgstore *p)
{
}

mk_kms_store mk_pgstore_interface(mk_pgstore *p)
{
    mk_kms_store t = {0};
    return t;
}

NOT_BUILT(mk_err mk_pgstore_replay_prune(mk_pgstore *p, uint64_t now_unix,
          uint64_t *deleted))

NOT_BUILT(mk_err mk_pgstore_status_get(mk_pgstore *p, mk_pgstore_status *out))

void mk_pgstore_cache_stats(const mk_pgstore *p, mk_sqlstore_cache_counts *out)
{
}

NOT_BUILT(mk_err mk_pgstore_subscriber_add(mk_pgstore *p,
          const mk_subscriber *sub))

NOT_BUILT(mk_err mk_pgstore_subscriber_get(mk_pgstore *p, mk_bytes psk_id,
          mk_subscriber *out))

NOT_BUILT(mk_err mk_pgstore_subscriber_set_active(mk_pgstore *p,
          mk_bytes psk_id, bool active))

NOT_BUILT(mk_err mk_pgstore_subscriber_remove(mk_pgstore *p, mk_bytes psk_id))

NOT_BUILT(mk_err mk_pgstore_subscriber_list(mk_pgstore *p,
          mk_sqlstore_subscriber_cb cb, void *arg))

NOT_BUILT(mk_err mk_pgstore_impu_owners(mk_pgstore *p, const char *impu,
          size_t *count))

NOT_BUILT(mk_err mk_pgstore_ticket_key_rotate(mk_pgstore *p, uint64_t now_unix,
          mk_ticket_key_info *created))

NOT_BUILT(mk_err mk_pgstore_ticket_key_retire(mk_pgstore *p, mk_bytes id))

NOT_BUILT(mk_err mk_pgstore_ticket_key_list(mk_pgstore *p,
          mk_sqlstore_ticket_key_cb cb, void *arg))

NOT_BUILT(mk_err mk_pgstore_records(mk_pgstore *p, uint64_t since_unix,
          const char *subscriber, mk_sqlstore_record_cb cb, void *arg))

NOT_BUILT(mk_err mk_pgstore_records_prune(mk_pgstore *p, uint64_t before_unix,
          size_t max, size_t *deleted))

NOT_BUILT(mk_err mk_pgstore_import_sqlite(mk_pgstore *p, mk_sqlstore *s,
          mk_pgstore_import_counts *n))

const char *mk_pgstore_errmsg(const mk_pgstore *p)
{
    return NO_PG;
}
