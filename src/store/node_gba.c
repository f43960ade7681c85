/* node_gba.c - the Ks_NAF cache in the node table MK_NODE_KV_GBA
 * (node_gba.h).
 *
 * Entry E = version (1) || SHA-256(NAF_Id)[0..8] || expires (u64) ||
 *           created (u64) || IMPI (u8 len, bytes) || IMPUs (u8 count,
 *           then u16 len, bytes each) || W
 * W = AES-KW(master key, IV = SHA-256(domain || 0 || B-TID)[0..8],
 *            Ks_NAF || SHA-256(domain || 0 || B-TID || E without W)[0..16])
 *
 * Pieces: the first (key: the B-TID) holds u16 len(E) and the first
 * FIRST_MAX bytes of E, the following ones (key: 0xff, piece number,
 * SHA-256(B-TID)[0..30]) MK_NODE_KV_VAL_MAX bytes each.
 */
#include "store/node_gba.h"

#include <string.h>

#define VERSION 1
#define TAG_LEN 8
#define CHECK_LEN 16
#define PLAIN_LEN (MK_GBA_KEY_LEN + CHECK_LEN) /* 48: a multiple of 8 */
#define WRAP_LEN (PLAIN_LEN + 8)
#define ENTRY_MAX \
    (1 + TAG_LEN + 8 + 8 + 1 + MK_GBA_IMPI_MAX + 1 + \
     MK_IMPU_MAX * (2 + MK_URI_MAX) + WRAP_LEN)
#define FIRST_MAX (MK_NODE_KV_VAL_MAX - 2)
#define PIECES_MAX (1 + (ENTRY_MAX - FIRST_MAX + MK_NODE_KV_VAL_MAX - 1) / \
                            MK_NODE_KV_VAL_MAX)
#define PIECE_KEY_LEN 32

static const char domain[] = "mikeykms-gba-ks-naf";

static mk_err iv_of(mk_bytes btid, uint8_t iv[8])
{
    static const uint8_t zero = 0;
    uint8_t h[32];
    const mk_bytes parts[3] = {MK_BYTES(domain, sizeof domain - 1),
                               MK_BYTES(&zero, 1), btid};
    MK_GUARD(mk_sha256(parts, 3, h));
    memcpy(iv, h, 8);
    return MK_OK;
}

static mk_err check_of(mk_bytes btid, mk_bytes head, uint8_t out[CHECK_LEN])
{
    static const uint8_t zero = 0;
    uint8_t h[32];
    const mk_bytes parts[4] = {MK_BYTES(domain, sizeof domain - 1),
                               MK_BYTES(&zero, 1), btid, head};
    MK_GUARD(mk_sha256(parts, 4, h));
    memcpy(out, h, CHECK_LEN);
    return MK_OK;
}

static mk_err tag_of(mk_bytes naf_id, uint8_t tag[TAG_LEN])
{
    uint8_t h[32];
    MK_GUARD(mk_sha256(&naf_id, 1, h));
    memcpy(tag, h, TAG_LEN);
    return MK_OK;
}

/* The key of piece i >= 1. */
static mk_err piece_key(mk_bytes btid, size_t i, uint8_t key[PIECE_KEY_LEN])
{
    uint8_t h[32];
    MK_GUARD(mk_sha256(&btid, 1, h));
    key[0] = 0xff; /* a B-TID starts with a base64 character */
    key[1] = (uint8_t)i;
    memcpy(key + 2, h, PIECE_KEY_LEN - 2);
    return MK_OK;
}

static size_t pieces_of(size_t len)
{
    return len <= FIRST_MAX ? 1
                            : 1 + (len - FIRST_MAX + MK_NODE_KV_VAL_MAX - 1) /
                                      MK_NODE_KV_VAL_MAX;
}

static mk_err check_args(mk_bytes master, mk_bytes btid)
{
    if (master.n != 32 || btid.n == 0 || btid.n > MK_NODE_KV_KEY_MAX)
        MK_FAIL(MK_E_ARG, "GBA cache: master key or B-TID");
    return MK_OK;
}

mk_err mk_node_gba_put(mk_node *n, mk_bytes master, mk_bytes naf_id,
                       mk_bytes btid, const mk_gba_info *g, uint64_t now_unix)
{
    uint8_t e[ENTRY_MAX], plain[PLAIN_LEN], iv[8], tag[TAG_LEN];
    uint8_t first[MK_NODE_KV_VAL_MAX], key[PIECE_KEY_LEN];
    size_t w = 0;
    mk_buf b;
    mk_err rc;
    MK_GUARD(check_args(master, btid));
    if (g->expires_unix <= now_unix)
        return MK_OK; /* nothing worth keeping */
    if (g->ks_naf.n != MK_GBA_KEY_LEN || g->n_impu > MK_IMPU_MAX ||
        strlen(g->impi) > MK_GBA_IMPI_MAX)
        MK_FAIL(MK_E_ARG, "GBA cache: entry fields");
    MK_GUARD(tag_of(naf_id, tag));
    mk_buf_init(&b, e, sizeof e);
    MK_GUARD(mk_buf_u8(&b, VERSION));
    MK_GUARD(mk_buf_put(&b, tag, TAG_LEN));
    MK_GUARD(mk_buf_u64(&b, g->expires_unix));
    MK_GUARD(mk_buf_u64(&b, g->created_unix));
    MK_GUARD(mk_buf_u8(&b, (uint8_t)strlen(g->impi)));
    MK_GUARD(mk_buf_put(&b, g->impi, strlen(g->impi)));
    MK_GUARD(mk_buf_u8(&b, (uint8_t)g->n_impu));
    for (size_t i = 0; i < g->n_impu; i++) {
        size_t l = strnlen(g->impu[i], MK_URI_MAX);
        MK_GUARD(mk_buf_u16(&b, (uint16_t)l));
        MK_GUARD(mk_buf_put(&b, g->impu[i], l));
    }
    memcpy(plain, g->ks_naf.b, MK_GBA_KEY_LEN);
    MK_GUARD_GOTO(check_of(btid, mk_buf_view(&b), plain + MK_GBA_KEY_LEN), rc,
                  out);
    MK_GUARD_GOTO(iv_of(btid, iv), rc, out);
    MK_GUARD_GOTO(mk_aes_kw_wrap(master, iv, MK_BYTES(plain, PLAIN_LEN),
                                 e + b.n, sizeof e - b.n, &w),
                  rc, out);
    size_t len = b.n + w;
    /* the later pieces first, so that a reader finding the first one finds
     * the rest (a reader meeting an older write fails the check) */
    size_t np = pieces_of(len);
    for (size_t i = np; i-- > 1;) {
        size_t at = FIRST_MAX + (i - 1) * MK_NODE_KV_VAL_MAX;
        size_t k = len - at < MK_NODE_KV_VAL_MAX ? len - at : MK_NODE_KV_VAL_MAX;
        MK_GUARD_GOTO(piece_key(btid, i, key), rc, out);
        MK_GUARD_GOTO(mk_node_kv_put(n, MK_NODE_KV_GBA,
                                     MK_BYTES(key, sizeof key),
                                     MK_BYTES(e + at, k), g->expires_unix,
                                     now_unix, false),
                      rc, out);
    }
    size_t k0 = len < FIRST_MAX ? len : FIRST_MAX;
    first[0] = (uint8_t)(len >> 8);
    first[1] = (uint8_t)len;
    memcpy(first + 2, e, k0);
    rc = mk_node_kv_put(n, MK_NODE_KV_GBA, btid, MK_BYTES(first, 2 + k0),
                        g->expires_unix, now_unix, false);
out:
    mk_wipe(plain, sizeof plain);
    return rc;
}

/* Read the whole entry of btid into e. */
static mk_err read_entry(mk_node *n, mk_bytes btid, uint64_t now,
                         uint8_t *e, size_t cap, size_t *len)
{
    uint8_t v[MK_NODE_KV_VAL_MAX], key[PIECE_KEY_LEN];
    size_t vn = 0;
    MK_GUARD(mk_node_kv_get(n, MK_NODE_KV_GBA, btid, now, v, sizeof v, &vn,
                            NULL));
    if (vn < 2)
        MK_FAIL(MK_E_NOT_FOUND, "GBA cache entry damaged");
    size_t total = (size_t)v[0] << 8 | v[1];
    if (total > cap || total == 0)
        MK_FAIL(MK_E_NOT_FOUND, "GBA cache entry damaged");
    size_t k0 = total < FIRST_MAX ? total : FIRST_MAX;
    if (vn != 2 + k0)
        MK_FAIL(MK_E_NOT_FOUND, "GBA cache entry damaged");
    memcpy(e, v + 2, k0);
    size_t np = pieces_of(total);
    for (size_t i = 1; i < np; i++) {
        size_t at = FIRST_MAX + (i - 1) * MK_NODE_KV_VAL_MAX;
        size_t want = total - at < MK_NODE_KV_VAL_MAX ? total - at
                                                      : MK_NODE_KV_VAL_MAX;
        MK_GUARD(piece_key(btid, i, key));
        MK_GUARD(mk_node_kv_get(n, MK_NODE_KV_GBA, MK_BYTES(key, sizeof key),
                                now, e + at, cap - at, &vn, NULL));
        if (vn != want)
            MK_FAIL(MK_E_NOT_FOUND, "GBA cache entry damaged");
    }
    *len = total;
    return MK_OK;
}

static mk_err parse_entry(mk_bytes e, mk_bytes naf_id, uint64_t now,
                          mk_gba_info *g, mk_bytes *head, mk_bytes *wrapped)
{
    mk_cursor c;
    uint8_t v, tag[TAG_LEN], want[TAG_LEN], l, cnt;
    uint16_t ul;
    mk_cur_init(&c, e);
    MK_GUARD(mk_cur_u8(&c, &v));
    MK_GUARD(mk_cur_copy(&c, TAG_LEN, tag, sizeof tag));
    MK_GUARD(tag_of(naf_id, want));
    if (v != VERSION || memcmp(tag, want, TAG_LEN) != 0)
        MK_FAIL(MK_E_NOT_FOUND, "GBA cache entry of another NAF_Id");
    MK_GUARD(mk_cur_u64(&c, &g->expires_unix));
    MK_GUARD(mk_cur_u64(&c, &g->created_unix));
    if (g->expires_unix <= now)
        MK_FAIL(MK_E_NOT_FOUND, "GBA cache entry expired");
    MK_GUARD(mk_cur_u8(&c, &l));
    MK_GUARD(mk_cur_copy(&c, l, (uint8_t *)g->impi, sizeof g->impi - 1));
    g->impi[l] = '\0';
    MK_GUARD(mk_cur_u8(&c, &cnt));
    if (cnt > MK_IMPU_MAX)
        MK_FAIL(MK_E_NOT_FOUND, "GBA cache entry damaged");
    for (size_t i = 0; i < cnt; i++) {
        MK_GUARD(mk_cur_u16(&c, &ul));
        if (ul >= MK_URI_MAX)
            MK_FAIL(MK_E_NOT_FOUND, "GBA cache entry damaged");
        MK_GUARD(mk_cur_copy(&c, ul, (uint8_t *)g->impu[i],
                             sizeof g->impu[i] - 1));
        g->impu[i][ul] = '\0';
    }
    g->n_impu = cnt;
    *head = mk_cur_since(&c, 0);
    MK_GUARD(mk_cur_bytes(&c, WRAP_LEN, wrapped));
    return mk_cur_expect_end(&c);
}

mk_err mk_node_gba_get(mk_node *n, mk_bytes master, mk_bytes naf_id,
                       mk_bytes btid, uint64_t now_unix, mk_gba_info *out)
{
    uint8_t e[ENTRY_MAX], plain[PLAIN_LEN], iv[8], check[CHECK_LEN];
    size_t len = 0, pn = 0;
    mk_bytes head, wrapped;
    mk_err rc;
    mk_gba_info_wipe(out);
    MK_GUARD(check_args(master, btid));
    MK_GUARD(read_entry(n, btid, now_unix, e, sizeof e, &len));
    rc = parse_entry(MK_BYTES(e, len), naf_id, now_unix, out, &head,
                     &wrapped);
    if (rc != MK_OK && rc != MK_E_UNAVAILABLE)
        rc = mk_err_raise(MK_E_NOT_FOUND, -1, 0, "GBA cache entry unusable");
    if (rc == MK_OK)
        rc = iv_of(btid, iv);
    if (rc == MK_OK && mk_aes_kw_unwrap(master, iv, wrapped, plain,
                                        sizeof plain, &pn) != MK_OK)
        rc = mk_err_raise(MK_E_NOT_FOUND, -1, 0,
                          "GBA cache entry does not unwrap");
    if (rc == MK_OK)
        rc = check_of(btid, head, check);
    if (rc == MK_OK && (pn != PLAIN_LEN ||
                        !mk_ct_equal(check, plain + MK_GBA_KEY_LEN,
                                     CHECK_LEN)))
        rc = mk_err_raise(MK_E_NOT_FOUND, -1, 0,
                          "GBA cache entry does not check");
    if (rc == MK_OK)
        rc = mk_key_copy(&out->ks_naf, MK_BYTES(plain, MK_GBA_KEY_LEN));
    mk_wipe(plain, sizeof plain);
    if (rc != MK_OK)
        mk_gba_info_wipe(out);
    return rc;
}

mk_err mk_node_gba_delete(mk_node *n, mk_bytes btid)
{
    uint8_t key[PIECE_KEY_LEN];
    if (btid.n == 0 || btid.n > MK_NODE_KV_KEY_MAX)
        MK_FAIL(MK_E_ARG, "GBA cache: B-TID");
    for (size_t i = 1; i < PIECES_MAX; i++) {
        MK_GUARD(piece_key(btid, i, key));
        MK_GUARD(mk_node_kv_delete(n, MK_NODE_KV_GBA,
                                   MK_BYTES(key, sizeof key)));
    }
    return mk_node_kv_delete(n, MK_NODE_KV_GBA, btid);
}
