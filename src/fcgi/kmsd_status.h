/* kmsd_status.h - kmsd's health and metrics pages (doc/profile.md §12.1).
 *
 * Owns: the text of <status_mount>/health (JSON; 200 when every check
 * passes, else 503 with Retry-After) and <status_mount>/metrics (the
 * Prometheus text exposition format 0.0.4), each written as a complete
 * CGI response. They live under a mount of their own so that the
 * annex's mount keeps exactly the statuses of its table; the shipped web
 * server configurations let only loopback clients reach them.
 *
 * With GBA on, the health page also says whether Zn works: kms-znd
 * answers and is connected to the BSF (the caller asks, in `zn`).
 *
 * What they read is the node's (store/node.h): the shared counters of
 * every kmsd process of the machine (fcgi/kmsd_stats.h), the replay
 * cache's and the record journal's fill; and the store's ticket keys.
 * No I/O here beyond those reads; the caller writes the bytes.
 */
#ifndef MK_FCGI_KMSD_STATUS_H
#define MK_FCGI_KMSD_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "fcgi/http_binding.h"
#include "store/node.h"
#include "store/pgstore.h"
#include "store/store.h"

/* Room for either page: the metrics are some 12 KiB. */
#define KMSD_STATUS_MAX (64u * 1024u)

typedef struct kmsd_status_in {
    mk_node *node;             /* NULL: no node (nothing counted) */
    mk_sqlstore *sql;          /* NULL when the store could not be opened */
    mk_pgstore *pg;            /* ... or this, a PostgreSQL store */
    mk_err store_err;          /* why not (MK_OK when sql is set) */
    uint32_t ticket_key_max_age; /* seconds, 0 = age not checked */
    uint32_t retry_after;      /* of a 503 */
    /* GBA only (NULL otherwise): "ok" when kms-znd answered and holds a
     * Diameter connection to the BSF, else why not (kmsd_gba_zn_health) */
    const char *zn;
    uint64_t now_unix;
} kmsd_status_in;

/* The complete CGI response to `method` on `page` (not MK_HTTP_PAGE_NONE)
 * into out[0..*len): GET and HEAD (headers only) are served, anything
 * else is 405 with "Allow: GET, HEAD"; MK_HTTP_PAGE_UNKNOWN is 404.
 * Returns the HTTP status written; -1 (nothing written) only when cap is
 * below KMSD_STATUS_MAX's order of magnitude. */
int kmsd_status_page(mk_http_page page, const char *method,
                     const kmsd_status_in *in, char *out, size_t cap,
                     size_t *len);

#endif
