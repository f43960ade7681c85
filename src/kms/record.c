/* record.c - the audit record of every answer to an authenticated message
 * (profile §8, §9.39): time, request type, subscriber, IDRi / the list of
 * IDRr, ticket id (SHA-256 of Ticket Data), granted validity, SPIs,
 * outcome. Never key material. Text that does not fit its field ends in
 * "..." (no silent truncation); bytes that are not printable ASCII are
 * written as '?'. The record is committed together with the message's
 * replay-cache entry (replay.c), one store transaction per answer. */
#include "kms/context.h"

#include <stdio.h>
#include <string.h>

static const char hexd[] = "0123456789abcdef";

void mk_record_set_str(char *dst, size_t cap, mk_bytes src)
{
    size_t n = 0;
    if (cap == 0)
        return;
    for (size_t i = 0; i < src.n; i++) {
        if (n + 1 >= cap) {
            if (cap >= 4)
                memcpy(dst + cap - 4, "...", 3);
            n = cap - 1;
            break;
        }
        uint8_t c = src.p[i];
        dst[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    dst[n] = '\0';
}

static void subscriber_text(mk_record *rec, const mk_subscriber *s)
{
    bool printable = s->psk_id_len > 0;
    size_t n = s->psk_id_len < MK_PSK_ID_MAX ? s->psk_id_len : MK_PSK_ID_MAX;
    for (size_t i = 0; i < n; i++)
        if (s->psk_id[i] < 0x21 || s->psk_id[i] > 0x7e)
            printable = false;
    if (printable) {
        memcpy(rec->subscriber, s->psk_id, n);
        rec->subscriber[n] = '\0';
        return;
    }
    for (size_t i = 0; i < n; i++) {
        rec->subscriber[2 * i] = hexd[s->psk_id[i] >> 4];
        rec->subscriber[2 * i + 1] = hexd[s->psk_id[i] & 15];
    }
    rec->subscriber[2 * n] = '\0';
}

static mk_err add_responder(mk_record *rec, mk_bytes id)
{
    char *d = rec->responder;
    size_t cap = sizeof rec->responder, n = strlen(d);
    if (n == 0) {
        memcpy(d, "[]", 3);
        n = 2;
    }
    /* ,"id"] and the NUL; sized for MK_RECORD_RESPONDERS of MK_URI_MAX - 1
     * characters, which the check stage enforces (policy_check.c) */
    if (id.n >= MK_URI_MAX || n + 1 + id.n + 2 + 1 + 1 > cap)
        MK_FAIL(MK_E_INTERNAL, "record responder list full");
    n--; /* over the closing ] */
    if (n > 1)
        d[n++] = ',';
    d[n++] = '"';
    for (size_t i = 0; i < id.n; i++) {
        uint8_t c = id.p[i];
        /* validated URIs hold neither; anything else stays JSON */
        d[n++] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
                     ? (char)c
                     : '?';
    }
    memcpy(d + n, "\"]", 3);
    return MK_OK;
}

mk_err mk_record_add_responder(mk_kms_req *r, mk_bytes id)
{
    return add_responder(&r->rec, id);
}

void mk_record_spis(mk_kms_req *r, const mk_key_set *ks, size_t first)
{
    char *d = r->rec.spis;
    size_t cap = sizeof r->rec.spis, n = strlen(d);
    for (size_t i = first; i < ks->count; i++) {
        const mk_key_entry *e = &ks->e[i];
        if (e->kv != MK_KV_SPI)
            continue;
        size_t need = (n ? 1 : 0) + 2 * e->spi_len;
        if (n + need + 4 >= cap) { /* keep room for ",..." */
            memcpy(d + n, ",...", 5);
            return;
        }
        if (n)
            d[n++] = ',';
        for (size_t j = 0; j < e->spi_len; j++) {
            d[n++] = hexd[e->spi[j] >> 4];
            d[n++] = hexd[e->spi[j] & 15];
        }
        d[n] = '\0';
    }
}

/* The fields every record has, into rec: time, request type, subscriber,
 * the sender's identity where the service left it empty, the ticket id
 * when `ticket` and known, and the outcome. */
static void fill_common(const mk_kms_req *r, mk_record *rec, bool ticket,
                        const char *outcome)
{
    rec->time_unix = r->now_unix;
    rec->service = (int)r->service;
    if (r->have_sub)
        subscriber_text(rec, &r->sub);
    if (r->identity.n > 0 && r->service == MK_SERVICE_TICKET_REQUEST &&
        rec->initiator[0] == '\0')
        mk_record_set_str(rec->initiator, sizeof rec->initiator, r->identity);
    if (r->identity.n > 0 && r->service == MK_SERVICE_TICKET_RESOLVE &&
        rec->responder[0] == '\0' && add_responder(rec, r->identity) != MK_OK)
        rec->responder[0] = '\0'; /* an Identity_r over the bound */
    if (rec->responder[0] == '\0')
        memcpy(rec->responder, "[]", 3);
    if (ticket && r->have_ticket_id) {
        for (size_t i = 0; i < 32; i++) {
            rec->ticket_id[2 * i] = hexd[r->ticket_id[i] >> 4];
            rec->ticket_id[2 * i + 1] = hexd[r->ticket_id[i] & 15];
        }
        rec->ticket_id[64] = '\0';
    }
    snprintf(rec->outcome, sizeof rec->outcome, "%s", outcome);
}

mk_err mk_record_commit(mk_kms_req *r, mk_err e)
{
    mk_record *rec = &r->rec;
    mk_kms_store *st = r->kms->store;
    mk_answer_write w = {.now_unix = r->now_unix};

    /* Only a message whose V verified leaves a record (doc/profile.md
     * §9.39): anyone can send the others, with any identity in them. The
     * commit still checks the rows the refusal was computed on (a PSK
     * from a stale cache), and writes nothing. */
    if (!r->authenticated) {
        mk_err c = st->answer_commit(st->ctx, &w);
        return c == MK_E_MIKEY_TS ? mk_err_raise(MK_E_INTERNAL, -1, 0,
                                                 "store reported a replay "
                                                 "without an entry")
                                  : c;
    }
    fill_common(r, rec, true, e == MK_OK ? "ok" : mk_err_name(e));
    w.record = rec;
    /* Every answer to a message whose V verified takes its replay entry,
     * a 503 too: no authenticated message is processed twice (doc/
     * profile.md §9.36). A UE told 503 sends a new message. Should a
     * copy have taken the entry first, the answer becomes Error 1 (RFC
     * 3830 §5.4), recorded by the same commit: the record of the message
     * alone, nothing of the answer that does not leave. */
    mk_record replayed;
    if (r->have_replay) {
        memset(&replayed, 0, sizeof replayed);
        fill_common(r, &replayed, false, mk_err_name(MK_E_MIKEY_TS));
        w.digest = r->replay_digest;
        w.expires_unix = r->replay_expires;
        w.replayed = &replayed;
    }
    /* A resolve of a J = 0 ticket that got keys notes the ticket in the
     * same commit (doc/profile.md §9.37); should the store refuse the
     * note, it records this refusal instead: the answer without its SPIs
     * (no keys leave) and with the outcome of a 403. */
    mk_record refused;
    mk_resolve_note note;
    if (e == MK_OK && r->note_reuse && r->have_ticket_id) {
        refused = *rec;
        refused.spis[0] = '\0';
        snprintf(refused.outcome, sizeof refused.outcome, "%s",
                 mk_err_name(MK_E_POLICY));
        note = (mk_resolve_note){.ticket_id = r->ticket_id,
                                 .responder = r->identity,
                                 .expires_unix = r->note_expires,
                                 .grace_seconds =
                                     r->kms->cfg.reuse_grace_seconds,
                                 .refused = &refused};
        w.note = &note;
    }
    mk_err c = st->answer_commit(st->ctx, &w);
    if ((c == MK_E_MIKEY_TS && w.digest == NULL) ||
        (c == MK_E_POLICY && w.note == NULL)) /* a store out of contract */
        return mk_err_raise(MK_E_INTERNAL, -1, 0,
                            "store refused what it was not given");
    return c;
}
