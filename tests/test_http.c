/* test_http.c - the HTTP binding of profile §2: every row of the status
 * table, the order of the checks, the body rules, and the exact bytes of the
 * CGI response for every status the KMS produces. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/http_binding.h"
#include "fcgi/kmsd_listen.h"
#include "lib/check_main.h"
#include "lib/guard.h"
#include "util/err.h"

static mk_http_binding B;

/* A request that passes every check; tests change one field at a time. */
static mk_http_cgi good(void)
{
    mk_http_cgi v = {
        .request_method = "POST",
        .server_protocol = "HTTP/1.1",
        .script_name = "/keymanagement",
        .path_info = NULL,
        .request_uri = "/keymanagement?requesttype=ticketrequest",
        .query_string = "requesttype=ticketrequest",
        .content_type = "application/mikey",
        .content_length = "8",
    };
    return v;
}

static void setup(void) { mk_http_binding_defaults(&B); }

static mk_err route(const mk_http_cgi *v, mk_service *s)
{
    *s = (mk_service)0;
    return mk_http_route(&B, v, s);
}

static const char *last_what(void)
{
    const char *w = mk_err_last()->what;
    return w != NULL ? w : "";
}

/* ---------------- success ---------------- */

START_TEST(test_route_ok_both_services)
{
    mk_service s;
    mk_http_cgi v = good();
    ck_assert_int_eq(route(&v, &s), MK_OK);
    ck_assert_int_eq(s, MK_SERVICE_TICKET_REQUEST);
    v.query_string = "requesttype=ticketresolve";
    ck_assert_int_eq(route(&v, &s), MK_OK);
    ck_assert_int_eq(s, MK_SERVICE_TICKET_RESOLVE);
    ck_assert_str_eq(mk_http_service_name(MK_SERVICE_TICKET_REQUEST),
                     "ticketrequest");
    ck_assert_str_eq(mk_http_service_name(MK_SERVICE_TICKET_RESOLVE),
                     "ticketresolve");
    ck_assert_str_eq(mk_http_service_name(0), "-");
}
END_TEST

START_TEST(test_route_extra_parameters_ignored)
{
    static const char *const ok_queries[] = {
        "a=b&requesttype=ticketrequest&c",
        "requesttype=ticketrequest&",
        "&&requesttype=ticketrequest&&",
        "%zz=1&requesttype=ticketrequest", /* undecodable extra: ignored */
        "requesttypex=1&requesttype=ticketrequest",
        "RequestType=ticketresolve&requesttype=ticketrequest",
        "requesttype=ticket%72equest",
        "requesttype=%74icketrequest",
        "%72equesttype=ticketrequest",
        "requesttype=ticketrequest&requesttype2=ticketresolve",
    };
    for (size_t i = 0; i < sizeof ok_queries / sizeof ok_queries[0]; i++) {
        mk_service s;
        mk_http_cgi v = good();
        v.query_string = ok_queries[i];
        ck_assert_msg(route(&v, &s) == MK_OK, "query %s", ok_queries[i]);
        ck_assert_int_eq(s, MK_SERVICE_TICKET_REQUEST);
    }
}
END_TEST

START_TEST(test_route_path_forms)
{
    mk_service s;
    mk_http_cgi v = good();
    /* Apache with a virtual wrapper: the whole path is PATH_INFO */
    v.script_name = "";
    v.path_info = "/keymanagement";
    ck_assert_int_eq(route(&v, &s), MK_OK);
    v.script_name = "/key";
    v.path_info = "management";
    ck_assert_int_eq(route(&v, &s), MK_OK);
    /* no SCRIPT_NAME: REQUEST_URI's path, percent-decoded */
    v.script_name = NULL;
    v.path_info = NULL;
    v.request_uri = "/key%6Danagement?requesttype=ticketrequest";
    ck_assert_int_eq(route(&v, &s), MK_OK);
    /* and the query from REQUEST_URI when QUERY_STRING is not set */
    v.query_string = NULL;
    ck_assert_int_eq(route(&v, &s), MK_OK);
    ck_assert_int_eq(s, MK_SERVICE_TICKET_REQUEST);
    /* another mount */
    ck_assert_int_eq(mk_http_binding_set_mount(&B, "/kms/v1"), MK_OK);
    v = good();
    ck_assert_int_eq(route(&v, &s), MK_E_HTTP_URI);
    v.script_name = "/kms/v1";
    ck_assert_int_eq(route(&v, &s), MK_OK);
}
END_TEST

/* The health and metrics pages under status_mount (doc/profile.md §12.1):
 * found in every path form the servers use, nothing else taken from the
 * annex's decision. */
START_TEST(test_status_pages)
{
    mk_http_cgi v = good();
    v.request_method = "GET";
    v.script_name = "/kms-status/metrics";
    ck_assert_int_eq(mk_http_status_page("/kms-status", &v),
                     MK_HTTP_PAGE_METRICS);
    /* lighttpd: the mount as SCRIPT_NAME, the rest as PATH_INFO */
    v.script_name = "/kms-status";
    v.path_info = "/health";
    ck_assert_int_eq(mk_http_status_page("/kms-status", &v),
                     MK_HTTP_PAGE_HEALTH);
    /* no SCRIPT_NAME: REQUEST_URI's path, decoded, without the query */
    v.script_name = NULL;
    v.path_info = NULL;
    v.request_uri = "/kms-status/%68ealth?x=1";
    ck_assert_int_eq(mk_http_status_page("/kms-status", &v),
                     MK_HTTP_PAGE_HEALTH);
    v.request_uri = "/kms-status/other";
    ck_assert_int_eq(mk_http_status_page("/kms-status", &v),
                     MK_HTTP_PAGE_UNKNOWN);
    v.request_uri = "/kms-status";
    ck_assert_int_eq(mk_http_status_page("/kms-status", &v),
                     MK_HTTP_PAGE_UNKNOWN);
    /* not under the mount: the annex's decision, unchanged */
    v.request_uri = "/kms-statusx/health";
    ck_assert_int_eq(mk_http_status_page("/kms-status", &v),
                     MK_HTTP_PAGE_NONE);
    v = good();
    ck_assert_int_eq(mk_http_status_page("/kms-status", &v),
                     MK_HTTP_PAGE_NONE);
    /* pages off */
    v.script_name = "/kms-status/health";
    ck_assert_int_eq(mk_http_status_page("", &v), MK_HTTP_PAGE_NONE);
    /* a path too long for any mount is none of them */
    static char longp[3000];
    memset(longp, 'a', sizeof longp - 1);
    memcpy(longp, "/kms-status/", 12);
    v.script_name = longp;
    ck_assert_int_eq(mk_http_status_page("/kms-status", &v),
                     MK_HTTP_PAGE_NONE);
    /* ... and from REQUEST_URI (decoded longer than any buffer) */
    v.script_name = NULL;
    v.path_info = NULL;
    v.request_uri = longp;
    ck_assert_int_eq(mk_http_status_page("/kms-status", &v),
                     MK_HTTP_PAGE_NONE);
    mk_service s;
    ck_assert_int_eq(route(&v, &s), MK_E_HTTP_URI);
}
END_TEST

/* ---------------- 505 ---------------- */

START_TEST(test_505_protocol)
{
    static const char *const bad[] = {"HTTP/1.0", "HTTP/2.0", "HTTP/2",
                                      "http/1.1", "HTTP/1.1 ", "", "INCLUDED"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mk_service s;
        mk_http_cgi v = good();
        v.server_protocol = bad[i];
        ck_assert_msg(route(&v, &s) == MK_E_HTTP_VERSION, "proto '%s'",
                      bad[i]);
        ck_assert_int_eq(mk_err_http_status(MK_E_HTTP_VERSION), 505);
    }
    mk_service s;
    mk_http_cgi v = good();
    v.server_protocol = NULL;
    ck_assert_int_eq(route(&v, &s), MK_E_HTTP_VERSION);
    /* first in the order: a GET to a wrong path over HTTP/1.0 is 505 */
    v = good();
    v.server_protocol = "HTTP/1.0";
    v.request_method = "GET";
    v.script_name = "/nowhere";
    v.query_string = "";
    v.content_type = NULL;
    ck_assert_int_eq(route(&v, &s), MK_E_HTTP_VERSION);
    /* configured list */
    ck_assert_int_eq(mk_http_binding_set_protocols(&B, "HTTP/1.1, HTTP/1.0"),
                     MK_OK);
    v = good();
    v.server_protocol = "HTTP/1.0";
    ck_assert_int_eq(route(&v, &s), MK_OK);
    v.server_protocol = "HTTP/2.0";
    ck_assert_int_eq(route(&v, &s), MK_E_HTTP_VERSION);
}
END_TEST

/* ---------------- 405 ---------------- */

START_TEST(test_405_method)
{
    static const char *const bad[] = {"GET", "PUT", "HEAD", "OPTIONS",
                                      "post", "POST ", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mk_service s;
        mk_http_cgi v = good();
        v.request_method = bad[i];
        ck_assert_msg(route(&v, &s) == MK_E_HTTP_METHOD, "method '%s'",
                      bad[i]);
    }
    mk_service s;
    mk_http_cgi v = good();
    v.request_method = NULL;
    ck_assert_int_eq(route(&v, &s), MK_E_HTTP_METHOD);
    /* before 404: a GET to a wrong path without requesttype is 405 */
    v.request_method = "GET";
    v.script_name = "/nowhere";
    v.query_string = "";
    ck_assert_int_eq(route(&v, &s), MK_E_HTTP_METHOD);
    ck_assert_int_eq(mk_err_http_status(MK_E_HTTP_METHOD), 405);
}
END_TEST

/* ---------------- 404 ---------------- */

START_TEST(test_404_path)
{
    static const char *const bad_paths[] = {
        "/keymanagement/", "/keymanagement/x", "/keymanagementx", "/other",
        "/", "", "/KEYMANAGEMENT", "keymanagement", "//keymanagement",
    };
    for (size_t i = 0; i < sizeof bad_paths / sizeof bad_paths[0]; i++) {
        mk_service s;
        mk_http_cgi v = good();
        v.script_name = bad_paths[i];
        ck_assert_msg(route(&v, &s) == MK_E_HTTP_URI, "path '%s'",
                      bad_paths[i]);
        ck_assert_str_eq(last_what(), "no such resource");
    }
    mk_service s;
    mk_http_cgi v = good();
    v.path_info = "/extra"; /* SCRIPT_NAME /keymanagement + PATH_INFO */
    ck_assert_int_eq(route(&v, &s), MK_E_HTTP_URI);
    v = good();
    v.script_name = NULL;
    v.request_uri = "/keymanagement%2?requesttype=ticketrequest";
    ck_assert_int_eq(route(&v, &s), MK_E_HTTP_URI);
    v.request_uri = "/keymanagement/?requesttype=ticketrequest";
    ck_assert_int_eq(route(&v, &s), MK_E_HTTP_URI);
    v.request_uri = NULL; /* neither SCRIPT_NAME nor REQUEST_URI */
    ck_assert_int_eq(route(&v, &s), MK_E_HTTP_URI);
    /* 404 comes before 501 and before the Content-Type check */
    v = good();
    v.script_name = "/other";
    v.query_string = "requesttype=nothing";
    v.content_type = "text/plain";
    ck_assert_int_eq(route(&v, &s), MK_E_HTTP_URI);
    ck_assert_int_eq(mk_err_http_status(MK_E_HTTP_URI), 404);
}
END_TEST

START_TEST(test_404_requesttype)
{
    static const struct {
        const char *q;
        const char *what;
    } rows[] = {
        {"", "requesttype missing"},
        {"foo=bar", "requesttype missing"},
        {"requesttypes=ticketrequest", "requesttype missing"},
        {"request type=ticketrequest", "requesttype missing"},
        {"requesttype=", "requesttype empty"},
        {"requesttype", "requesttype empty"},
        {"a=1&requesttype=&b=2", "requesttype empty"},
        {"requesttype=ticketrequest&requesttype=ticketrequest",
         "requesttype repeated"},
        {"requesttype=ticketrequest&requesttype=ticketresolve",
         "requesttype repeated"},
        {"requesttype=ticketrequest&%72equesttype=x", "requesttype repeated"},
        {"requesttype=&requesttype=", "requesttype repeated"},
        {"requesttype=ticket%zzrequest", "requesttype not decodable"},
        {"requesttype=ticketrequest%", "requesttype not decodable"},
        {"requesttype=ticketrequest%4", "requesttype not decodable"},
        {"requesttype=%00", "requesttype not decodable"},
        {"requesttype=%0", "requesttype not decodable"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        mk_service s;
        mk_http_cgi v = good();
        v.query_string = rows[i].q;
        v.content_type = "text/plain"; /* 404 comes first */
        ck_assert_msg(route(&v, &s) == MK_E_HTTP_URI, "query '%s'",
                      rows[i].q);
        ck_assert_msg(strcmp(last_what(), rows[i].what) == 0,
                      "query '%s': '%s'", rows[i].q, last_what());
    }
    /* no QUERY_STRING and no '?' in REQUEST_URI */
    mk_service s;
    mk_http_cgi v = good();
    v.query_string = NULL;
    v.request_uri = "/keymanagement";
    ck_assert_int_eq(route(&v, &s), MK_E_HTTP_URI);
    ck_assert_str_eq(last_what(), "requesttype missing");
}
END_TEST

/* ---------------- 501 ---------------- */

START_TEST(test_501_unknown_service)
{
    static const char *const rows[] = {
        "requesttype=ticketfoo",
        "requesttype=TicketRequest",
        "requesttype=ticketrequest%20",
        "requesttype=ticket+request",
        "requesttype=ticketrequestticketrequestticketrequest",
        "requesttype=ticketrequesu",
        "requesttype=transfer",
        "requesttype=%ff",
        "requesttype=ticketreques",
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        mk_service s;
        mk_http_cgi v = good();
        v.query_string = rows[i];
        v.content_type = NULL; /* 501 comes before 400 */
        ck_assert_msg(route(&v, &s) == MK_E_HTTP_SERVICE, "query '%s'",
                      rows[i]);
    }
    ck_assert_int_eq(mk_err_http_status(MK_E_HTTP_SERVICE), 501);
}
END_TEST

/* ---------------- 400: Content-Type ---------------- */

START_TEST(test_400_content_type)
{
    static const char *const bad[] = {
        "", "text/plain", "application/mikeyx", "application/mikey-x",
        "application/octet-stream", "application/", "mikey",
        "application/mikey,text/plain", "xapplication/mikey",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mk_service s;
        mk_http_cgi v = good();
        v.content_type = bad[i];
        ck_assert_msg(route(&v, &s) == MK_E_HTTP_CONTENT_TYPE, "ct '%s'",
                      bad[i]);
    }
    mk_service s;
    mk_http_cgi v = good();
    v.content_type = NULL;
    ck_assert_int_eq(route(&v, &s), MK_E_HTTP_CONTENT_TYPE);
    ck_assert_int_eq(mk_err_http_status(MK_E_HTTP_CONTENT_TYPE), 400);

    static const char *const ok[] = {
        "Application/MIKEY", "APPLICATION/mikey", "application/mikey;",
        "application/mikey; charset=us-ascii", " application/mikey ;a=b",
        "application/mikey\t", "application/mikey;x=\"y;z\"",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        v = good();
        v.content_type = ok[i];
        ck_assert_msg(route(&v, &s) == MK_OK, "ct '%s'", ok[i]);
    }
}
END_TEST

/* ---------------- 400: body ---------------- */

static mk_err body(const char *text, size_t n, uint8_t *msg, size_t cap,
                   size_t *len)
{
    mk_guarded g;
    mk_guarded_init(&g, text, n); /* a read past the body faults */
    mk_err e = mk_http_body(&B, MK_BYTES(g.data, g.n), msg, cap, len);
    mk_guarded_free(&g);
    return e;
}

START_TEST(test_400_body)
{
    static uint8_t msg[MK_HTTP_BODY_MAX_DEFAULT];
    size_t len = 99;
    ck_assert_int_eq(mk_http_body(&B, MK_BYTES_NONE, msg, sizeof msg, &len),
                     MK_E_HTTP_BODY);
    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq(last_what(), "body missing or empty");
    ck_assert_int_eq(body("AQIDBA==", 8, msg, sizeof msg, &len), MK_OK);
    ck_assert_uint_eq(len, 4);
    ck_assert_mem_eq(msg, "\x01\x02\x03\x04", 4);
    /* line breaks and surrounding white space are tolerated (profile §2) */
    ck_assert_int_eq(body("\r\n AQID\r\nBA==\n ", 15, msg, sizeof msg, &len),
                     MK_OK);
    ck_assert_uint_eq(len, 4);
    ck_assert_mem_eq(msg, "\x01\x02\x03\x04", 4);
    /* not base64 */
    ck_assert_int_eq(body("!!!!", 4, msg, sizeof msg, &len), MK_E_BASE64);
    ck_assert_int_eq(body("AQIDB", 5, msg, sizeof msg, &len), MK_E_BASE64);
    ck_assert_int_eq(body("AQ=D", 4, msg, sizeof msg, &len), MK_E_BASE64);
    ck_assert_int_eq(body("AQID\0BA==", 9, msg, sizeof msg, &len),
                     MK_E_BASE64);
    ck_assert_int_eq(body("\x80\xff\x01\x02", 4, msg, sizeof msg, &len),
                     MK_E_BASE64);
    ck_assert_int_eq(mk_err_http_status(MK_E_BASE64), 400);
    /* white space only: nothing in it */
    mk_err e = body(" \r\n", 3, msg, sizeof msg, &len);
    ck_assert_msg(e == MK_E_HTTP_BODY || e == MK_E_BASE64, "got %d", e);
    ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(test_400_body_cap)
{
    static uint8_t msg[MK_HTTP_BODY_MAX_DEFAULT];
    static char text[MK_HTTP_BODY_MAX_DEFAULT + 1];
    size_t len;
    /* exactly at the cap: 64 KiB of base64 -> 49152 bytes */
    memset(text, 'A', sizeof text);
    ck_assert_uint_ge(sizeof msg, mk_http_msg_max(&B));
    ck_assert_int_eq(body(text, MK_HTTP_BODY_MAX_DEFAULT, msg, sizeof msg,
                          &len),
                     MK_OK);
    ck_assert_uint_eq(len, MK_HTTP_BODY_MAX_DEFAULT / 4 * 3);
    /* one byte more: over the cap, before any decoding */
    ck_assert_int_eq(body(text, MK_HTTP_BODY_MAX_DEFAULT + 1, msg,
                          sizeof msg, &len),
                     MK_E_HTTP_BODY);
    ck_assert_str_eq(last_what(), "body over the size cap");
    /* a smaller configured cap */
    ck_assert_int_eq(mk_http_binding_set_body_max(&B, 8), MK_OK);
    ck_assert_int_eq(body("AQIDBA==", 8, msg, sizeof msg, &len), MK_OK);
    ck_assert_int_eq(body("AQIDBA==\n", 9, msg, sizeof msg, &len),
                     MK_E_HTTP_BODY);
    /* the caller's buffer must hold the largest message */
    ck_assert_int_eq(body("AQIDBA==", 8, msg, 2, &len), MK_E_ARG);
}
END_TEST

START_TEST(test_decide_order)
{
    static uint8_t msg[MK_HTTP_BODY_MAX_DEFAULT];
    size_t len;
    mk_service s;
    mk_http_cgi v = good();
    /* route errors come before body errors */
    v.content_type = "text/plain";
    ck_assert_int_eq(mk_http_decide(&B, &v, MK_BYTES_NONE, &s, msg,
                                    sizeof msg, &len),
                     MK_E_HTTP_CONTENT_TYPE);
    v = good();
    v.request_method = "GET";
    ck_assert_int_eq(mk_http_decide(&B, &v, MK_BYTES("!!", 2), &s, msg,
                                    sizeof msg, &len),
                     MK_E_HTTP_METHOD);
    v = good();
    ck_assert_int_eq(mk_http_decide(&B, &v, MK_BYTES("!!", 2), &s, msg,
                                    sizeof msg, &len),
                     MK_E_BASE64);
    ck_assert_int_eq(mk_http_decide(&B, &v, MK_BYTES("AQIDBA==", 8), &s,
                                    msg, sizeof msg, &len),
                     MK_OK);
    ck_assert_int_eq(s, MK_SERVICE_TICKET_REQUEST);
    ck_assert_uint_eq(len, 4);
    /* CONTENT_LENGTH never decides anything */
    v.content_length = "99999999999999999999";
    ck_assert_int_eq(mk_http_decide(&B, &v, MK_BYTES("AQIDBA==", 8), &s,
                                    msg, sizeof msg, &len),
                     MK_OK);
    v.content_length = "0";
    ck_assert_int_eq(mk_http_decide(&B, &v, MK_BYTES("AQIDBA==", 8), &s,
                                    msg, sizeof msg, &len),
                     MK_OK);
}
END_TEST

/* ---------------- configuration ---------------- */

START_TEST(test_binding_config)
{
    ck_assert_str_eq(B.mount, "/keymanagement");
    ck_assert_uint_eq(B.n_protocols, 1);
    ck_assert_str_eq(B.protocols[0], "HTTP/1.1");
    ck_assert_uint_eq(B.body_max, 65536);
    static const char *const bad_mounts[] = {
        "", "keymanagement", "/keymanagement/", "/a?b", "/a#b", "/a%20",
        "/a b", "/a\tb",
    };
    for (size_t i = 0; i < sizeof bad_mounts / sizeof bad_mounts[0]; i++)
        ck_assert_msg(mk_http_binding_set_mount(&B, bad_mounts[i]) ==
                          MK_E_CONFIG,
                      "mount '%s'", bad_mounts[i]);
    ck_assert_int_eq(mk_http_binding_set_mount(&B, NULL), MK_E_CONFIG);
    ck_assert_str_eq(B.mount, "/keymanagement"); /* unchanged */
    ck_assert_int_eq(mk_http_binding_set_mount(&B, "/"), MK_OK);
    ck_assert_int_eq(mk_http_binding_set_mount(&B, "/a/b-c_d.e"), MK_OK);
    ck_assert_str_eq(B.mount, "/a/b-c_d.e");

    static const char *const bad_lists[] = {
        "", " , ", "HTTP/1", "HTTP/1.1x", "http/1.1",
        ("HTTP/1.1 HTTP/1.0 HTTP/0.9 HTTP/2.0 HTTP/3.0 HTTP/1.2 HTTP/1.3 "
         "HTTP/1.4 HTTP/1.5"), /* one list, longer than the bound */
        "HTTP/1.1;HTTP/1.0",
    };
    for (size_t i = 0; i < sizeof bad_lists / sizeof bad_lists[0]; i++)
        ck_assert_msg(mk_http_binding_set_protocols(&B, bad_lists[i]) ==
                          MK_E_CONFIG,
                      "list '%s'", bad_lists[i]);
    ck_assert_uint_eq(B.n_protocols, 1); /* unchanged */
    ck_assert_int_eq(mk_http_binding_set_protocols(&B, " HTTP/1.0,HTTP/1.1 "),
                     MK_OK);
    ck_assert_uint_eq(B.n_protocols, 2);
    ck_assert_str_eq(B.protocols[0], "HTTP/1.0");
    ck_assert_str_eq(B.protocols[1], "HTTP/1.1");

    ck_assert_int_eq(mk_http_binding_set_body_max(&B, 0), MK_E_CONFIG);
    ck_assert_int_eq(mk_http_binding_set_body_max(&B, 16 * 1024 * 1024 + 1),
                     MK_E_CONFIG);
    ck_assert_uint_eq(B.body_max, 65536);
    ck_assert_int_eq(mk_http_binding_set_body_max(&B, 1024 * 1024), MK_OK);
    /* 1 MiB of base64 can hold 786432 bytes */
    ck_assert_uint_ge(mk_http_msg_max(&B), 786432);
}
END_TEST

/* ---------------- response ---------------- */

static void reply_eq(int status, mk_err err, const char *what,
                     mk_bytes mikey, uint32_t retry, mk_err want_rc,
                     int want_status, const char *want)
{
    static mk_http_reply r;
    memset(&r, 0x5a, sizeof r);
    ck_assert_int_eq(mk_http_reply_format(&r, status, err, what, mikey, retry),
                     want_rc);
    ck_assert_int_eq(r.status, want_status);
    ck_assert_uint_eq(r.len, strlen(want));
    ck_assert_msg(memcmp(r.text, want, r.len) == 0, "got:\n%.*s\nwant:\n%s",
                  (int)r.len, r.text, want);
}

START_TEST(test_reply_200)
{
    reply_eq(200, MK_OK, NULL, MK_BYTES("\x01\x02\x03\x04", 4), 5, MK_OK,
             200,
             "Status: 200 OK\r\n"
             "Content-Type: application/mikey\r\n"
             "Cache-Control: no-store\r\n"
             "Content-Length: 8\r\n"
             "\r\n"
             "AQIDBA==");
    /* a MIKEY Error message is a 200 too (profile §3) */
    reply_eq(200, MK_E_MIKEY_AUTH, "ignored", MK_BYTES("\xff\xfe\xfd", 3), 5,
             MK_OK, 200,
             "Status: 200 OK\r\n"
             "Content-Type: application/mikey\r\n"
             "Cache-Control: no-store\r\n"
             "Content-Length: 4\r\n"
             "\r\n"
             "//79");
}
END_TEST

START_TEST(test_reply_200_largest_answer)
{
    static uint8_t big[MK_ANSWER_MAX];
    static mk_http_reply r;
    memset(big, 0xfb, sizeof big);
    ck_assert_int_eq(mk_http_reply_format(&r, 200, MK_OK, NULL,
                                          MK_BYTES(big, sizeof big), 5),
                     MK_OK);
    ck_assert_int_eq(r.status, 200);
    const char *head = "Status: 200 OK\r\n"
                       "Content-Type: application/mikey\r\n"
                       "Cache-Control: no-store\r\n"
                       "Content-Length: 10924\r\n"
                       "\r\n";
    ck_assert_uint_eq(r.len, strlen(head) + 10924);
    ck_assert_mem_eq(r.text, head, strlen(head));
    ck_assert_mem_eq(r.text + strlen(head), "+/v7", 4);
    /* one byte more than the core can produce: a bug -> 503 */
    static uint8_t bigger[MK_ANSWER_MAX + 1];
    ck_assert_int_eq(mk_http_reply_format(&r, 200, MK_OK, NULL,
                                          MK_BYTES(bigger, sizeof bigger), 7),
                     MK_E_NOSPACE);
    ck_assert_int_eq(r.status, 503);
}
END_TEST

START_TEST(test_reply_errors_exact)
{
    reply_eq(505, MK_E_HTTP_VERSION, "use HTTP/1.1", MK_BYTES_NONE, 5, MK_OK,
             505,
             "Status: 505 HTTP Version Not Supported\r\n"
             "Content-Type: text/plain\r\n"
             "Content-Length: 41\r\n"
             "\r\n"
             "HTTP version not supported: use HTTP/1.1\n");
    reply_eq(405, MK_E_HTTP_METHOD, "only POST", MK_BYTES_NONE, 5, MK_OK, 405,
             "Status: 405 Method Not Allowed\r\n"
             "Content-Type: text/plain\r\n"
             "Allow: POST\r\n"
             "Content-Length: 30\r\n"
             "\r\n"
             "method not allowed: only POST\n");
    reply_eq(404, MK_E_HTTP_URI, "requesttype repeated", MK_BYTES_NONE, 5,
             MK_OK, 404,
             "Status: 404 Not Found\r\n"
             "Content-Type: text/plain\r\n"
             "Content-Length: 32\r\n"
             "\r\n"
             "not found: requesttype repeated\n");
    reply_eq(501, MK_E_HTTP_SERVICE, NULL, MK_BYTES_NONE, 5, MK_OK, 501,
             "Status: 501 Not Implemented\r\n"
             "Content-Type: text/plain\r\n"
             "Content-Length: 16\r\n"
             "\r\n"
             "not implemented\n");
    reply_eq(400, MK_E_HTTP_CONTENT_TYPE, "", MK_BYTES_NONE, 5, MK_OK, 400,
             "Status: 400 Bad Request\r\n"
             "Content-Type: text/plain\r\n"
             "Content-Length: 38\r\n"
             "\r\n"
             "content type is not application/mikey\n");
    reply_eq(400, MK_E_HTTP_BODY, "body over the size cap", MK_BYTES_NONE, 5,
             MK_OK, 400,
             "Status: 400 Bad Request\r\n"
             "Content-Type: text/plain\r\n"
             "Content-Length: 57\r\n"
             "\r\n"
             "body missing, empty or too large: body over the size cap\n");
    reply_eq(400, MK_E_BASE64, NULL, MK_BYTES_NONE, 5, MK_OK, 400,
             "Status: 400 Bad Request\r\n"
             "Content-Type: text/plain\r\n"
             "Content-Length: 11\r\n"
             "\r\n"
             "not base64\n");
    reply_eq(400, MK_E_TRUNCATED, NULL, MK_BYTES_NONE, 5, MK_OK, 400,
             "Status: 400 Bad Request\r\n"
             "Content-Type: text/plain\r\n"
             "Content-Length: 10\r\n"
             "\r\n"
             "truncated\n");
    reply_eq(403, MK_E_POLICY, NULL, MK_BYTES_NONE, 5, MK_OK, 403,
             "Status: 403 Forbidden\r\n"
             "Content-Type: text/plain\r\n"
             "Content-Length: 20\r\n"
             "\r\n"
             "forbidden by policy\n");
    reply_eq(401, MK_E_HTTP_AUTH, NULL, MK_BYTES_NONE, 5, MK_OK, 401,
             "Status: 401 Unauthorized\r\n"
             "Content-Type: text/plain\r\n"
             "Content-Length: 24\r\n"
             "\r\n"
             "authentication required\n");
    reply_eq(504, MK_E_HTTP_ZN_TIMEOUT, NULL, MK_BYTES_NONE, 5, MK_OK, 504,
             "Status: 504 Gateway Timeout\r\n"
             "Content-Type: text/plain\r\n"
             "Content-Length: 19\r\n"
             "\r\n"
             "BSF did not answer\n");
    reply_eq(503, MK_E_UNAVAILABLE, NULL, MK_BYTES_NONE, 5, MK_OK, 503,
             "Status: 503 Service Unavailable\r\n"
             "Content-Type: text/plain\r\n"
             "Retry-After: 5\r\n"
             "Content-Length: 20\r\n"
             "\r\n"
             "service unavailable\n");
    reply_eq(503, MK_E_UNAVAILABLE, NULL, MK_BYTES_NONE, 120, MK_OK, 503,
             "Status: 503 Service Unavailable\r\n"
             "Content-Type: text/plain\r\n"
             "Retry-After: 120\r\n"
             "Content-Length: 20\r\n"
             "\r\n"
             "service unavailable\n");
}
END_TEST

START_TEST(test_reply_never_produced_is_503)
{
    static const int never[] = {500, 502, 402, 406, 413, 417, 302, 100, 0,
                                -1, 999};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        reply_eq(never[i], MK_E_INTERNAL, NULL, MK_BYTES_NONE, 5,
                 MK_E_INTERNAL, 503,
                 "Status: 503 Service Unavailable\r\n"
                 "Content-Type: text/plain\r\n"
                 "Retry-After: 5\r\n"
                 "Content-Length: 15\r\n"
                 "\r\n"
                 "internal error\n");
    }
    /* 200 without a MIKEY message */
    reply_eq(200, MK_OK, NULL, MK_BYTES_NONE, 9, MK_E_INTERNAL, 503,
             "Status: 503 Service Unavailable\r\n"
             "Content-Type: text/plain\r\n"
             "Retry-After: 9\r\n"
             "Content-Length: 26\r\n"
             "\r\n"
             "internal error: no answer\n");
}
END_TEST

START_TEST(test_reply_reason_is_one_printable_line)
{
    static mk_http_reply r;
    char what[400];
    memset(what, 'w', sizeof what);
    what[0] = '\n';
    what[1] = '\r';
    what[2] = (char)0x80;
    what[sizeof what - 1] = '\0';
    ck_assert_int_eq(mk_http_reply_format(&r, 400, MK_E_VALUE, what,
                                          MK_BYTES_NONE, 5),
                     MK_OK);
    const char *body = strstr(r.text, "\r\n\r\n");
    ck_assert_ptr_nonnull(body);
    body += 4;
    size_t blen = r.len - (size_t)(body - r.text);
    ck_assert_uint_le(blen, 160);
    ck_assert_mem_eq(body, "bad value: ???www", 17);
    ck_assert_int_eq(body[blen - 1], '\n');
    for (size_t i = 0; i + 1 < blen; i++)
        ck_assert_msg(body[i] >= 0x20 && body[i] < 0x7f, "byte %zu", i);
    /* Content-Length matches the body */
    char want[64];
    snprintf(want, sizeof want, "Content-Length: %zu\r\n\r\n", blen);
    ck_assert_ptr_nonnull(strstr(r.text, want));
}
END_TEST

/* ---------------- kmsd --listen ---------------- */

START_TEST(test_listen_parse)
{
    kmsd_listen_addr a;
    ck_assert_int_eq(kmsd_listen_parse("unix:/run/mikeykms/kmsd.sock", &a),
                     MK_OK);
    ck_assert(a.is_unix);
    ck_assert_str_eq(a.path, "/run/mikeykms/kmsd.sock");
    ck_assert(kmsd_listen_is_loopback(&a));
    ck_assert_int_eq(kmsd_listen_parse("127.0.0.1:8080", &a), MK_OK);
    ck_assert(!a.is_unix);
    ck_assert_str_eq(a.host, "127.0.0.1");
    ck_assert_uint_eq(a.port, 8080);
    ck_assert(kmsd_listen_is_loopback(&a));
    ck_assert_int_eq(kmsd_listen_parse("127.9.8.7:1", &a), MK_OK);
    ck_assert(kmsd_listen_is_loopback(&a));
    ck_assert_int_eq(kmsd_listen_parse("[::1]:65535", &a), MK_OK);
    ck_assert_str_eq(a.host, "::1");
    ck_assert_uint_eq(a.port, 65535);
    ck_assert(kmsd_listen_is_loopback(&a));
    ck_assert_int_eq(kmsd_listen_parse("10.0.0.1:9000", &a), MK_OK);
    ck_assert(!kmsd_listen_is_loopback(&a));
    ck_assert_int_eq(kmsd_listen_parse("[::]:9000", &a), MK_OK);
    ck_assert(!kmsd_listen_is_loopback(&a));

    char longpath[200];
    memset(longpath, 'p', sizeof longpath);
    memcpy(longpath, "unix:/", 6);
    longpath[sizeof longpath - 1] = '\0';
    static const char *const bad[] = {
        "", "unix:", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0",
        "127.0.0.1:65536", "127.0.0.1:80x", "127.0.0.1:-1",
        "127.0.0.1:123456", "localhost:80", ":80", "::1:9000", "[::1]9000",
        "[::1:9000", "[]:80", "1.2.3:80", "tcp:127.0.0.1:80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(kmsd_listen_parse(bad[i], &a) == MK_E_CONFIG,
                      "listen '%s'", bad[i]);
    ck_assert_int_eq(kmsd_listen_parse(longpath, &a), MK_E_CONFIG);
    ck_assert_int_eq(kmsd_listen_parse(NULL, &a), MK_E_CONFIG);
}
END_TEST

int main(void)
{
    const TTest *const binding_tests[] = {test_route_ok_both_services,
        test_route_extra_parameters_ignored, test_route_path_forms,
        test_505_protocol, test_405_method, test_404_path, test_status_pages,
        test_404_requesttype, test_501_unknown_service, test_400_content_type,
        test_400_body, test_400_body_cap, test_decide_order,
        test_binding_config, test_reply_200, test_reply_200_largest_answer,
        test_reply_errors_exact, test_reply_never_produced_is_503,
        test_reply_reason_is_one_printable_line, test_listen_parse};
    const mk_check_opts o = {
        .suite = "http", .tcase = "binding", .setup = setup
    };
    return mk_check_main_opts(&o, binding_tests,
                              MK_CHECK_NELEM(binding_tests));
}
