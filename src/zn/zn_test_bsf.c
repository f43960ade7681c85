/* zn-test-bsf - a BSF for tests and the quick start: a Diameter server on
 * freeDiameter that answers Bootstrapping-Info-Requests (TS 29.109 §6.1)
 * from a provisioning file. Not a BSF: it does no bootstrapping (Ub); the
 * file says what a bootstrapping left behind.
 *
 *   zn-test-bsf --diameter-conf FILE --provision FILE [--delay-ms MS]
 *               [--refuse] [--verbose]
 *
 * Provisioning file, one bootstrapping per line ('#' starts a comment):
 *
 *   B-TID IMPI KS_HEX EXPIRES_UNIX IMPU[,IMPU...] [RESULT]
 *
 * RAND is the base64 part of the B-TID, Ks 64 hex digits (CK || IK). The
 * answer to a BIR for that B-TID is Ks_NAF = KDF(Ks, "gba-me", RAND,
 * IMPI, NAF-Id as the request carries it) (TS 33.220 B.3) with the IMPI,
 * Key-ExpiryTime, BootstrapInfoCreationTime (the file's time) and a USS
 * listing the IMPUs; an unknown B-TID gets Experimental-Result 5401, an
 * expired one 5403, and RESULT (5401, 5402 or 5403) forces that answer.
 * The file is read again whenever it changes.
 *
 * Switches for the failure tests: --delay-ms holds every answer that long
 * (the KMS's Zn timeout makes it a 504); --refuse rejects every peer's
 * capabilities exchange (no Diameter connection: 503). SIGUSR1 toggles the
 * delay on and off at run time. One log line per BIR.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "zn/zn_fd.h"

#include "crypto/crypto.h"
#include "fcgi/kmsd_log.h"
#include "gba/gba.h"
#include "util/hex.h"
#include "util/ntp.h"

#define PROG "zn-test-bsf"
#define ROWS_MAX 1024
#define LINE_MAX_LEN 4096

typedef struct row {
    char btid[MK_GBA_BTID_MAX + 1];
    char impi[MK_GBA_IMPI_MAX + 1];
    uint8_t ks[MK_GBA_KEY_LEN];
    uint64_t expires;
    char impus[MK_IMPU_MAX][MK_URI_MAX];
    size_t n_impu;
    uint32_t result; /* 0 or a forced Experimental-Result-Code */
} row;

static const char *prov_path;
static pthread_mutex_t prov_mu = PTHREAD_MUTEX_INITIALIZER;
static row *rows;
static size_t n_rows;
static struct timespec prov_mtime;
static off_t prov_size = -1;
static atomic_int delay_ms, delay_on;
static atomic_bool refuse;

/* One line into r; false (logged) when it is malformed. */
static bool parse_row(char *line, size_t lineno, row *r)
{
    char *f[7];
    size_t n = 0;
    uint8_t rand[MK_GBA_RAND_LEN];
    for (char *save = NULL, *t = strtok_r(line, " \t\r\n", &save);
         t != NULL && n < 7; t = strtok_r(NULL, " \t\r\n", &save))
        f[n++] = t;
    memset(r, 0, sizeof *r);
    if (n < 5 || n > 6 || strlen(f[0]) > MK_GBA_BTID_MAX ||
        !mk_gba_btid_parse(MK_BYTES(f[0], strlen(f[0])), rand, NULL) ||
        strlen(f[1]) > MK_GBA_IMPI_MAX || strlen(f[2]) != 2 * MK_GBA_KEY_LEN)
        goto bad;
    snprintf(r->btid, sizeof r->btid, "%s", f[0]);
    snprintf(r->impi, sizeof r->impi, "%s", f[1]);
    size_t kn = 0;
    if (mk_hex_decode(f[2], strlen(f[2]), r->ks, sizeof r->ks, &kn) != MK_OK)
        goto bad;
    char *end = NULL;
    r->expires = strtoull(f[3], &end, 10);
    if (end == f[3] || *end != '\0')
        goto bad;
    for (char *save = NULL, *t = strtok_r(f[4], ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save)) {
        if (r->n_impu == MK_IMPU_MAX || strlen(t) >= MK_URI_MAX)
            goto bad;
        snprintf(r->impus[r->n_impu++], MK_URI_MAX, "%s", t);
    }
    if (n == 6) {
        r->result = (uint32_t)strtoul(f[5], &end, 10);
        if (*end != '\0' || (r->result != MK_ZN_IMPI_UNKNOWN &&
                             r->result != MK_ZN_NOT_AUTHORIZED &&
                             r->result != MK_ZN_TID_INVALID))
            goto bad;
    }
    return true;
bad:
    kmsd_log(MK_LOG_ERROR, "%s:%zu: not 'B-TID IMPI KS_HEX EXPIRES_UNIX "
             "IMPU[,IMPU...] [5401|5402|5403]'", prov_path, lineno);
    mk_wipe(r, sizeof *r);
    return false;
}

/* Read the file again when it changed; prov_mu held. */
static void reload(void)
{
    struct stat st;
    if (stat(prov_path, &st) != 0) {
        kmsd_log(MK_LOG_ERROR, "%s: %s", prov_path, strerror(errno));
        return;
    }
    if (st.st_size == prov_size && st.st_mtim.tv_sec == prov_mtime.tv_sec &&
        st.st_mtim.tv_nsec == prov_mtime.tv_nsec)
        return;
    FILE *fp = fopen(prov_path, "r");
    if (fp == NULL)
        return;
    char line[LINE_MAX_LEN];
    size_t lineno = 0, n = 0;
    while (fgets(line, sizeof line, fp) != NULL && n < ROWS_MAX) {
        lineno++;
        char *p = line + strspn(line, " \t");
        if (*p == '#' || *p == '\n' || *p == '\0')
            continue;
        if (parse_row(p, lineno, &rows[n]))
            n++;
    }
    mk_wipe(line, sizeof line);
    fclose(fp);
    for (size_t i = n; i < n_rows; i++)
        mk_wipe(&rows[i], sizeof rows[i]);
    n_rows = n;
    prov_size = st.st_size;
    prov_mtime = st.st_mtim;
    kmsd_log(MK_LOG_INFO, "%s: %zu bootstrapping%s", prov_path, n,
             n == 1 ? "" : "s");
}

static void put_be32(uint8_t b[4], uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

/* The answer of a found, unexpired bootstrapping. */
static int answer_ok(struct msg *ans, const row *r, const uint8_t *naf,
                     size_t naf_n, uint64_t created)
{
    uint8_t rand[MK_GBA_RAND_LEN], ks_naf[MK_GBA_KEY_LEN], t[4];
    static mk_gba_info g; /* USS writer input: IMPUs only */
    char uss[MK_GBA_USS_MAX];
    size_t uss_n = 0;
    int rc = EINVAL;
    if (!mk_gba_btid_parse(MK_BYTES(r->btid, strlen(r->btid)), rand, NULL) ||
        mk_gba_ks_naf(MK_BYTES(r->ks, sizeof r->ks), MK_BYTES(rand, sizeof rand),
                      MK_BYTES(r->impi, strlen(r->impi)),
                      MK_BYTES(naf, naf_n), ks_naf) != MK_OK)
        goto out;
    memset(&g, 0, sizeof g);
    memcpy(g.impu, r->impus, sizeof g.impu);
    g.n_impu = r->n_impu;
    if (mk_gba_uss_write(&g, uss, sizeof uss, &uss_n) != MK_OK)
        goto out;
    if ((rc = fd_msg_rescode_set(ans, (char *)"DIAMETER_SUCCESS", NULL, NULL,
                                 1)) != 0 ||
        (rc = mk_zn_add_os(ans, mk_zn.user_name, r->impi,
                           strlen(r->impi))) != 0 ||
        (rc = mk_zn_add_os(ans, mk_zn.me_key, ks_naf, sizeof ks_naf)) != 0)
        goto out;
    put_be32(t, mk_ntp32_from_unix(r->expires));
    if ((rc = mk_zn_add_os(ans, mk_zn.key_expiry, t, 4)) != 0)
        goto out;
    put_be32(t, mk_ntp32_from_unix(created));
    if ((rc = mk_zn_add_os(ans, mk_zn.created, t, 4)) != 0 ||
        (rc = mk_zn_add_os(ans, mk_zn.uss, uss, uss_n)) != 0)
        goto out;
out:
    mk_wipe(ks_naf, sizeof ks_naf);
    return rc;
}

static int answer_refused(struct msg *ans, uint32_t code)
{
    int rc;
    if ((rc = fd_msg_add_origin(ans, 0)) != 0)
        return rc;
    return mk_zn_add_3gpp_group(ans, mk_zn.exp_result, mk_zn.exp_result_code,
                                code);
}

static int on_bir(struct msg **msg, struct avp *avp, struct session *sess,
                  void *opaque, enum disp_action *act)
{
    union avp_value *tid = NULL, *naf = NULL;
    char btid[MK_GBA_BTID_MAX + 1] = "", naf_id[MK_GBA_NAF_ID_MAX + 1];
    size_t naf_n = 0;
    uint32_t result = 0;
    int rc;
    (void)avp;
    (void)sess;
    (void)opaque;
    (void)act;
    if (mk_zn_find(*msg, MK_ZN_AVP_TRANSACTION_ID, MK_ZN_VENDOR_3GPP, &tid) ==
            NULL ||
        tid == NULL || tid->os.len == 0 || tid->os.len > MK_GBA_BTID_MAX ||
        mk_zn_find(*msg, MK_ZN_AVP_NAF_ID, MK_ZN_VENDOR_3GPP, &naf) == NULL ||
        naf == NULL || naf->os.len == 0 || naf->os.len > MK_GBA_NAF_ID_MAX)
        return EINVAL; /* freeDiameter answers an error itself */
    memcpy(btid, tid->os.data, tid->os.len);
    btid[tid->os.len] = '\0';
    memcpy(naf_id, naf->os.data, naf->os.len);
    naf_n = naf->os.len;

    if ((rc = fd_msg_new_answer_from_req(fd_g_config->cnf_dict, msg, 0)) != 0)
        return rc;
    if ((rc = mk_zn_add_vsai(*msg)) != 0)
        return rc;

    pthread_mutex_lock(&prov_mu);
    reload();
    const row *r = NULL;
    for (size_t i = 0; i < n_rows && r == NULL; i++)
        if (strcmp(rows[i].btid, btid) == 0)
            r = &rows[i];
    uint64_t now = (uint64_t)time(NULL);
    if (r == NULL)
        result = MK_ZN_IMPI_UNKNOWN;
    else if (r->result != 0)
        result = r->result;
    else if (r->expires <= now)
        result = MK_ZN_TID_INVALID;
    if (result != 0)
        rc = answer_refused(*msg, result);
    else
        rc = answer_ok(*msg, r, (const uint8_t *)naf_id, naf_n,
                       (uint64_t)prov_mtime.tv_sec);
    pthread_mutex_unlock(&prov_mu);
    if (rc != 0)
        return rc;

    int d = atomic_load(&delay_on) ? atomic_load(&delay_ms) : 0;
    kmsd_log(MK_LOG_INFO, "BIR btid=%s result=%u delay_ms=%d", btid,
             result ? (unsigned)result : 2001u, d);
    if (d > 0) {
        struct timespec ts = {d / 1000, (long)(d % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    return fd_msg_send(msg, NULL, NULL);
}

/* Peers that connect to us: any, over TCP without TLS when they come so
 * (a test BSF), none with --refuse. */
static int validate(struct peer_info *info, int *auth,
                    int (**cb2)(struct peer_info *))
{
    *cb2 = NULL;
    if (atomic_load(&refuse)) {
        kmsd_log(MK_LOG_INFO, "refusing peer %s", info->pi_diamid);
        *auth = -1;
        return 0;
    }
    *auth = 1;
    if (info->runtime.pir_cert_list == NULL)
        info->config.pic_flags.sec = PI_SEC_NONE;
    return 0;
}

static struct disp_hdl *bir_hdl;

static int register_callbacks(void)
{
    struct disp_when when = {.app = mk_zn.app, .command = mk_zn.bir};
    int r = fd_peer_validate_register(validate);
    return r != 0 ? r : fd_disp_register(on_bir, DISP_HOW_CC, &when, NULL,
                                         &bir_hdl);
}

int main(int argc, char **argv)
{
    const char *dconf = NULL;
    bool verbose = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--diameter-conf") == 0 && i + 1 < argc)
            dconf = argv[++i];
        else if (strcmp(argv[i], "--provision") == 0 && i + 1 < argc)
            prov_path = argv[++i];
        else if (strcmp(argv[i], "--delay-ms") == 0 && i + 1 < argc) {
            atomic_store(&delay_ms, atoi(argv[++i]));
            atomic_store(&delay_on, 1);
        } else if (strcmp(argv[i], "--refuse") == 0)
            atomic_store(&refuse, true);
        else if (strcmp(argv[i], "--verbose") == 0)
            verbose = true;
        else {
            fprintf(stderr, "usage: " PROG " --diameter-conf FILE --provision "
                            "FILE [--delay-ms MS] [--refuse] [--verbose]\n");
            return 2;
        }
    }
    if (dconf == NULL || prov_path == NULL) {
        fprintf(stderr, PROG ": --diameter-conf and --provision are needed\n");
        return 2;
    }
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    kmsd_log_init(PROG, false, MK_LOG_INFO);
    rows = calloc(ROWS_MAX, sizeof *rows);
    if (rows == NULL)
        return 1;
    pthread_mutex_lock(&prov_mu);
    reload();
    pthread_mutex_unlock(&prov_mu);

    if (mk_zn_fd_start(dconf, verbose, register_callbacks) != 0)
        return 1;
    kmsd_log(MK_LOG_INFO, "ready (delay %d ms, %s)",
             atomic_load(&delay_on) ? atomic_load(&delay_ms) : 0,
             atomic_load(&refuse) ? "refusing peers" : "accepting peers");
    for (;;) {
        int sig = 0;
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGUSR1) {
            atomic_store(&delay_on, !atomic_load(&delay_on));
            kmsd_log(MK_LOG_INFO, "delay %s",
                     atomic_load(&delay_on) ? "on" : "off");
            continue;
        }
        break;
    }
    fd_disp_unregister(&bir_hdl, NULL);
    mk_zn_fd_stop();
    mk_wipe(rows, ROWS_MAX * sizeof *rows);
    free(rows);
    kmsd_log(MK_LOG_INFO, "stopped");
    return 0;
}
