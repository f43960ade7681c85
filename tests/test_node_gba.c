/* test_node_gba.c - the node's Ks_NAF cache (store/node_gba.h): an entry
 * comes back as it was put, until its expiry; another NAF_Id, another
 * master key, a changed byte or a piece of another write is a miss; a long
 * USS spans several pieces; and the Ks_NAF bytes are nowhere in the node
 * file in clear. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gba/gba.h"
#include "store/node_gba.h"
#include "lib/check_main.h"
#include "lib/tmpdir.h"

static char dir[64];
static char node_path[128];
static mk_node *node;

static const uint8_t MASTER[32] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4,
                                   5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8,
                                   9, 0, 1, 2};
static const uint8_t OTHER[32] = {1};
#define BTID "oKCgoKCgoKCgoKCgoKCgoA==@bsf.example.org"
#define NOW 1700000000u

static mk_bytes str(const char *s) { return MK_BYTES(s, strlen(s)); }

static const uint8_t naf[] = "kms.example.org\x01\x00\x00\x00\x06";
#define NAF MK_BYTES(naf, sizeof naf - 1)

static void setup(void)
{
    mk_node_config c;
    mk_test_dir_make(dir, sizeof dir, "gba");
    snprintf(node_path, sizeof node_path, "%s/n", dir);
    mk_node_config_defaults(&c);
    snprintf(c.path, sizeof c.path, "%s", node_path);
    c.kv_max = 64;
    ck_assert_int_eq(mk_node_open(&c, MK_NODE_CREATE_FRESH, &node), MK_OK);
}

static void teardown(void)
{
    mk_node_close(node);
    mk_test_dir_remove(dir);
}

/* The entry of BTID under the fixture's master key and NAF, at NOW. */
static mk_err put_btid(const mk_gba_info *g)
{
    return mk_node_gba_put(node, MK_BYTES(MASTER, 32), NAF, str(BTID), g,
                           NOW);
}

static mk_err get_btid(mk_gba_info *back)
{
    return mk_node_gba_get(node, MK_BYTES(MASTER, 32), NAF, str(BTID), NOW,
                           back);
}

/* The first piece of BTID's entry as stored (into v, MK_NODE_KV_VAL_MAX
 * bytes; returns its length), and stored again after a test changed it. */
static size_t first_piece(uint8_t *v)
{
    size_t vn = 0;
    ck_assert_int_eq(mk_node_kv_get(node, MK_NODE_KV_GBA, str(BTID), NOW, v,
                                    MK_NODE_KV_VAL_MAX, &vn, NULL),
                     MK_OK);
    return vn;
}

static void first_piece_set(const uint8_t *v, size_t vn)
{
    ck_assert_int_eq(mk_node_kv_put(node, MK_NODE_KV_GBA, str(BTID),
                                    MK_BYTES(v, vn), NOW + 100, NOW, false),
                     MK_OK);
}

static void info(mk_gba_info *g, size_t n_impu, size_t impu_len)
{
    memset(g, 0, sizeof *g);
    strcpy(g->impi, "alice@ims.example.org");
    g->ks_naf.n = 32;
    for (int i = 0; i < 32; i++)
        g->ks_naf.b[i] = (uint8_t)(0xe0 ^ (i * 37));
    g->expires_unix = NOW + 100;
    g->created_unix = NOW - 5;
    for (size_t i = 0; i < n_impu; i++) {
        memset(g->impu[i], 'a' + (int)i, impu_len);
        memcpy(g->impu[i], "sip:", 4);
        g->impu[i][impu_len] = '\0';
    }
    g->n_impu = n_impu;
}

/* Is `needle` anywhere in the file? */
static bool file_holds(const char *path, const uint8_t *needle, size_t n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static uint8_t buf[1 << 22];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(buf + i, needle, n) == 0)
            return true;
    return false;
}

START_TEST(test_put_get_expiry)
{
    static mk_gba_info g, back;
    info(&g, 2, 30);
    ck_assert_int_eq(put_btid(&g), MK_OK);
    ck_assert_int_eq(mk_node_gba_get(node, MK_BYTES(MASTER, 32), NAF,
                                     str(BTID), NOW + 1, &back),
                     MK_OK);
    ck_assert_str_eq(back.impi, g.impi);
    ck_assert_uint_eq(back.ks_naf.n, 32);
    ck_assert(memcmp(back.ks_naf.b, g.ks_naf.b, 32) == 0);
    ck_assert_uint_eq(back.expires_unix, NOW + 100);
    ck_assert_uint_eq(back.created_unix, NOW - 5);
    ck_assert_uint_eq(back.n_impu, 2);
    ck_assert_str_eq(back.impu[1], g.impu[1]);
    /* at the expiry it is gone */
    ck_assert_int_eq(mk_node_gba_get(node, MK_BYTES(MASTER, 32), NAF,
                                     str(BTID), NOW + 100, &back),
                     MK_E_NOT_FOUND);
    ck_assert_uint_eq(back.ks_naf.n, 0);
    /* another NAF_Id, another master key, another B-TID: misses */
    static const uint8_t naf2[] = "kms.example.net\x01\x00\x00\x00\x06";
    ck_assert_int_eq(mk_node_gba_get(node, MK_BYTES(MASTER, 32),
                                     MK_BYTES(naf2, sizeof naf2 - 1),
                                     str(BTID), NOW, &back),
                     MK_E_NOT_FOUND);
    ck_assert_int_eq(mk_node_gba_get(node, MK_BYTES(OTHER, 32), NAF,
                                     str(BTID), NOW, &back),
                     MK_E_NOT_FOUND);
    ck_assert_int_eq(mk_node_gba_get(node, MK_BYTES(MASTER, 32), NAF,
                                     str("sbGxsbGxsbGxsbGxsbGxsQ==@bsf.example.org"),
                                     NOW, &back),
                     MK_E_NOT_FOUND);
    /* an expired answer is not kept at all */
    g.expires_unix = NOW;
    ck_assert_int_eq(mk_node_gba_put(node, MK_BYTES(MASTER, 32), NAF,
                                     str("wsLCwsLCwsLCwsLCwsLCwg==@b.org"),
                                     &g, NOW),
                     MK_OK);
    ck_assert_int_eq(mk_node_gba_get(node, MK_BYTES(MASTER, 32), NAF,
                                     str("wsLCwsLCwsLCwsLCwsLCwg==@b.org"),
                                     NOW - 10, &back),
                     MK_E_NOT_FOUND);
    /* the key is nowhere in the file in clear */
    ck_assert(!file_holds(node_path, g.ks_naf.b, 32));
    ck_assert(!file_holds(node_path, g.ks_naf.b, 12));
    /* (the test would see it: the IMPI is there in clear) */
    ck_assert(file_holds(node_path, (const uint8_t *)g.impi, strlen(g.impi)));
    ck_assert_int_eq(mk_node_gba_delete(node, str(BTID)), MK_OK);
    ck_assert_int_eq(get_btid(&back), MK_E_NOT_FOUND);
}
END_TEST

START_TEST(test_pieces_and_damage)
{
    static mk_gba_info g, back, g2;
    /* eight IMPUs of 250 bytes: some 2.1 KiB, nine pieces */
    info(&g, 8, 250);
    ck_assert_int_eq(put_btid(&g), MK_OK);
    ck_assert_int_eq(get_btid(&back), MK_OK);
    ck_assert_uint_eq(back.n_impu, 8);
    ck_assert_str_eq(back.impu[7], g.impu[7]);
    ck_assert(memcmp(back.ks_naf.b, g.ks_naf.b, 32) == 0);
    ck_assert(!file_holds(node_path, g.ks_naf.b, 32));

    /* the first piece of another write with the other pieces of this one:
     * the check value catches the mix */
    info(&g2, 8, 250);
    g2.impu[0][10] = 'Z';
    uint8_t v[MK_NODE_KV_VAL_MAX];
    size_t vn = 0;
    ck_assert_int_eq(mk_node_gba_put(node, MK_BYTES(MASTER, 32), NAF,
                                     str("wsLCwsLCwsLCwsLCwsLCwg==@b.org"),
                                     &g2, NOW),
                     MK_OK);
    /* a changed IMPU byte in the first piece */
    vn = first_piece(v);
    v[2 + 1 + 8 + 8 + 8 + 1 + 21 + 1 + 2 + 6] ^= 1; /* inside impu[0] */
    first_piece_set(v, vn);
    ck_assert_int_eq(get_btid(&back), MK_E_NOT_FOUND);
    ck_assert_uint_eq(back.ks_naf.n, 0);
    /* a piece gone */
    info(&g, 8, 250);
    ck_assert_int_eq(put_btid(&g), MK_OK);
    ck_assert_int_eq(get_btid(&back), MK_OK);
    ck_assert_int_eq(mk_node_gba_delete(node, str(BTID)), MK_OK);
    ck_assert_int_eq(put_btid(&g), MK_OK);
    /* a first piece that claims more than the pieces hold */
    vn = first_piece(v);
    v[0] = 0x7f;
    first_piece_set(v, vn);
    ck_assert_int_eq(get_btid(&back), MK_E_NOT_FOUND);
}
END_TEST

int main(void)
{
    const TTest *const node_gba_tests[] = {test_put_get_expiry,
        test_pieces_and_damage};
    const mk_check_opts o = {
        .suite = "node_gba", .tcase = "node_gba", .setup = setup,
        .teardown = teardown
    };
    return mk_check_main_opts(&o, node_gba_tests,
                              MK_CHECK_NELEM(node_gba_tests));
}
