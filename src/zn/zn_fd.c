/* zn_fd.c - freeDiameter core, Zn dictionary and AVP helpers (zn_fd.h).
 * The dictionary calls follow freeDiameter's own dictionary extensions
 * (fd_dict_new per object, base AVPs found by name). */
#include "zn/zn_fd.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <unistd.h>

#include "fcgi/kmsd_log.h"

mk_zn_dict mk_zn;

/* freeDiameter's log handler (fd_log_handler_register): its format is
 * freeDiameter's own */
static void fd_logger(int level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void fd_logger(int level, const char *fmt, va_list ap)
{
    char line[1024];
    if (level < fd_g_debug_lvl)
        return;
    int n = vsnprintf(line, sizeof line, fmt, ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line) /* said, not cut silently */
        memcpy(line + sizeof line - 4, "...", 4);
    /* freeDiameter dumps a message it discards AVP by AVP: a dumped value
     * may be ME-Key-Material (Ks_NAF). Those lines never reach our log. */
    if (strstr(line, "val=") != NULL)
        return;
    /* its stop is announced at level fatal: ours, not an error */
    if (strncmp(line, "Initiating freeDiameter shutdown", 32) == 0)
        level = FD_LOG_NOTICE;
    kmsd_log(level >= FD_LOG_ERROR ? MK_LOG_ERROR : MK_LOG_INFO,
             "diameter: %s", line);
}

static int find_base(const char *name, struct dict_object **out)
{
    return fd_dict_search(fd_g_config->cnf_dict, DICT_AVP, AVP_BY_NAME, name,
                          out, ENOENT);
}

static int new_avp(uint32_t code, const char *name, struct dict_object **out)
{
    struct dict_avp_data d = {
        .avp_code = code,
        .avp_vendor = MK_ZN_VENDOR_3GPP,
        .avp_name = (char *)name,
        .avp_flag_mask = AVP_FLAG_VENDOR | AVP_FLAG_MANDATORY,
        .avp_flag_val = AVP_FLAG_VENDOR | AVP_FLAG_MANDATORY,
        .avp_basetype = AVP_TYPE_OCTETSTRING,
    };
    return fd_dict_new(fd_g_config->cnf_dict, DICT_AVP, &d, NULL, out);
}

static int dict_init(void)
{
    struct dictionary *dict = fd_g_config->cnf_dict;
    vendor_id_t vid = MK_ZN_VENDOR_3GPP;
    int r;
    /* an extension may have defined 3GPP already */
    if (fd_dict_search(dict, DICT_VENDOR, VENDOR_BY_ID, &vid, &mk_zn.vendor,
                       ENOENT) != 0) {
        struct dict_vendor_data v = {MK_ZN_VENDOR_3GPP, (char *)"3GPP"};
        if ((r = fd_dict_new(dict, DICT_VENDOR, &v, NULL, &mk_zn.vendor)) != 0)
            return r;
    }
    struct dict_application_data a = {MK_ZN_APP_ID, (char *)"Zn"};
    if ((r = fd_dict_new(dict, DICT_APPLICATION, &a, mk_zn.vendor,
                         &mk_zn.app)) != 0)
        return r;
    struct dict_cmd_data c = {
        .cmd_code = MK_ZN_CMD_BI,
        .cmd_name = (char *)"Bootstrapping-Info-Request",
        .cmd_flag_mask = CMD_FLAG_PROXIABLE | CMD_FLAG_REQUEST,
        .cmd_flag_val = CMD_FLAG_PROXIABLE | CMD_FLAG_REQUEST,
    };
    if ((r = fd_dict_new(dict, DICT_COMMAND, &c, mk_zn.app, &mk_zn.bir)) != 0)
        return r;
    c.cmd_name = (char *)"Bootstrapping-Info-Answer";
    c.cmd_flag_val = CMD_FLAG_PROXIABLE;
    if ((r = fd_dict_new(dict, DICT_COMMAND, &c, mk_zn.app, &mk_zn.bia)) != 0)
        return r;
    if ((r = new_avp(MK_ZN_AVP_USS, "GBA-UserSecSettings", &mk_zn.uss)) ||
        (r = new_avp(MK_ZN_AVP_TRANSACTION_ID, "Transaction-Identifier",
                     &mk_zn.tid)) ||
        (r = new_avp(MK_ZN_AVP_NAF_ID, "NAF-Id", &mk_zn.naf_id)) ||
        (r = new_avp(MK_ZN_AVP_KEY_EXPIRY, "Key-ExpiryTime",
                     &mk_zn.key_expiry)) ||
        (r = new_avp(MK_ZN_AVP_ME_KEY, "ME-Key-Material", &mk_zn.me_key)) ||
        (r = new_avp(MK_ZN_AVP_CREATION_TIME, "BootstrapInfoCreationTime",
                     &mk_zn.created)))
        return r;
    if ((r = find_base("User-Name", &mk_zn.user_name)) ||
        (r = find_base("Vendor-Specific-Application-Id", &mk_zn.vsai)) ||
        (r = find_base("Vendor-Id", &mk_zn.vendor_id)) ||
        (r = find_base("Auth-Application-Id", &mk_zn.auth_app_id)) ||
        (r = find_base("Destination-Host", &mk_zn.dest_host)) ||
        (r = find_base("Destination-Realm", &mk_zn.dest_realm)) ||
        (r = find_base("Result-Code", &mk_zn.result_code)) ||
        (r = find_base("Experimental-Result", &mk_zn.exp_result)) ||
        (r = find_base("Experimental-Result-Code", &mk_zn.exp_result_code)))
        return r;
    return 0;
}

int mk_zn_fd_start(const char *conf, bool verbose, int (*before_start)(void))
{
    int r;
    fd_g_debug_lvl = verbose ? FD_LOG_NOTICE : FD_LOG_ERROR;
    if ((r = fd_log_handler_register(fd_logger)) != 0 ||
        (r = fd_core_initialize()) != 0) {
        kmsd_log(MK_LOG_ERROR, "freeDiameter: cannot initialise (%d)", r);
        return r ? r : EINVAL;
    }
    if ((r = fd_core_parseconf(conf)) != 0) {
        kmsd_log(MK_LOG_ERROR, "freeDiameter: configuration %s refused (%s)",
                 conf, strerror(r));
        goto fail;
    }
    if ((r = dict_init()) != 0) {
        kmsd_log(MK_LOG_ERROR, "freeDiameter: Zn dictionary (%s)",
                 strerror(r));
        goto fail;
    }
    /* the CER lists Zn: peers route BIRs only to peers that support it */
    if ((r = fd_disp_app_support(mk_zn.app, mk_zn.vendor, 1, 0)) != 0 ||
        (before_start != NULL && (r = before_start()) != 0) ||
        (r = fd_core_start()) != 0) {
        kmsd_log(MK_LOG_ERROR, "freeDiameter: cannot start (%s)",
                 strerror(r));
        goto fail;
    }
    return 0;
fail:
    fd_core_shutdown();
    fd_core_wait_shutdown_complete();
    return r;
}

static volatile sig_atomic_t stopping;

static void on_abort(int sig)
{
    static const char line[] = "freeDiameter teardown assertion: exiting\n";
    if (stopping) {
        ssize_t w = write(2, line, sizeof line - 1);
        (void)w;
        _exit(0);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

void mk_zn_fd_stop(void)
{
    /* freeDiameter 1.2's teardown gives the threads blocked on its queues
     * 20 ms to leave, then asserts (libfdproto fifo.c, fd_fifo_del): on a
     * loaded machine a clean stop can end in abort(). Once we stop (the
     * peers have been sent their DPR first), such an abort ends the
     * process as the stop would have. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_abort;
    stopping = 1;
    sigaction(SIGABRT, &sa, NULL);
    fd_core_shutdown();
    fd_core_wait_shutdown_complete();
}

/* A new AVP of model m with value v (copied), last child of parent. */
static int add_value(void *parent, struct dict_object *m, union avp_value *v)
{
    struct avp *a = NULL;
    int r;
    if ((r = fd_msg_avp_new(m, 0, &a)) != 0)
        return r;
    if ((r = fd_msg_avp_setvalue(a, v)) != 0 ||
        (r = fd_msg_avp_add(parent, MSG_BRW_LAST_CHILD, a)) != 0) {
        fd_msg_free(a);
        return r;
    }
    return 0;
}

int mk_zn_add_os(void *parent, struct dict_object *m, const void *p,
                 size_t n)
{
    union avp_value v;
    memset(&v, 0, sizeof v);
    v.os.data = (uint8_t *)p; /* copied by fd_msg_avp_setvalue */
    v.os.len = n;
    return add_value(parent, m, &v);
}

int mk_zn_add_u32(void *parent, struct dict_object *m, uint32_t u)
{
    union avp_value v;
    memset(&v, 0, sizeof v);
    v.u32 = u;
    return add_value(parent, m, &v);
}

int mk_zn_add_3gpp_group(void *parent, struct dict_object *group,
                         struct dict_object *inner, uint32_t v)
{
    struct avp *g = NULL;
    int r;
    if ((r = fd_msg_avp_new(group, 0, &g)) != 0)
        return r;
    if ((r = mk_zn_add_u32(g, mk_zn.vendor_id, MK_ZN_VENDOR_3GPP)) != 0 ||
        (r = mk_zn_add_u32(g, inner, v)) != 0 ||
        (r = fd_msg_avp_add(parent, MSG_BRW_LAST_CHILD, g)) != 0) {
        fd_msg_free(g);
        return r;
    }
    return 0;
}

int mk_zn_add_vsai(struct msg *m)
{
    return mk_zn_add_3gpp_group(m, mk_zn.vsai, mk_zn.auth_app_id,
                                MK_ZN_APP_ID);
}

struct avp *mk_zn_find(void *parent, uint32_t code, uint32_t vendor,
                       union avp_value **val)
{
    struct avp *a = NULL;
    struct avp_hdr *h = NULL;
    if (val != NULL)
        *val = NULL;
    if (fd_msg_browse(parent, MSG_BRW_FIRST_CHILD, &a, NULL) != 0)
        return NULL;
    for (; a != NULL;) {
        if (fd_msg_avp_hdr(a, &h) == 0 && h->avp_code == code &&
            ((h->avp_flags & AVP_FLAG_VENDOR) ? h->avp_vendor : 0) == vendor) {
            if (val != NULL)
                *val = h->avp_value;
            return a;
        }
        if (fd_msg_browse(a, MSG_BRW_NEXT, &a, NULL) != 0)
            return NULL;
    }
    return NULL;
}
