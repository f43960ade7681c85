/* test_config.c - the KMS configuration file parser (front/config.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "front/config.h"
#include "store/node.h"
#include "lib/check_main.h"
#include "lib/tmpdir.h"
#include "store/pgstore.h"

static char dir[64];
static char path[128];

static void setup(void)
{
    mk_test_dir_make(dir, sizeof dir, "config");
    snprintf(path, sizeof path, "%s/kms.conf", dir);
}

static void teardown(void)
{
    unlink(path);
    rmdir(dir);
}

static void write_file(const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_ge(fputs(text, f), 0);
    ck_assert_int_eq(fclose(f), 0);
}

#define MINIMAL "store = /var/lib/mikeykms/kms.db\nmaster_key = /etc/k\n"

START_TEST(test_defaults)
{
    mk_config c;
    mk_config_defaults(&c);
    ck_assert_str_eq(c.kms_id, "kms.example.org");
    ck_assert_uint_eq(c.skew_window, 300);
    ck_assert_uint_eq(c.max_ticket_lifetime, 86400);
    ck_assert_uint_eq(c.default_ticket_lifetime, 3600);
    ck_assert_uint_eq(c.n_accepted_protocols, 1);
    ck_assert_str_eq(c.accepted_protocols[0], "HTTP/1.1");
    ck_assert_uint_eq(c.retry_after, 5);
    ck_assert_uint_eq(c.body_max, 65536);
    ck_assert_int_eq(c.log_level, MK_LOG_INFO);
    ck_assert_str_eq(c.mount, "/keymanagement");
    ck_assert_uint_eq(c.busy_timeout_ms, 2000);
    ck_assert(!c.has_listen);
    ck_assert_str_eq(c.node_state, ""); /* the store's own: STORE-node */
    ck_assert_uint_eq(c.replay_max, 4000000);
    ck_assert_uint_eq(c.journal_max, 1000000);
    ck_assert(!c.durable);
    ck_assert_str_eq(c.log_file, "");
    ck_assert_str_eq(c.store, "");
    ck_assert_str_eq(c.status_mount, "/kms-status");
    ck_assert_uint_eq(c.ticket_key_max_age, 30u * 86400u);
    ck_assert_uint_eq(c.rate_address.rate_milli, 0); /* no limits */
    ck_assert_uint_eq(c.rate_identity.rate_milli, 0);

    write_file(MINIMAL);
    ck_assert_int_eq(mk_config_load(path, &c), MK_OK);
    ck_assert_str_eq(c.store, "/var/lib/mikeykms/kms.db");
    ck_assert_str_eq(c.master_key, "/etc/k");
    ck_assert_uint_eq(c.skew_window, 300);
    ck_assert_str_eq(c.error, "");
    ck_assert(mk_config_protocol_ok(&c, "HTTP/1.1"));
    ck_assert(!mk_config_protocol_ok(&c, "HTTP/1.0"));
    ck_assert(!mk_config_protocol_ok(&c, "http/1.1"));
    ck_assert(!mk_config_protocol_ok(&c, NULL));
}
END_TEST

START_TEST(test_every_key)
{
    write_file("# a comment\n"
               "\n"
               "   # indented comment\n"
               "kms_id = kms.operator.example\n"
               "store=/srv/kms.db\n"
               "\tmaster_key\t=\t/srv/master.key  \r\n"
               "skew_window = 120\n"
               "max_ticket_lifetime = 7200\n"
               "default_ticket_lifetime = 600\n"
               "accepted_protocols = HTTP/1.1 , HTTP/1.0,HTTP/2\n"
               "retry_after = 30\n"
               "body_max = 4096\n"
               "log_level = debug\n"
               "mount = /kms/keymanagement\n"
               "busy_timeout_ms = 250\n"
               "listen = 127.0.0.1:9000\n"
               "node_state = node/kms.node\n"
               "replay_max = 123456\n"
               "journal_max = 68719476\n"
               "durable = yes\n"
               "log_file = /var/log/mikeykms/kmsd.log\n"
               "ticket_reuse_grace = 5\n"
               "kv_max = 5000\n"
               "records_keep_days = 90\n"
               "status_mount = /ops/status\n"
               "rate_limit_address = 12.5/40\n"
               "rate_limit_identity = 0.2\n"
               "ticket_key_max_age = 86400\n");
    mk_config c;
    ck_assert_int_eq(mk_config_load(path, &c), MK_OK);
    ck_assert_str_eq(c.kms_id, "kms.operator.example");
    ck_assert_str_eq(c.store, "/srv/kms.db");
    ck_assert_str_eq(c.master_key, "/srv/master.key");
    ck_assert_uint_eq(c.skew_window, 120);
    ck_assert_uint_eq(c.max_ticket_lifetime, 7200);
    ck_assert_uint_eq(c.default_ticket_lifetime, 600);
    ck_assert_uint_eq(c.n_accepted_protocols, 3);
    ck_assert_str_eq(c.accepted_protocols[0], "HTTP/1.1");
    ck_assert_str_eq(c.accepted_protocols[1], "HTTP/1.0");
    ck_assert_str_eq(c.accepted_protocols[2], "HTTP/2");
    ck_assert(mk_config_protocol_ok(&c, "HTTP/2"));
    ck_assert_uint_eq(c.retry_after, 30);
    ck_assert_uint_eq(c.body_max, 4096);
    ck_assert_int_eq(c.log_level, MK_LOG_DEBUG);
    ck_assert_str_eq(mk_log_level_name(c.log_level), "debug");
    ck_assert_str_eq(c.mount, "/kms/keymanagement");
    ck_assert_uint_eq(c.busy_timeout_ms, 250);
    ck_assert(c.has_listen);
    ck_assert_str_eq(c.listen, "127.0.0.1:9000");
    char want[192];
    snprintf(want, sizeof want, "%s/node/kms.node", dir);
    ck_assert_str_eq(c.node_state, want);
    ck_assert_uint_eq(c.replay_max, 123456);
    ck_assert_uint_eq(c.journal_max, 68719476);
    ck_assert(c.durable);

    mk_node_config nc;
    mk_config_node(&c, &nc);
    ck_assert_str_eq(nc.path, want);
    ck_assert_uint_eq(nc.replay_max, 123456);
    ck_assert_uint_eq(nc.journal_max, 68719476);
    ck_assert(nc.durable);
    ck_assert_uint_eq(nc.skew_seconds, 120);
    ck_assert_str_eq(c.log_file, "/var/log/mikeykms/kmsd.log");
    ck_assert_uint_eq(c.records_keep_days, 90);
    ck_assert_str_eq(c.status_mount, "/ops/status");
    ck_assert_uint_eq(c.ticket_key_max_age, 86400);
    ck_assert_uint_eq(c.rate_address.rate_milli, 12500);
    ck_assert_uint_eq(c.rate_address.burst, 40);
    ck_assert_uint_eq(c.rate_identity.rate_milli, 200);
    ck_assert_uint_eq(c.rate_identity.burst, 1); /* twice 0.2, at least 1 */

    mk_kms_config k;
    mk_config_kms(&c, &k);
    ck_assert_str_eq(k.kms_id, "kms.operator.example");
    ck_assert_uint_eq(k.skew_seconds, 120);
    ck_assert_uint_eq(k.max_lifetime, 7200);
    ck_assert_uint_eq(k.default_lifetime, 600);
    ck_assert_uint_eq(k.reuse_grace_seconds, 5);
    ck_assert_uint_eq(nc.kv_max, 5000);
}
END_TEST

START_TEST(test_relative_paths_from_config_dir)
{
    write_file("store = kms.db\nmaster_key = keys/master.key\n"
               "log_file = kmsd.log\n");
    mk_config c;
    ck_assert_int_eq(mk_config_load(path, &c), MK_OK);
    char want[192];
    snprintf(want, sizeof want, "%s/kms.db", dir);
    ck_assert_str_eq(c.store, want);
    snprintf(want, sizeof want, "%s/keys/master.key", dir);
    ck_assert_str_eq(c.master_key, want);
    snprintf(want, sizeof want, "%s/kmsd.log", dir);
    ck_assert_str_eq(c.log_file, want);
}
END_TEST

/* doc/profile.md §13: a PostgreSQL URI is kept as written (not taken as a
 * path relative to the file), and node_state must then be set; a build
 * without the PostgreSQL store says so at load. */
START_TEST(test_postgresql_store)
{
    static const char uri[] =
        "postgresql:///mikeykms?host=/run/pg&port=5433&user=kms";
    char text[256];
    mk_config c;
    snprintf(text, sizeof text,
             "store = %s\nmaster_key = /etc/k\nnode_state = node\n", uri);
    write_file(text);
    mk_err e = mk_config_load(path, &c);
    if (!mk_pgstore_built()) {
        ck_assert_int_eq(e, MK_E_CONFIG);
        ck_assert_ptr_nonnull(strstr(c.error, "no PostgreSQL store"));
        return;
    }
    ck_assert_int_eq(e, MK_OK);
    ck_assert_str_eq(c.store, uri);
    char want[192];
    snprintf(want, sizeof want, "%s/node", dir);
    ck_assert_str_eq(c.node_state, want);
    snprintf(text, sizeof text, "store = %s\nmaster_key = /etc/k\n", uri);
    write_file(text);
    ck_assert_int_eq(mk_config_load(path, &c), MK_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(c.error, "node_state must be set"));
}
END_TEST

/* Load `text`; expect MK_E_CONFIG and an error naming `line` and `words`. */
static void expect_error(const char *text, int line, const char *words)
{
    mk_config c;
    write_file(text);
    ck_assert_int_eq(mk_config_load(path, &c), MK_E_CONFIG);
    char where[192];
    if (line > 0)
        snprintf(where, sizeof where, "%s:%d: ", path, line);
    else
        snprintf(where, sizeof where, "%s: ", path);
    ck_assert_msg(strncmp(c.error, where, strlen(where)) == 0,
                  "error '%s' does not start with '%s'", c.error, where);
    ck_assert_msg(strstr(c.error, words) != NULL,
                  "error '%s' does not say '%s'", c.error, words);
}

START_TEST(test_errors_name_the_line)
{
    expect_error(MINIMAL "\n# fine\nlisten_port = 80\n", 5,
                 "unknown key 'listen_port'");
    expect_error(MINIMAL "skew_window 300\n", 3, "key = value");
    expect_error(MINIMAL "= 300\n", 3, "missing key");
    expect_error(MINIMAL "skew_window = 30s\n", 3, "not a decimal number");
    expect_error(MINIMAL "skew_window = -1\n", 3, "not a decimal number");
    expect_error(MINIMAL "skew_window =\n", 3, "number is needed");
    expect_error(MINIMAL "skew_window = 0\n", 3, "below the minimum");
    expect_error(MINIMAL "skew_window = 99999999999999999999\n", 3,
                 "above the maximum");
    expect_error(MINIMAL "body_max = 100\n", 3, "below the minimum");
    expect_error(MINIMAL "replay_max = 9\n", 3, "below the minimum");
    expect_error(MINIMAL "replay_max = 68719476737\n", 3, "above the maximum");
    expect_error(MINIMAL "journal_max = 18446744073709551616\n", 3,
                 "above the maximum");
    expect_error(MINIMAL "durable = true\n", 3, "not yes or no");
    expect_error(MINIMAL "log_level = verbose\n", 3, "log_level");
    expect_error(MINIMAL "mount = keymanagement\n", 3, "mount");
    expect_error(MINIMAL "mount = /km?x=1\n", 3, "mount");
    expect_error(MINIMAL "kms_id = two words\n", 3, "blanks");
    expect_error(MINIMAL "status_mount = status\n", 3, "status_mount");
    expect_error(MINIMAL "status_mount = /status/\n", 3, "status_mount");
    expect_error(MINIMAL "status_mount = /\n", 3, "status_mount");
    expect_error(MINIMAL "status_mount = /s%41\n", 3, "status_mount");
    /* the annex's mount keeps its statuses: no overlap either way */
    expect_error(MINIMAL "status_mount = /keymanagement/status\n", 0,
                 "overlaps mount");
    expect_error(MINIMAL "mount = /kms/keymanagement\n"
                         "status_mount = /kms\n", 0, "overlaps mount");
    expect_error(MINIMAL "ticket_key_max_age = 31536001\n", 3,
                 "above the maximum");
    expect_error(MINIMAL "rate_limit_address = 0\n", 3, "between 0.001");
    expect_error(MINIMAL "rate_limit_address = 1.2345\n", 3, "RATE[/BURST]");
    expect_error(MINIMAL "rate_limit_address = 1,5\n", 3, "RATE[/BURST]");
    expect_error(MINIMAL "rate_limit_address = 5/0\n", 3, "below the minimum");
    expect_error(MINIMAL "rate_limit_identity = /5\n", 3, "between 0.001");
    expect_error(MINIMAL "accepted_protocols = HTTP/1.1,,HTTP/1.0\n", 3,
                 "empty item");
    expect_error(MINIMAL "accepted_protocols = SPDY/3\n", 3, "HTTP version");
    expect_error(MINIMAL "accepted_protocols =\n", 3, "empty item");
    expect_error("store = a\nstore = b\nmaster_key = k\n", 2,
                 "given twice (first on line 1)");
    expect_error("store = a\n", 0, "master_key is not set");
    expect_error("master_key = k\n", 0, "store is not set");
    expect_error(MINIMAL "max_ticket_lifetime = 100\n", 0,
                 "default_ticket_lifetime (3600) is above");
    expect_error(MINIMAL "store = x\n", 3, "given twice");

    /* a NUL byte would cut the line: refused */
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(MINIMAL, f);
    fwrite("kms_id = a\0b\n", 1, 13, f);
    fclose(f);
    mk_config c;
    ck_assert_int_eq(mk_config_load(path, &c), MK_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(c.error, ":3: line contains a NUL"));

    /* an overlong line is refused, not truncated */
    static char big[6000];
    memset(big, 'a', sizeof big);
    memcpy(big, "kms_id = ", 9);
    big[sizeof big - 2] = '\n';
    big[sizeof big - 1] = '\0';
    write_file(big);
    ck_assert_int_eq(mk_config_load(path, &c), MK_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(c.error, ":1: line longer than"));
}
END_TEST

START_TEST(test_status_mount)
{
    mk_config c;
    write_file(MINIMAL "status_mount = off\n");
    ck_assert_int_eq(mk_config_load(path, &c), MK_OK);
    ck_assert_str_eq(c.status_mount, "");
    /* a name that only begins like the mount is not under it */
    write_file(MINIMAL "status_mount = /keymanagement-status\n");
    ck_assert_int_eq(mk_config_load(path, &c), MK_OK);
    ck_assert_str_eq(c.status_mount, "/keymanagement-status");
}
END_TEST

/* doc/profile.md §10 */
START_TEST(test_gba_keys)
{
    mk_config c;
    write_file(MINIMAL);
    ck_assert_int_eq(mk_config_load(path, &c), MK_OK);
    ck_assert(!c.gba);
    ck_assert(!c.ua_digest);
    ck_assert_str_eq(mk_config_naf_fqdn(&c), "kms.example.org");
    ck_assert(memcmp(c.ua_protocol_id, "\x01\x00\x00\x00\x06", 5) == 0);
    ck_assert_uint_eq(c.zn_timeout_ms, 2000);
    ck_assert_uint_eq(c.ua_nonce_lifetime, 300);
    ck_assert_str_eq(c.zn_socket, "/run/mikeykms/kms-znd.sock");

    write_file(MINIMAL "gba = yes\nkms_fqdn = naf.example.net\n"
               "ua_protocol_id = 01000000FF\nua_auth = digest\n"
               "ua_digest_algorithm = SHA-256\nua_nonce_lifetime = 60\n"
               "gba_forking = yes\nzn_socket = zn.sock\nzn_timeout_ms = 500\n"
               "zn_realm = example.org\nzn_bsf = bsf.example.org\n"
               "zn_diameter_conf = fd.conf\n");
    ck_assert_int_eq(mk_config_load(path, &c), MK_OK);
    ck_assert(c.gba && c.ua_digest && c.gba_forking);
    ck_assert_str_eq(mk_config_naf_fqdn(&c), "naf.example.net");
    ck_assert_uint_eq(c.ua_protocol_id[4], 0xff);
    ck_assert_int_eq(c.ua_digest_alg, 2);
    ck_assert_uint_eq(c.ua_nonce_lifetime, 60);
    ck_assert_uint_eq(c.zn_timeout_ms, 500);
    ck_assert_str_eq(c.zn_realm, "example.org");
    ck_assert_str_eq(c.zn_bsf, "bsf.example.org");
    /* relative paths from the file's directory */
    ck_assert_ptr_nonnull(strstr(c.zn_socket, dir));
    ck_assert_ptr_nonnull(strstr(c.zn_diameter_conf, "/fd.conf"));

    static const char *const bad[] = {
        MINIMAL "ua_auth = digest\n",            /* without gba */
        MINIMAL "ua_auth = basic\n",
        MINIMAL "ua_digest_algorithm = md5\n",
        MINIMAL "ua_protocol_id = 0100000006aa\n",
        MINIMAL "ua_protocol_id = 01000000zz\n",
        MINIMAL "kms_fqdn = kms_example\n",
        MINIMAL "zn_timeout_ms = 5\n",
        MINIMAL "gba = yes\nkms_id = sip:kms@example.org\n", /* no host name */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(bad[i]);
        ck_assert_msg(mk_config_load(path, &c) == MK_E_CONFIG, "%s", bad[i]);
        ck_assert_str_ne(c.error, "");
    }
}
END_TEST

START_TEST(test_missing_file)
{
    mk_config c;
    ck_assert_int_eq(mk_config_load("/nonexistent/dir/kms.conf", &c), MK_E_IO);
    ck_assert_ptr_nonnull(strstr(c.error, "/nonexistent/dir/kms.conf"));
    ck_assert_int_eq(mk_config_load(NULL, &c), MK_E_CONFIG);
}
END_TEST

START_TEST(test_sample_file_loads)
{
    /* doc/kms.conf.sample is what operators copy: it must parse */
    const char *src = getenv("top_srcdir");
    char sample[4096];
    snprintf(sample, sizeof sample, "%s/doc/kms.conf.sample",
             src ? src : "..");
    if (access(sample, R_OK) != 0)
        snprintf(sample, sizeof sample, "doc/kms.conf.sample");
    mk_config c;
    ck_assert_int_eq(mk_config_load(sample, &c), MK_OK);
    ck_assert_str_eq(c.kms_id, "kms.example.org");
    ck_assert_uint_eq(c.skew_window, 300);
    ck_assert_str_eq(c.mount, "/keymanagement");
}
END_TEST

int main(void)
{
    const TTest *const config_tests[] = {test_defaults, test_every_key,
        test_relative_paths_from_config_dir, test_errors_name_the_line,
        test_status_mount, test_gba_keys, test_missing_file,
        test_postgresql_store, test_sample_file_loads};
    const mk_check_opts o = {
        .suite = "config", .tcase = "config", .setup = setup,
        .teardown = teardown
    };
    return mk_check_main_opts(&o, config_tests, MK_CHECK_NELEM(config_tests));
}
