/* fuzz_roundtrip - libFuzzer target: whatever decodes must re-encode to
 * exactly the input bytes (encode(decode(b)) == b), and decode again to an
 * equal model; the same for the nested chains. abort() on any difference.
 * Build: see am/fuzz.am. */
#include <stdlib.h>
#include <string.h>

#include "codec/mikey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mk_message m, m2;
static mk_chain c, c2;
static uint8_t out[1 << 17];

static void same(mk_bytes want, const mk_buf *b)
{
    if (b->n != want.n || (want.n && memcmp(b->p, want.p, want.n) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mk_bytes in = MK_BYTES(data, size);
    mk_buf b;
    mk_thdr th;

    if (mk_message_decode(in, &m) == MK_OK) {
        mk_buf_init(&b, out, sizeof out);
        if (mk_message_encode(&m, &b) != MK_OK)
            abort();
        same(in, &b);
        if (mk_message_decode(mk_buf_view(&b), &m2) != MK_OK ||
            !mk_message_equal(&m, &m2))
            abort();
    }
    /* TP Data / Initiator Data: a lone 0 byte is an empty chain, which
     * encodes as nothing */
    if (mk_tp_data_decode(in, &c) == MK_OK && !(size == 1 && data[0] == 0)) {
        mk_buf_init(&b, out, sizeof out);
        if (mk_tp_data_encode(&c, &b) != MK_OK)
            abort();
        same(in, &b);
    }
    if (mk_base_ticket_decode(in, &th, &c) == MK_OK) {
        mk_buf_init(&b, out, sizeof out);
        if (mk_base_ticket_encode(&th, &c, &b) != MK_OK)
            abort();
        same(in, &b);
    }
    if (mk_kemac_plain_decode(in, MK_PT_KEYDATA, &c) == MK_OK) {
        mk_buf_init(&b, out, sizeof out);
        if (mk_kemac_plain_encode(&c, &b) != MK_OK)
            abort();
        same(in, &b);
        if (mk_kemac_plain_decode(mk_buf_view(&b), MK_PT_KEYDATA, &c2) != MK_OK ||
            !mk_chain_equal(&c, &c2))
            abort();
    }
    return 0;
}
