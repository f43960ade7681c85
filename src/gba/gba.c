/* gba.c - B-TID, NAF_Id, the IMPUs of a USS, the GBA subscriber (gba.h). */
#include "gba/gba.h"

#include <stdio.h>
#include <string.h>

#include "util/base64.h"

static bool is_alnum(uint8_t ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9');
}

bool mk_gba_fqdn_ok(const char *s, size_t n)
{
    size_t label = 0;
    if (s == NULL || n == 0 || n > MK_GBA_FQDN_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = (uint8_t)s[i];
        if (ch == '.') {
            /* no empty label, none ending in '-' */
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        if (!is_alnum(ch) && !(ch == '-' && label > 0))
            return false;
        if (++label > 63)
            return false;
    }
    return label > 0 && s[n - 1] != '-';
}

bool mk_gba_btid_parse(mk_bytes btid, uint8_t rand[MK_GBA_RAND_LEN],
                       mk_bytes *domain)
{
    /* base64 of 16 bytes: 24 characters, the last two '=' */
    enum { B64 = 24 };
    uint8_t tmp[MK_GBA_RAND_LEN + 2];
    size_t n = 0;
    if (btid.p == NULL || btid.n < B64 + 2 || btid.n > MK_GBA_BTID_MAX ||
        btid.p[B64] != '@')
        return false;
    /* the base64 decoder skips white space; a B-TID has none */
    for (size_t i = 0; i < B64; i++)
        if (!is_alnum(btid.p[i]) && btid.p[i] != '+' && btid.p[i] != '/' &&
            btid.p[i] != '=')
            return false;
    if (mk_base64_decode(MK_BYTES(btid.p, B64), tmp, sizeof tmp, &n) !=
            MK_OK ||
        n != MK_GBA_RAND_LEN) {
        mk_err_clear();
        return false;
    }
    if (!mk_gba_fqdn_ok((const char *)btid.p + B64 + 1, btid.n - B64 - 1))
        return false;
    memcpy(rand, tmp, MK_GBA_RAND_LEN);
    if (domain != NULL)
        *domain = MK_BYTES(btid.p + B64 + 1, btid.n - B64 - 1);
    return true;
}

mk_err mk_gba_naf_id(const char *fqdn, const uint8_t ua_id[MK_GBA_UA_ID_LEN],
                     uint8_t *out, size_t cap, size_t *len)
{
    size_t n = fqdn != NULL ? strlen(fqdn) : 0;
    if (!mk_gba_fqdn_ok(fqdn, n))
        MK_FAIL(MK_E_ARG, "the NAF FQDN is not a host name");
    if (cap < n + MK_GBA_UA_ID_LEN)
        MK_FAIL(MK_E_NOSPACE, "NAF_Id buffer too small");
    memcpy(out, fqdn, n);
    memcpy(out + n, ua_id, MK_GBA_UA_ID_LEN);
    *len = n + MK_GBA_UA_ID_LEN;
    return MK_OK;
}

void mk_gba_info_wipe(mk_gba_info *g)
{
    if (g != NULL) {
        mk_key_wipe(&g->ks_naf);
        memset(g, 0, sizeof *g);
    }
}

/* --- the USS ---------------------------------------------------------- */

static const struct {
    const char *ent;
    char ch;
} entities[] = {
    {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'},
    {"&apos;", '\''},
};

/* Decode the text of one <uid> into out (NUL-terminated). */
static mk_err uid_text(mk_bytes t, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < t.n;) {
        char ch = (char)t.p[i];
        size_t used = 1;
        if (ch == '<' || (uint8_t)ch < 0x20)
            MK_FAIL(MK_E_VALUE, "USS: markup or control character in a uid");
        if (ch == '&') {
            size_t k;
            for (k = 0; k < sizeof entities / sizeof entities[0]; k++) {
                size_t en = strlen(entities[k].ent);
                if (t.n - i >= en && memcmp(t.p + i, entities[k].ent, en) == 0) {
                    ch = entities[k].ch;
                    used = en;
                    break;
                }
            }
            if (k == sizeof entities / sizeof entities[0])
                MK_FAIL(MK_E_VALUE, "USS: unknown entity in a uid");
        }
        if (o + 1 >= cap)
            MK_FAIL(MK_E_VALUE, "USS: uid too long");
        out[o++] = ch;
        i += used;
    }
    if (o == 0)
        MK_FAIL(MK_E_VALUE, "USS: empty uid");
    out[o] = '\0';
    return MK_OK;
}

/* The next occurrence of lit in b at or after from; b.n when none. */
static size_t find(mk_bytes b, size_t from, const char *lit)
{
    size_t ln = strlen(lit);
    for (size_t i = from; i + ln <= b.n; i++)
        if (memcmp(b.p + i, lit, ln) == 0)
            return i;
    return b.n;
}

mk_err mk_gba_uss_impus(mk_bytes uss, mk_gba_info *g)
{
    static const char open[] = "<uid>", close[] = "</uid>";
    size_t at = 0;
    g->n_impu = 0;
    if (uss.n > MK_GBA_USS_MAX)
        MK_FAIL(MK_E_LIMIT, "USS too long");
    for (;;) {
        size_t s = find(uss, at, open);
        if (s == uss.n)
            return MK_OK;
        s += sizeof open - 1;
        size_t e = find(uss, s, close);
        if (e == uss.n)
            MK_FAIL(MK_E_VALUE, "USS: uid not closed");
        if (g->n_impu == MK_IMPU_MAX)
            MK_FAIL(MK_E_LIMIT, "USS: more uids than a subscriber holds");
        MK_GUARD(uid_text(MK_BYTES(uss.p + s, e - s), g->impu[g->n_impu],
                          sizeof g->impu[0]));
        g->n_impu++;
        at = e + sizeof close - 1;
    }
}

mk_err mk_gba_uss_write(const mk_gba_info *g, char *out, size_t cap,
                        size_t *len)
{
    mk_buf b;
    static const char head[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        "<guss xmlns=\"uri:3gpp-gba\"><ussList>"
        "<uss id=\"1\" type=\"1\" nafGroup=\"kms\"><uids>";
    static const char tail[] = "</uids></uss></ussList></guss>";
    if (cap == 0)
        MK_FAIL(MK_E_NOSPACE, "USS buffer");
    mk_buf_init(&b, (uint8_t *)out, cap - 1);
    MK_GUARD(mk_buf_put(&b, head, sizeof head - 1));
    for (size_t i = 0; i < g->n_impu && i < MK_IMPU_MAX; i++) {
        MK_GUARD(mk_buf_put(&b, "<uid>", 5));
        for (const char *p = g->impu[i]; *p != '\0'; p++) {
            const char *ent = NULL;
            for (size_t k = 0; k < sizeof entities / sizeof entities[0]; k++)
                if (*p == entities[k].ch)
                    ent = entities[k].ent;
            if (ent != NULL)
                MK_GUARD(mk_buf_put(&b, ent, strlen(ent)));
            else
                MK_GUARD(mk_buf_u8(&b, (uint8_t)*p));
        }
        MK_GUARD(mk_buf_put(&b, "</uid>", 6));
    }
    MK_GUARD(mk_buf_put(&b, tail, sizeof tail - 1));
    out[b.n] = '\0';
    *len = b.n;
    return MK_OK;
}

/* --- the subscriber of a B-TID ----------------------------------------- */

mk_err mk_gba_subscriber(mk_bytes btid, const mk_gba_info *g,
                         const mk_policy *policy, mk_subscriber *out)
{
    mk_subscriber_wipe(out);
    if (btid.n == 0 || btid.n > MK_PSK_ID_MAX)
        MK_FAIL(MK_E_ARG, "B-TID length");
    if (g->ks_naf.n != MK_GBA_KEY_LEN)
        MK_FAIL(MK_E_ARG, "Ks_NAF is 32 bytes");
    memcpy(out->psk_id, btid.p, btid.n);
    out->psk_id_len = btid.n;
    MK_GUARD(mk_key_copy(&out->psk, mk_key_bytes(&g->ks_naf)));
    for (size_t i = 0; i < g->n_impu && i < MK_IMPU_MAX; i++)
        snprintf(out->impu[i], sizeof out->impu[i], "%s", g->impu[i]);
    out->n_impu = g->n_impu < MK_IMPU_MAX ? g->n_impu : MK_IMPU_MAX;
    out->active = true;
    if (policy != NULL)
        out->policy = *policy;
    return MK_OK;
}
