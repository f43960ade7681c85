/* bench_decode - decoding speed of a REQUEST_RESP-sized message (359 bytes:
 * HDR, T, IDRkms, TICKET with TP Data and base-ticket Ticket Data, KEMAC,
 * V), the answer a KMS builds and an Initiator parses; the message decoder
 * validates the nested TP Data and Ticket Data on the way.
 *
 *   bench_decode [N]        N decodes (default 5000000), prints messages/s
 *   bench_decode --full [N] also decode TP Data and Ticket Data into chains,
 *                           as the KMS/UE then do
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/mikey.h"
#include "util/hex.h"

/* tests/test_codec_samples.c "request_resp" */
static const char request_resp_hex[] =
    "010d05000000abcd00010e00e7d4a5b000000002110301000f6b6d732e6578616d706c65"
    "2e6f72670100010101017760005d0e0e0301000f6b6d732e6578616d706c652e6f72670d"
    "010100157369703a616c696365406578616d706c652e636f6d0d0200e7d4a5b000000000"
    "0e0300e7d4b3c00000000000020100137369703a626f62406578616d706c652e636f6d00"
    "7f0500036d6b310b00e7d4a5b0000000010110040b121920272e353c434a51585f666d0e"
    "01002c61686f767d848b9299a0a7aeb5bcc3cad1d8dfe6edf4fb020910171e252c333a41"
    "484f565d646b727980878e00090402000574706b2d31000271787f868d949ba2a9b0b7be"
    "c5ccd3dae1e8eff6fd040b121920272e353c434a00000901003a81888f969da4abb2b9c0"
    "c7ced5dce3eaf1f8ff060d141b222930373e454c535a61686f767d848b9299a0a7aeb5bc"
    "c3cad1d8dfe6edf4fb02091000000191989fa6adb4bbc2c9d0d7dee5ecf3fa01080f16";


static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    static uint8_t msg[512];
    static mk_message m;
    static mk_chain tpd, td;
    mk_thdr th;
    int full = 0;
    long n = 5000000;
    volatile size_t sink = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--full") == 0)
            full = 1;
        else
            n = atol(argv[i]);
    }
    if (n <= 0) {
        fputs("usage: bench_decode [--full] [N]\n", stderr);
        return 2;
    }
    size_t len = 0;
    if (mk_hex_decode(request_resp_hex, strlen(request_resp_hex), msg,
                      sizeof msg, &len) != MK_OK ||
        mk_message_decode(MK_BYTES(msg, len), &m) != MK_OK || m.chain.count != 5) {
        fputs("bench_decode: the sample does not decode\n", stderr);
        return 1;
    }
    int ti = mk_chain_find(&m.chain, MK_PT_TICKET, 0);

    double t0 = now();
    for (long i = 0; i < n; i++) {
        if (mk_message_decode(MK_BYTES(msg, len), &m) != MK_OK)
            return 1;
        sink += m.chain.count;
        if (full) {
            const mk_tp *tp = &m.chain.p[ti].u.tp;
            if (mk_tp_data_decode(tp->tp_data, &tpd) != MK_OK ||
                mk_base_ticket_decode(tp->ticket_data, &th, &td) != MK_OK)
                return 1;
            sink += tpd.count + td.count;
        }
    }
    double dt = now() - t0;
    printf("decoded %ld messages of %zu bytes%s in %.3f s: %.0f messages/s (%.1f ns each)\n",
           n, len, full ? " (+ TP Data and Ticket Data chains)" : "", dt,
           (double)n / dt, dt * 1e9 / (double)n);
    return sink == 0;
}
