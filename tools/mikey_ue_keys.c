/* mikey_ue_keys.c - what mikey-ue prints of keys: a key set and a
 * session (name=hex lines or JSON), srtp-keys (SRTP master key and salt
 * per crypto session, RFC 6043 §5.1.3) and gba-key (Ks_NAF, TS 33.220
 * B.3); mikey_ue_cli.h. */
#include <stdio.h>
#include <string.h>

#include "codec/mikey.h"
#include "mikey_ue_cli.h"

/* ------------------------------------------------------------------ */
/* Printing keys */

void cli_print_key_set(ue_out *o, const mk_key_set *ks, size_t first,
                       bool mpkr)
{
    char name[32];
    ue_out_hex(o, "mpki", mk_key_bytes(&ks->e[0].key));
    if (mpkr)
        ue_out_hex(o, "mpkr", mk_key_bytes(&ks->e[1].key));
    for (size_t i = first; i < ks->count; i++) {
        const mk_key_entry *e = &ks->e[i];
        size_t k = i - first + 1;
        snprintf(name, sizeof name, "key%zu_type", k);
        ue_out_str(o, name, mk_name_key_type(e->type));
        snprintf(name, sizeof name, "key%zu", k);
        ue_out_hex(o, name, mk_key_bytes(&e->key));
        if (e->salt.n) {
            snprintf(name, sizeof name, "key%zu_salt", k);
            ue_out_hex(o, name, mk_key_bytes(&e->salt));
        }
        if (e->kv == MK_KV_SPI) {
            snprintf(name, sizeof name, "key%zu_spi", k);
            ue_out_hex(o, name, MK_BYTES(e->spi, e->spi_len));
        }
    }
}

void cli_print_session(ue_out *o, const mk_ue_session *s)
{
    char f[16];
    ue_flags_text(s->flags, f);
    ue_out_str(o, "flags", f);
    {
        uint8_t csb[4] = {(uint8_t)(s->csb_id >> 24), (uint8_t)(s->csb_id >> 16),
                          (uint8_t)(s->csb_id >> 8), (uint8_t)s->csb_id};
        ue_out_hex(o, "csb_id", MK_BYTES(csb, 4));
    }
    ue_out_hex(o, "randri", MK_BYTES(s->randri, s->randri_len));
    if (s->randrr_len)
        ue_out_hex(o, "randrr", MK_BYTES(s->randrr, s->randrr_len));
    if (s->forked) {
        char id[MK_UE_ID_MAX + 1];
        memcpy(id, s->idrr, s->idrr_len);
        id[s->idrr_len] = '\0';
        ue_out_str(o, "idrr", id);
        ue_out_hex(o, "randrkms", MK_BYTES(s->randrkms, s->randrkms_len));
    }
    cli_print_key_set(o, &s->keys, s->first_key, s->forked);
}

static int print_srtp(cli *c, const mk_ue_session *s)
{
    char name[32];
    size_t printed = 0;
    for (size_t i = 0; i < s->n_cs; i++) {
        mk_ue_srtp k;
        uint8_t id = s->cs[i].cs_id;
        mk_err e;
        if (c->cs_id && c->cs_id != id)
            continue;
        e = c->has_key_index
                ? mk_ue_srtp_keys_from(s, (size_t)c->key_index, id, &k)
                : mk_ue_srtp_keys(s, id, &k);
        if (e != MK_OK)
            return cli_fail(c, e, NULL);
#define NAME(suffix) (snprintf(name, sizeof name, "cs%u_%s", id, suffix), name)
        if (s->cs[i].has_ssrc) {
            uint8_t b[4] = {(uint8_t)(s->cs[i].ssrc >> 24),
                            (uint8_t)(s->cs[i].ssrc >> 16),
                            (uint8_t)(s->cs[i].ssrc >> 8),
                            (uint8_t)s->cs[i].ssrc};
            ue_out_hex(&c->out, NAME("ssrc"), MK_BYTES(b, 4));
        }
        ue_out_str(&c->out, NAME("key_type"), mk_name_key_type(k.key_type));
        ue_out_uint(&c->out, NAME("key_index"), k.key_index);
        ue_out_hex(&c->out, NAME("master_key"), mk_key_bytes(&k.master_key));
        ue_out_hex(&c->out, NAME("master_salt"), mk_key_bytes(&k.master_salt));
        if (k.mki_len)
            ue_out_hex(&c->out, NAME("mki"), MK_BYTES(k.mki, k.mki_len));
#undef NAME
        mk_ue_srtp_wipe(&k);
        printed++;
    }
    if (printed == 0) {
        fprintf(stderr, PROG ": %s: no crypto session %u\n", c->cmd,
                (unsigned)c->cs_id);
        return 1;
    }
    ue_out_end(&c->out);
    return 0;
}

int cmd_srtp_keys(cli *c)
{
    static ue_msg ti, ri, rr, tr;
    static mk_ue_session s;
    int rc;
    cli_need(c,
             CREDS | BIT(O_IN) | BIT(O_REQUEST) | BIT(O_REQUEST_RESP) |
                 BIT(O_RESOLVE_INIT) | BIT(O_RESOLVE_RESP) | BIT(O_CS_ID) |
                 BIT(O_KEY_INDEX),
             BIT(O_TRANSFER_INIT));
    cli_need_creds(c);
    if (c->request || c->request_resp) { /* the Initiator */
        if (!c->request || !c->request_resp || c->resolve_init ||
            c->resolve_resp)
            cli_die_usage("srtp-keys: the Initiator gives --request and "
                          "--request-resp, the Responder --resolve-init and "
                          "--resolve-resp");
        rc = cli_initiator_session(c, &s);
    } else {
        mk_ue_creds cr;
        if (!c->resolve_init || !c->resolve_resp)
            cli_die_usage("srtp-keys: the Responder gives --resolve-init and "
                          "--resolve-resp");
        cli_creds_of(c, &cr);
        TRY(cli_opt_msg(c->transfer_init,
                        "--transfer-init is not a base64 message", &ti));
        TRY(cli_opt_msg(c->resolve_init,
                        "--resolve-init is not a base64 message", &ri));
        TRY(cli_opt_msg(c->resolve_resp,
                        "--resolve-resp is not a base64 message", &rr));
        TRY(cli_main_msg(c, &tr));
        rc = cli_session_of(c, &cr, &ti, &ri, &rr, &s);
        if (rc == 0) {
            mk_err e = mk_ue_session_take_transfer_resp(&s, ue_msg_bytes(&ti),
                                                        ue_msg_bytes(&tr));
            if (e != MK_OK)
                rc = cli_fail(c, e, NULL);
        }
    }
    if (rc == 0)
        rc = print_srtp(c, &s);
    mk_ue_session_wipe(&s);
    return rc;
}

/* Ks_NAF (TS 33.220 B.3) of a bootstrapping, for a NAF FQDN. */
int cmd_gba_key(cli *c)
{
    uint8_t naf[MK_GBA_NAF_ID_MAX], out[MK_GBA_KEY_LEN];
    size_t naf_n = 0;
    cli_need(c, BIT(O_KS) | BIT(O_RAND) | BIT(O_IMPI) | NAF,
             BIT(O_KS) | BIT(O_RAND) | BIT(O_IMPI) | BIT(O_NAF_FQDN));
    if (mk_gba_naf_id(c->naf_fqdn, c->ua_id, naf, sizeof naf, &naf_n) !=
        MK_OK)
        cli_die_usage("--naf-fqdn '%s' is not a host name", c->naf_fqdn);
    TRY(mk_gba_ks_naf(MK_BYTES(c->ks, sizeof c->ks),
                      MK_BYTES(c->gba_rand, sizeof c->gba_rand),
                      cli_str(c->impi), MK_BYTES(naf, naf_n), out));
    for (size_t i = 0; i < sizeof out; i++)
        printf("%02x", out[i]);
    putchar('\n');
    mk_wipe(out, sizeof out);
    mk_wipe(c->ks, sizeof c->ks);
    return 0;
}
