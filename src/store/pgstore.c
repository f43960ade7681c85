/* pgstore.c - the PostgreSQL store (pgstore.h, doc/profile.md §13): the
 * connection and its failures, the schema, the lookups with their cache,
 * the answer's one statement, and the administration kmsctl uses.
 *
 * libpq is loaded with dlopen at the first open of a PostgreSQL store, not
 * linked: a kmsd on an SQLite store maps none of it (libpq brings
 * Kerberos, LDAP and a second TLS library into the process, and their
 * pages into every process's memory; tests/kmsd_load.sh bounds that).
 *
 * Every value goes to the server as a parameter (bytea in binary format,
 * the rest as text); results come back as text, bytea through
 * encode(..., 'hex'). */
#include <dlfcn.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "store/pgstore.h"
#include "store/store_int.h"
#include "util/hex.h"
#include "util/uri.h"

#define PG_URI_MAX 1024
#define PG_PARAMS_MAX 48
#define SUB_SLOTS 256
#define IMPU_SLOTS 256
#define TK_SLOTS 8
#define RECORDS_PAGE 1000
#define GEN_MIXED INT64_MIN

/* ---------------------------------------------------------------- libpq */

#define PQ_FUNCS(X)                                                          \
    X(PQclear) X(PQcmdTuples) X(PQconnectdbParams) X(PQconninfoFree)         \
    X(PQconninfoParse) X(PQconsumeInput) X(PQerrorMessage) X(PQexec)         \
    X(PQexecParams) X(PQexecPrepared) X(PQfinish) X(PQfreemem)               \
    X(PQgetisnull) X(PQgetlength) X(PQgetvalue) X(PQntuples) X(PQprepare)    \
    X(PQresultErrorField) X(PQresultErrorMessage) X(PQresultStatus)          \
    X(PQsetNoticeProcessor) X(PQstatus)

#define PQ_SONAME "libpq.so.5"

static struct {
#define PQ_DECL(f) __typeof__(f) *f;
    PQ_FUNCS(PQ_DECL)
#undef PQ_DECL
} pq;
static bool pq_loaded;
static char pq_error[160];
static pthread_once_t pq_once = PTHREAD_ONCE_INIT;

static void pq_load(void)
{
    void *h = dlopen(PQ_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        snprintf(pq_error, sizeof pq_error, "%s", dlerror());
        return;
    }
#define PQ_SYM(f)                                                            \
    {                                                                        \
        void *sym = dlsym(h, #f);                                            \
        if (sym == NULL) {                                                   \
            snprintf(pq_error, sizeof pq_error, "%s has no %s", PQ_SONAME,   \
                     #f);                                                    \
            return;                                                          \
        }                                                                    \
        memcpy(&pq.f, &sym, sizeof pq.f);                                    \
    }
    PQ_FUNCS(PQ_SYM)
#undef PQ_SYM
    pq_loaded = true; /* h stays open for the life of the process */
}

/* From here on every libpq call goes through the table. */
#define PQ_USE(f) pq.f
#define PQclear PQ_USE(PQclear)
#define PQcmdTuples PQ_USE(PQcmdTuples)
#define PQconnectdbParams PQ_USE(PQconnectdbParams)
#define PQconninfoFree PQ_USE(PQconninfoFree)
#define PQconninfoParse PQ_USE(PQconninfoParse)
#define PQconsumeInput PQ_USE(PQconsumeInput)
#define PQerrorMessage PQ_USE(PQerrorMessage)
#define PQexec PQ_USE(PQexec)
#define PQexecParams PQ_USE(PQexecParams)
#define PQexecPrepared PQ_USE(PQexecPrepared)
#define PQfinish PQ_USE(PQfinish)
#define PQfreemem PQ_USE(PQfreemem)
#define PQgetisnull PQ_USE(PQgetisnull)
#define PQgetlength PQ_USE(PQgetlength)
#define PQgetvalue PQ_USE(PQgetvalue)
#define PQntuples PQ_USE(PQntuples)
#define PQprepare PQ_USE(PQprepare)
#define PQresultErrorField PQ_USE(PQresultErrorField)
#define PQresultErrorMessage PQ_USE(PQresultErrorMessage)
#define PQresultStatus PQ_USE(PQresultStatus)
#define PQsetNoticeProcessor PQ_USE(PQsetNoticeProcessor)
#define PQstatus PQ_USE(PQstatus)

/* ---------------------------------------------------------------- schema */

/* v0 -> v1. One row of state: the schema version, the generation of the
 * operator rows (bumped by the triggers below on every change of them,
 * whoever makes it: kmsctl through any node, or psql), the replay mark
 * and the master key check value. The tables mirror the SQLite store's
 * (store_schema.c) keyed by PSK id, plus the two tables that the SQLite
 * store keeps per machine in its node state and that must be exact
 * across nodes here: the replay cache and the tickets resolved. */
static const char schema_v1[] =
    "CREATE TABLE kms_state ("
    "  one boolean PRIMARY KEY DEFAULT true CHECK (one),"
    "  schema_version integer NOT NULL,"
    "  gen bigint NOT NULL,"
    "  mark bigint NOT NULL,"
    "  master_key_check bytea);"
    "INSERT INTO kms_state(schema_version, gen, mark) VALUES (1, 1, 0);"
    "CREATE TABLE subscribers ("
    "  psk_id bytea PRIMARY KEY,"
    "  psk_wrapped bytea NOT NULL,"
    "  active boolean NOT NULL,"
    "  max_lifetime bigint NOT NULL DEFAULT 0,"
    "  forking boolean NOT NULL,"
    "  reuse boolean NOT NULL,"
    "  initiator_keys boolean NOT NULL DEFAULT false,"
    "  responder_keys boolean NOT NULL DEFAULT false,"
    "  created bigint NOT NULL);"
    "CREATE TABLE impus ("
    "  psk_id bytea NOT NULL REFERENCES subscribers ON DELETE CASCADE,"
    "  pos integer NOT NULL,"
    "  impu text NOT NULL,"
    "  PRIMARY KEY (psk_id, impu));"
    "CREATE INDEX impus_by_impu ON impus(impu);"
    "CREATE TABLE responder_patterns ("
    "  psk_id bytea NOT NULL REFERENCES subscribers ON DELETE CASCADE,"
    "  pos integer NOT NULL,"
    "  pattern text NOT NULL,"
    "  PRIMARY KEY (psk_id, pos));"
    "CREATE TABLE ticket_keys ("
    "  version integer PRIMARY KEY,"
    "  id bytea NOT NULL UNIQUE,"
    "  key_wrapped bytea NOT NULL,"
    "  state smallint NOT NULL CHECK (state IN (0, 1, 2)),"
    "  created bigint NOT NULL);"
    "CREATE UNIQUE INDEX ticket_keys_one_active ON ticket_keys(state)"
    "  WHERE state = 0;"
    "CREATE TABLE replay ("
    "  digest bytea PRIMARY KEY,"
    "  expires bigint NOT NULL);"
    "CREATE INDEX replay_by_expiry ON replay(expires);"
    "CREATE TABLE tickets_resolved ("
    "  id bytea PRIMARY KEY,"
    "  who bytea NOT NULL,"
    "  first bigint NOT NULL,"
    "  expires bigint NOT NULL);"
    "CREATE INDEX tickets_resolved_by_expiry ON tickets_resolved(expires);"
    "CREATE TABLE records ("
    "  id bigserial PRIMARY KEY,"
    "  time bigint NOT NULL,"
    "  service integer NOT NULL,"
    "  subscriber text NOT NULL,"
    "  initiator text NOT NULL,"
    "  responder text NOT NULL,"
    "  ticket_id text NOT NULL,"
    "  valid_from bigint NOT NULL,"
    "  valid_to bigint NOT NULL,"
    "  spis text NOT NULL,"
    "  outcome text NOT NULL);"
    "CREATE INDEX records_by_time ON records(time);"
    "CREATE FUNCTION kms_bump_gen() RETURNS trigger LANGUAGE plpgsql AS "
    "  $f$ BEGIN UPDATE kms_state SET gen = gen + 1; RETURN NULL; END $f$;"
#define GEN_TRIGGER(t)                                                       \
    "CREATE TRIGGER " t "_gen AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE " \
    "ON " t " FOR EACH STATEMENT EXECUTE FUNCTION kms_bump_gen();"
    GEN_TRIGGER("subscribers") GEN_TRIGGER("impus")
    GEN_TRIGGER("responder_patterns") GEN_TRIGGER("ticket_keys");
#undef GEN_TRIGGER

/* migrations[v] brings schema v to v + 1 */
static const char *const migrations[MK_PGSTORE_SCHEMA_VERSION] = {
    schema_v1};

/* ------------------------------------------------------- hot statements */

/* The subscriber's columns after the generation; IMPUs and patterns as
 * comma-separated hex, in order. */
#define SUB_COLS                                                             \
    "st.gen, encode(s.psk_id, 'hex'), encode(s.psk_wrapped, 'hex'), "        \
    "s.active, s.max_lifetime, s.forking, s.reuse, s.initiator_keys, "       \
    "s.responder_keys, "                                                     \
    "(SELECT string_agg(encode(convert_to(i.impu, 'UTF8'), 'hex'), ',' "     \
    "  ORDER BY i.pos) FROM impus i WHERE i.psk_id = s.psk_id), "            \
    "(SELECT string_agg(encode(convert_to(r.pattern, 'UTF8'), 'hex'), ',' "  \
    "  ORDER BY r.pos) FROM responder_patterns r WHERE r.psk_id = s.psk_id)"
#define SUB_NCOLS 11

typedef enum pq_id {
    Q_SUB_BY_ID,
    Q_SUB_BY_IMPU,
    Q_TK_ACTIVE,
    Q_TK_BY_ID,
    Q_COMMIT,
    Q__COUNT
} pq_id;

static const char *const hot_sql[Q__COUNT] = {
    /* one row always (the state's): the generation even when no
     * subscriber has the id, so that a refusal is checked at commit */
    [Q_SUB_BY_ID] = "SELECT " SUB_COLS " FROM kms_state st "
                    "LEFT JOIN subscribers s ON s.psk_id = $1::bytea",
    [Q_SUB_BY_IMPU] =
        "SELECT " SUB_COLS ", (SELECT count(*) FROM impus WHERE impu = $1) "
        "FROM kms_state st LEFT JOIN subscribers s ON s.psk_id = "
        "(SELECT psk_id FROM impus WHERE impu = $1 LIMIT 1)",
    [Q_TK_ACTIVE] = "SELECT st.gen, encode(k.id, 'hex'), "
                    "encode(k.key_wrapped, 'hex'), k.state FROM kms_state st "
                    "LEFT JOIN ticket_keys k ON k.state = 0",
    [Q_TK_BY_ID] = "SELECT st.gen, encode(k.id, 'hex'), "
                   "encode(k.key_wrapped, 'hex'), k.state FROM kms_state st "
                   "LEFT JOIN ticket_keys k ON k.id = $1::bytea "
                   "AND k.state IN (0, 1)",
    /* The answer (doc/profile.md §13.2), one statement: $3 the generation
     * its lookups were read at (NULL: none), $1 the replay digest (NULL:
     * a record alone) with expiry $2, $14 whether there is a record
     * ($4..$13), $15 the J = 0 note's ticket id (NULL: none), resolved by
     * the responder of hash $16 at $17, kept until $18, grace $19, the
     * record of the note's refusal ($20..$29) and that of the Error 1 the
     * answer becomes when the entry is taken ($30..$39). Nothing is
     * written at another generation. The replay entry is put only above
     * the mark; the note and the answer's record (or the refusal's) only
     * with it, the Error 1's record only without it. Of two copies put at
     * once by two nodes, the second waits on the first's key and then
     * finds it taken (ON CONFLICT DO NOTHING): exactly one wins. The note
     * (doc/profile.md §9.37): ON CONFLICT DO UPDATE locks the ticket's
     * row as it is now, committed by any node, replaces it only when
     * dead, and returns it, so the verdict needs no second read (a read
     * in this statement's snapshot would miss a note put at once by
     * another node). */
    [Q_COMMIT] =
        "WITH st AS (SELECT gen, mark FROM kms_state), "
        "gk AS (SELECT 1 FROM st WHERE $3::bigint IS NULL OR "
        "  st.gen = $3::bigint), "
        "ok AS (SELECT 1 FROM gk, st WHERE $1::bytea IS NULL OR "
        "  $2::bigint > st.mark), "
        "rp AS (INSERT INTO replay(digest, expires) SELECT $1::bytea, "
        "  $2::bigint FROM ok WHERE $1::bytea IS NOT NULL "
        "  ON CONFLICT (digest) DO NOTHING RETURNING 1), "
        "go AS (SELECT 1 FROM ok WHERE $1::bytea IS NULL OR "
        "  EXISTS (SELECT 1 FROM rp)), "
        "nt AS (INSERT INTO tickets_resolved AS t(id, who, first, expires) "
        "  SELECT $15::bytea, $16::bytea, $17::bigint, $18::bigint FROM go "
        "  WHERE $15::bytea IS NOT NULL ON CONFLICT (id) DO UPDATE SET "
        "  who = CASE WHEN t.expires <= $17::bigint THEN EXCLUDED.who "
        "    ELSE t.who END, "
        "  first = CASE WHEN t.expires <= $17::bigint THEN EXCLUDED.first "
        "    ELSE t.first END, "
        "  expires = CASE WHEN t.expires <= $17::bigint THEN "
        "    EXCLUDED.expires ELSE t.expires END "
        "  RETURNING t.who = $16::bytea AS same, "
        "  $17::bigint <= t.first + $19::bigint AS fresh), "
        /* which record: 1 the answer's, 2 the refusal's, 3 the Error 1's */
        "pick AS (SELECT CASE "
        "  WHEN EXISTS (SELECT 1 FROM go) THEN CASE WHEN "
        "    COALESCE((SELECT same AND fresh FROM nt), true) THEN 1 ELSE 2 END "
        "  WHEN $1::bytea IS NOT NULL AND EXISTS (SELECT 1 FROM gk) THEN 3 "
        "  ELSE 0 END AS kind), "
        "rc AS (INSERT INTO records(time, service, subscriber, initiator, "
        "  responder, ticket_id, valid_from, valid_to, spis, outcome) "
        "  SELECT v.a, v.b, v.c, v.d, v.e, v.f, v.g, v.h, v.i, v.j "
        "  FROM pick, (VALUES "
        "  ($4::bigint, $5::integer, $6::text, $7::text, $8::text, "
        "  $9::text, $10::bigint, $11::bigint, $12::text, $13::text, 1), "
        "  ($20::bigint, $21::integer, $22::text, $23::text, $24::text, "
        "  $25::text, $26::bigint, $27::bigint, $28::text, $29::text, 2), "
        "  ($30::bigint, $31::integer, $32::text, $33::text, $34::text, "
        "  $35::text, $36::bigint, $37::bigint, $38::text, $39::text, 3)"
        "  ) AS v(a, b, c, d, e, f, g, h, i, j, kind) "
        "  WHERE $14::boolean AND v.kind = pick.kind AND v.a IS NOT NULL "
        "  RETURNING 1) "
        "SELECT st.gen, st.mark, (SELECT count(*) FROM rp), "
        "(SELECT count(*) FROM rc), (SELECT same FROM nt), "
        "(SELECT fresh FROM nt) FROM st",
};

/* ---------------------------------------------------------------- types */

typedef struct sub_slot {
    bool used;
    uint8_t impu_ok; /* bit i: found by impu[i], its one owner */
    mk_subscriber sub;
} sub_slot;
typedef struct impu_slot {
    bool used;
    uint16_t sub;
    uint8_t impu;
} impu_slot;
typedef struct tk_slot {
    bool used;
    mk_ticket_key tk;
} tk_slot;

/* The rows looked up, all of generation gen (as store_int.h's
 * mk_store_cache, whose rules this follows). */
typedef struct pg_cache {
    bool gen_known;
    int64_t gen;
    bool armed;      /* an answer's commit found gen current */
    bool used;       /* this answer was served from the cache ... */
    int64_t used_gen;
    bool fresh;      /* ... or read rows at fresh_gen */
    int64_t fresh_gen;
    unsigned tk_next;
    mk_sqlstore_cache_counts stats;
    sub_slot subs[SUB_SLOTS];
    impu_slot impus[IMPU_SLOTS];
    tk_slot tks[TK_SLOTS];
} pg_cache;

struct mk_pgstore {
    PGconn *conn;
    char uri[PG_URI_MAX];
    mk_key master;
    uint32_t timeout_ms;
    bool durable;
    mk_node *node;
    unsigned prepared;   /* bit per pq_id prepared on this connection */
    uint64_t next_try_ms;
    char errmsg[256];
    pg_cache cache;
};

/* Parameters of one statement. */
typedef struct pgp {
    int n;
    bool over; /* more than PG_PARAMS_MAX pushed: pg_run refuses it */
    const char *v[PG_PARAMS_MAX];
    int len[PG_PARAMS_MAX];
    int fmt[PG_PARAMS_MAX];
    char num[PG_PARAMS_MAX][24];
} pgp;

static _Thread_local char open_errmsg[256];

/* ------------------------------------------------------------- helpers */

bool mk_pgstore_is_uri(const char *store)
{
    return store != NULL && (strncmp(store, "postgresql://", 13) == 0 ||
                             strncmp(store, "postgres://", 11) == 0);
}

bool mk_pgstore_built(void)
{
    return true;
}

static uint64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* Room for one more parameter, else the list is marked over. */
static bool p_room(pgp *a)
{
    if (a->n < PG_PARAMS_MAX)
        return true;
    a->over = true;
    return false;
}

static void p_bytes(pgp *a, mk_bytes b)
{
    if (!p_room(a))
        return;
    a->v[a->n] = b.n > 0 ? (const char *)b.p : "";
    a->len[a->n] = (int)b.n;
    a->fmt[a->n] = 1;
    a->n++;
}

static void p_text(pgp *a, const char *t)
{
    if (!p_room(a))
        return;
    a->v[a->n] = t;
    a->len[a->n] = 0;
    a->fmt[a->n] = 0;
    a->n++;
}

static void p_null(pgp *a)
{
    if (!p_room(a))
        return;
    a->v[a->n] = NULL;
    a->len[a->n] = 0;
    a->fmt[a->n] = 0;
    a->n++;
}

static void p_i64(pgp *a, int64_t v)
{
    if (!p_room(a))
        return;
    snprintf(a->num[a->n], sizeof a->num[a->n], "%lld", (long long)v);
    p_text(a, a->num[a->n]);
}

static void p_bool(pgp *a, bool b)
{
    p_text(a, b ? "t" : "f");
}

/* Keep the server's message (first line) for mk_pgstore_errmsg. */
static void keep_msg(char *dst, size_t cap, const char *what, const char *m)
{
    size_t n = m != NULL ? strcspn(m, "\n") : 0;
    snprintf(dst, cap, "%s: %.*s", what, (int)n, m != NULL ? m : "");
}

/* The SQLSTATE classes that mean "not now" (doc/profile.md §13.3):
 * connection exceptions, a server shutting down, starting or in
 * recovery, out of resources, a transaction to run again, a statement
 * over its timeout, a read-only server (a standby after a failover). */
static bool transient(const char *state)
{
    static const char *const codes[] = {"57P01", "57P02", "57P03", "40001",
                                        "40P01", "57014", "25006", "55P03",
                                        "55000"};
    if (state == NULL)
        return true;
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
        strncmp(state, "58", 2) == 0)
        return true;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(state, codes[i]) == 0)
            return true;
    return false;
}

static void drop_conn(mk_pgstore *p)
{
    if (p->conn == NULL)
        return;
    PQfinish(p->conn);
    p->conn = NULL;
    p->prepared = 0;
}

static void cache_drop(mk_pgstore *p);

/* A failed statement: its error, the connection dropped when it is gone
 * (the next call reconnects). */
static mk_err pg_fail(mk_pgstore *p, PGresult *r, const char *what)
{
    const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE)
                                  : NULL;
    const char *m = r != NULL ? PQresultErrorMessage(r) : NULL;
    if (m == NULL || m[0] == '\0')
        m = p->conn != NULL ? PQerrorMessage(p->conn) : "no connection";
    keep_msg(p->errmsg, sizeof p->errmsg, what, m);
    if (p->conn == NULL || PQstatus(p->conn) != CONNECTION_OK) {
        drop_conn(p);
        cache_drop(p);
        MK_FAIL(MK_E_UNAVAILABLE, "PostgreSQL connection lost");
    }
    if (transient(state))
        MK_FAIL(MK_E_UNAVAILABLE, "PostgreSQL cannot serve now");
    if (strcmp(state, "23505") == 0)
        MK_FAIL(MK_E_EXISTS, "already there");
    if (strcmp(state, "42P01") == 0)
        MK_FAIL(MK_E_CONFIG, "not a mikeykms store (kmsctl init)");
    MK_FAIL(MK_E_INTERNAL, "PostgreSQL refused a statement");
}

/* Settings of every session: synchronous_commit from durable
 * (doc/profile.md §13.2), the timeouts, hex bytea, and generic plans for
 * the prepared statements: left to choose, PostgreSQL planned the
 * answer's commit (Q_COMMIT, 39 parameters) anew at every execution, 350
 * us of server CPU per answer instead of 160 (doc/benchmarks.md). */
static mk_err session_setup(mk_pgstore *p)
{
    char sql[320];
    int n = snprintf(sql, sizeof sql,
                     "SET synchronous_commit = %s; SET statement_timeout = %u; "
                     "SET lock_timeout = %u; SET bytea_output = hex; "
                     "SET client_min_messages = warning; "
                     "SET plan_cache_mode = force_generic_plan",
                     p->durable ? "on" : "off", (unsigned)p->timeout_ms,
                     (unsigned)p->timeout_ms);
    if (n < 0 || (size_t)n >= sizeof sql)
        MK_FAIL(MK_E_INTERNAL, "session settings longer than their buffer");
    PGresult *r = PQexec(p->conn, sql);
    mk_err e = MK_OK;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        e = pg_fail(p, r, "session settings");
    PQclear(r);
    return e;
}

/* libpq's notices (a server's FATAL before it closes, a WARNING) go to
 * standard error by default, which is kmsd's log, unformatted; the
 * failures they announce reach the caller as errors with the server's
 * message (mk_pgstore_errmsg) instead. */
static void no_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* The connection, made again when it was lost: at most one attempt every
 * MK_PG_RECONNECT_MS, so that while the server is down an answer is
 * refused at once (503) instead of each waiting for a connect. */
static mk_err pg_connect(mk_pgstore *p)
{
    if (p->conn != NULL && PQstatus(p->conn) == CONNECTION_OK) {
        /* A server that ended this idle connection (a shutdown, a restart,
         * a failover) said so on the socket: read it (without waiting)
         * before sending, so that the statement goes on a new connection
         * instead of failing on the dead one (doc/profile.md §13.3). */
        if (PQconsumeInput(p->conn) == 1 &&
            PQstatus(p->conn) == CONNECTION_OK)
            return MK_OK;
        drop_conn(p);
        p->next_try_ms = 0;
    }
    uint64_t now = mono_ms();
    if (now < p->next_try_ms)
        MK_FAIL(MK_E_UNAVAILABLE, "PostgreSQL unreachable (retrying)");
    p->next_try_ms = now + MK_PG_RECONNECT_MS;
    drop_conn(p);
    cache_drop(p);
    char ct[16];
    unsigned s = (p->timeout_ms + 999) / 1000;
    snprintf(ct, sizeof ct, "%u", s < 2 ? 2 : s);
    /* ours first: what the URI says wins (libpq, expand_dbname) */
    const char *const keys[] = {"connect_timeout", "application_name",
                                "dbname", NULL};
    const char *const vals[] = {ct, "mikeykms", p->uri, NULL};
    p->conn = PQconnectdbParams(keys, vals, 1);
    if (p->conn == NULL || PQstatus(p->conn) != CONNECTION_OK) {
        keep_msg(p->errmsg, sizeof p->errmsg, "connect",
                 p->conn != NULL ? PQerrorMessage(p->conn) : "out of memory");
        drop_conn(p);
        MK_FAIL(MK_E_UNAVAILABLE, "PostgreSQL unreachable");
    }
    PQsetNoticeProcessor(p->conn, no_notices, NULL);
    return session_setup(p);
}

/* Run one statement: a hot one (prepared once per connection) or sql.
 * *out holds the result on MK_OK (PQclear it). */
static mk_err pg_run(mk_pgstore *p, int q, const char *sql, const pgp *a,
                     PGresult **out, const char *what)
{
    static const pgp none;
    char name[16];
    PGresult *r;
    *out = NULL;
    if (a == NULL)
        a = &none;
    if (a->over)
        MK_FAIL(MK_E_INTERNAL, "more statement parameters than PG_PARAMS_MAX");
    MK_GUARD(pg_connect(p));
    if (q >= 0) {
        snprintf(name, sizeof name, "mk%d", q);
        if (!(p->prepared & (1u << q))) {
            r = PQprepare(p->conn, name, hot_sql[q], 0, NULL);
            if (PQresultStatus(r) != PGRES_COMMAND_OK) {
                mk_err e = pg_fail(p, r, what);
                PQclear(r);
                return e;
            }
            PQclear(r);
            p->prepared |= 1u << q;
        }
        r = PQexecPrepared(p->conn, name, a->n, a->v, a->len, a->fmt, 0);
    } else {
        r = PQexecParams(p->conn, sql, a->n, NULL, a->v, a->len, a->fmt, 0);
    }
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        *out = r;
        return MK_OK;
    }
    mk_err e = pg_fail(p, r, what);
    PQclear(r);
    return e;
}

/* A statement whose result is not needed. */
static mk_err pg_do(mk_pgstore *p, const char *sql, const pgp *a,
                    const char *what)
{
    PGresult *r = NULL;
    MK_GUARD(pg_run(p, -1, sql, a, &r, what));
    PQclear(r);
    return MK_OK;
}

static mk_err pg_begin(mk_pgstore *p)
{
    return pg_do(p, "BEGIN", NULL, "begin");
}

/* Commit when rc is MK_OK, else roll back; rc or the commit's error. */
static mk_err pg_end(mk_pgstore *p, mk_err rc)
{
    if (rc == MK_OK)
        return pg_do(p, "COMMIT", NULL, "commit");
    if (p->conn != NULL && PQstatus(p->conn) == CONNECTION_OK) {
        PGresult *r = PQexec(p->conn, "ROLLBACK");
        PQclear(r);
    }
    return rc;
}

static bool col_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) != 0;
}

static int64_t col_i64(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static bool col_bool(const PGresult *r, int row, int col)
{
    return PQgetvalue(r, row, col)[0] == 't';
}

/* A hex column (encode(..., 'hex')) into out. */
static mk_err col_hex(const PGresult *r, int row, int col, uint8_t *out,
                      size_t cap, size_t *n)
{
    const char *h = PQgetvalue(r, row, col);
    size_t hl = (size_t)PQgetlength(r, row, col);
    if (hl / 2 > cap)
        MK_FAIL(MK_E_INTERNAL, "stored value longer than its field");
    return mk_hex_decode(h, hl, out, cap, n);
}

static mk_err col_text(const PGresult *r, int row, int col, char *out,
                       size_t cap)
{
    size_t n = (size_t)PQgetlength(r, row, col);
    if (n >= cap)
        MK_FAIL(MK_E_INTERNAL, "stored text longer than its field");
    memcpy(out, PQgetvalue(r, row, col), n);
    out[n] = '\0';
    return MK_OK;
}

/* A comma-separated list of hex strings into fixed strings. */
static mk_err col_hex_list(const PGresult *r, int row, int col,
                           char (*dst)[MK_URI_MAX], size_t max, size_t *n)
{
    *n = 0;
    if (col_null(r, row, col))
        return MK_OK;
    const char *s = PQgetvalue(r, row, col);
    while (*s != '\0') {
        size_t len = strcspn(s, ","), got = 0;
        if (*n == max || len / 2 >= MK_URI_MAX)
            MK_FAIL(MK_E_INTERNAL, "stored subscriber has too many entries");
        MK_GUARD(mk_hex_decode(s, len, (uint8_t *)dst[*n], MK_URI_MAX - 1,
                               &got));
        dst[*n][got] = '\0';
        (*n)++;
        s += len;
        if (*s == ',')
            s++;
    }
    return MK_OK;
}

/* ---------------------------------------------------------------- cache */

static size_t hash_of(mk_bytes b)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < b.n; i++)
        h = (h ^ b.p[i]) * 16777619u;
    return h;
}

static void cache_drop(mk_pgstore *p)
{
    pg_cache *c = &p->cache;
    for (size_t i = 0; i < SUB_SLOTS; i++)
        if (c->subs[i].used) {
            mk_subscriber_wipe(&c->subs[i].sub);
            c->subs[i].used = false;
        }
    memset(c->impus, 0, sizeof c->impus);
    for (size_t i = 0; i < TK_SLOTS; i++)
        if (c->tks[i].used) {
            mk_key_wipe(&c->tks[i].tk.key);
            memset(&c->tks[i], 0, sizeof c->tks[i]);
        }
    if (c->gen_known || c->armed)
        c->stats.drops++;
    c->gen_known = c->armed = false;
}

/* This answer is served from the cache (rows of c->gen). */
static void cache_hit(pg_cache *c)
{
    if (c->used && c->used_gen != c->gen)
        c->used_gen = GEN_MIXED;
    else if (!c->used)
        c->used_gen = c->gen;
    c->used = true;
    c->stats.hits++;
}

/* A lookup read the database at generation gen: rows of another
 * generation go. */
static void cache_fresh(mk_pgstore *p, int64_t gen)
{
    pg_cache *c = &p->cache;
    if (c->fresh && c->fresh_gen != gen)
        c->fresh_gen = GEN_MIXED;
    else if (!c->fresh)
        c->fresh_gen = gen;
    c->fresh = true;
    c->stats.misses++;
    if (!c->gen_known || c->gen != gen) {
        cache_drop(p);
        c->gen_known = true;
        c->gen = gen;
    }
}

static void cache_sub_put(pg_cache *c, const mk_subscriber *s, mk_bytes impu)
{
    sub_slot *sl = &c->subs[hash_of(MK_BYTES(s->psk_id, s->psk_id_len)) %
                            SUB_SLOTS];
    bool same = sl->used && sl->sub.psk_id_len == s->psk_id_len &&
                memcmp(sl->sub.psk_id, s->psk_id, s->psk_id_len) == 0;
    uint8_t ok = same ? sl->impu_ok : 0;
    if (sl->used)
        mk_subscriber_wipe(&sl->sub);
    sl->sub = *s;
    sl->used = true;
    sl->impu_ok = ok;
    if (impu.n == 0)
        return;
    for (size_t i = 0; i < s->n_impu; i++)
        if (strlen(s->impu[i]) == impu.n &&
            memcmp(s->impu[i], impu.p, impu.n) == 0) {
            sl->impu_ok |= (uint8_t)(1u << i);
            impu_slot *is = &c->impus[hash_of(impu) % IMPU_SLOTS];
            is->used = true;
            is->sub = (uint16_t)(sl - c->subs);
            is->impu = (uint8_t)i;
        }
}

static bool cache_sub_by_id(pg_cache *c, mk_bytes id, mk_subscriber *out)
{
    if (!c->armed)
        return false;
    const sub_slot *sl = &c->subs[hash_of(id) % SUB_SLOTS];
    if (!sl->used || sl->sub.psk_id_len != id.n ||
        memcmp(sl->sub.psk_id, id.p, id.n) != 0)
        return false;
    *out = sl->sub;
    cache_hit(c);
    return true;
}

static bool cache_sub_by_impu(pg_cache *c, mk_bytes impu, mk_subscriber *out)
{
    if (!c->armed)
        return false;
    const impu_slot *is = &c->impus[hash_of(impu) % IMPU_SLOTS];
    if (!is->used)
        return false;
    const sub_slot *sl = &c->subs[is->sub];
    if (!sl->used || is->impu >= sl->sub.n_impu ||
        !(sl->impu_ok & (1u << is->impu)) ||
        strlen(sl->sub.impu[is->impu]) != impu.n ||
        memcmp(sl->sub.impu[is->impu], impu.p, impu.n) != 0)
        return false;
    *out = sl->sub;
    cache_hit(c);
    return true;
}

static void cache_tk_put(pg_cache *c, const mk_ticket_key *tk)
{
    tk_slot *sl = &c->tks[c->tk_next++ % TK_SLOTS];
    for (size_t i = 0; i < TK_SLOTS; i++) /* the same key once */
        if (c->tks[i].used && c->tks[i].tk.id_len == tk->id_len &&
            memcmp(c->tks[i].tk.id, tk->id, tk->id_len) == 0)
            sl = &c->tks[i];
    if (sl->used)
        mk_key_wipe(&sl->tk.key);
    sl->tk = *tk;
    sl->used = true;
}

static bool cache_tk(pg_cache *c, bool active, mk_bytes id,
                     mk_ticket_key *out)
{
    if (!c->armed)
        return false;
    for (size_t i = 0; i < TK_SLOTS; i++) {
        const tk_slot *sl = &c->tks[i];
        if (!sl->used)
            continue;
        if (active ? sl->tk.state == MK_TK_ACTIVE
                   : sl->tk.id_len == id.n &&
                         memcmp(sl->tk.id, id.p, id.n) == 0) {
            *out = sl->tk;
            cache_hit(c);
            return true;
        }
    }
    return false;
}

void mk_pgstore_cache_stats(const mk_pgstore *p,
                            mk_sqlstore_cache_counts *out)
{
    *out = p->cache.stats;
}

/* ---------------------------------------------------------------- open */

const char *mk_pgstore_errmsg(const mk_pgstore *p)
{
    return p != NULL ? p->errmsg : open_errmsg;
}

void mk_pgstore_close(mk_pgstore *p)
{
    if (p == NULL)
        return;
    drop_conn(p);
    cache_drop(p);
    mk_node_close(p->node);
    mk_key_wipe(&p->master);
    mk_wipe(p, sizeof *p);
    free(p);
}

/* The master key check (as the SQLite store's, store_db.c): 16 zero bytes
 * wrapped under the master key; written by init when missing. */
static mk_err check_master_key(mk_pgstore *p, bool may_write)
{
    static const uint8_t zero[16];
    PGresult *r = NULL;
    mk_key probe = {0};
    uint8_t w[sizeof zero + 8];
    size_t wn = 0;
    mk_err rc;
    MK_GUARD(pg_run(p, -1,
                    "SELECT encode(master_key_check, 'hex') FROM kms_state",
                    NULL, &r, "read the store state"));
    if (PQntuples(r) != 1) {
        PQclear(r);
        MK_FAIL(MK_E_CONFIG, "store state row missing (damaged store)");
    }
    if (!col_null(r, 0, 0)) {
        rc = col_hex(r, 0, 0, w, sizeof w, &wn);
        PQclear(r);
        MK_GUARD(rc);
        rc = mk_store_unwrap_under(&p->master, MK_WRAP_DOMAIN_CHECK,
                                   MK_BYTES_NONE, MK_BYTES(w, wn), &probe);
        if (rc == MK_OK && (probe.n != sizeof zero ||
                            memcmp(probe.b, zero, sizeof zero) != 0))
            rc = MK_E_UNWRAP;
        mk_key_wipe(&probe);
        if (rc == MK_E_UNWRAP)
            MK_FAIL(MK_E_UNWRAP, "the master key does not match this store");
        return rc;
    }
    PQclear(r);
    if (!may_write)
        MK_FAIL(MK_E_CONFIG, "store has no master key check value (not made "
                             "by kmsctl init, or damaged)");
    MK_GUARD(mk_store_wrap_under(&p->master, MK_WRAP_DOMAIN_CHECK,
                                 MK_BYTES_NONE, MK_BYTES(zero, sizeof zero),
                                 w, sizeof w, &wn));
    pgp a = {0};
    p_bytes(&a, MK_BYTES(w, wn));
    return pg_do(p, "UPDATE kms_state SET master_key_check = $1::bytea", &a,
                 "write the master key check value");
}

/* The schema version; 0 when there is no kms_state table. */
static mk_err schema_version(mk_pgstore *p, int *v)
{
    PGresult *r = NULL;
    MK_GUARD(pg_run(p, -1,
                    "SELECT CASE WHEN to_regclass('kms_state') IS NULL "
                    "THEN 0 ELSE -1 END",
                    NULL, &r, "read the schema version"));
    *v = (int)col_i64(r, 0, 0);
    PQclear(r);
    if (*v == 0)
        return MK_OK;
    MK_GUARD(pg_run(p, -1, "SELECT schema_version FROM kms_state", NULL, &r,
                    "read the schema version"));
    *v = PQntuples(r) == 1 ? (int)col_i64(r, 0, 0) : -1;
    PQclear(r);
    if (*v < 1)
        MK_FAIL(MK_E_CONFIG, "store state row missing (damaged store)");
    return MK_OK;
}

/* kmsctl init / migrate: create or migrate forward, one transaction, one
 * migrator at a time (an advisory lock). */
static mk_err migrate(mk_pgstore *p)
{
    int v = 0;
    mk_err rc;
    MK_GUARD(pg_begin(p));
    MK_GUARD_GOTO(pg_do(p, "SELECT pg_advisory_xact_lock(7166366)", NULL,
                        "lock the schema"),
                  rc, done);
    MK_GUARD_GOTO(schema_version(p, &v), rc, done);
    if (v > MK_PGSTORE_SCHEMA_VERSION) {
        rc = mk_err_raise(MK_E_CONFIG, -1, 0,
                          "store schema is newer than this kmsctl");
        goto done;
    }
    for (; v < MK_PGSTORE_SCHEMA_VERSION; v++) {
        PGresult *r = PQexec(p->conn, migrations[v]);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            rc = pg_fail(p, r, "migrate the schema");
            PQclear(r);
            goto done;
        }
        PQclear(r);
        pgp a = {0};
        p_i64(&a, v + 1);
        MK_GUARD_GOTO(pg_do(p, "UPDATE kms_state SET schema_version = "
                               "$1::integer", &a, "migrate the schema"),
                      rc, done);
    }
    rc = check_master_key(p, true);
done:
    return pg_end(p, rc);
}

static mk_err check_existing(mk_pgstore *p)
{
    int v = 0;
    MK_GUARD(schema_version(p, &v));
    if (v == 0)
        MK_FAIL(MK_E_CONFIG, "not a mikeykms store (run kmsctl init)");
    if (v != MK_PGSTORE_SCHEMA_VERSION)
        MK_FAIL(MK_E_CONFIG, v < MK_PGSTORE_SCHEMA_VERSION
                                 ? "store schema is older (run kmsctl migrate)"
                                 : "store schema is newer than this program");
    return check_master_key(p, false);
}

mk_err mk_pgstore_open(const char *uri, mk_bytes master_key,
                       const mk_pgstore_opts *o, mk_pgstore **out)
{
    PQconninfoOption *opts = NULL;
    char *perr = NULL;
    mk_err e;
    *out = NULL;
    open_errmsg[0] = '\0';
    if (!mk_pgstore_is_uri(uri) || strlen(uri) >= PG_URI_MAX)
        MK_FAIL(MK_E_CONFIG, "not a postgresql:// URI");
    if (master_key.n != MK_MASTER_KEY_LEN)
        MK_FAIL(MK_E_ARG, "master key must be 32 bytes");
    pthread_once(&pq_once, pq_load);
    if (!pq_loaded) {
        snprintf(open_errmsg, sizeof open_errmsg, "%s", pq_error);
        MK_FAIL(MK_E_CONFIG, "cannot load libpq (Debian: libpq5)");
    }
    /* the URI is logged: its password must come from elsewhere */
    opts = PQconninfoParse(uri, &perr);
    if (opts == NULL) {
        keep_msg(open_errmsg, sizeof open_errmsg, "URI", perr);
        PQfreemem(perr);
        MK_FAIL(MK_E_CONFIG, "store URI is not a libpq connection URI");
    }
    bool has_password = false;
    for (PQconninfoOption *c = opts; c->keyword != NULL; c++)
        if (strcmp(c->keyword, "password") == 0 && c->val != NULL)
            has_password = true;
    PQconninfoFree(opts);
    if (has_password)
        MK_FAIL(MK_E_CONFIG, "store URI holds a password: put it in a "
                             "password file (passfile=, PGPASSFILE)");
    mk_pgstore *p = calloc(1, sizeof *p);
    if (p == NULL)
        MK_FAIL(MK_E_UNAVAILABLE, "out of memory");
    strcpy(p->uri, uri); /* length checked above */
    p->timeout_ms = o != NULL && o->timeout_ms > 0 ? o->timeout_ms : 2000;
    p->durable = o != NULL && o->durable;
    p->node = o != NULL && o->node != NULL ? mk_node_ref(o->node) : NULL;
    if ((e = mk_key_copy(&p->master, master_key)) == MK_OK) {
        e = pg_connect(p);
        if (e == MK_OK)
            e = o != NULL && o->init ? migrate(p) : check_existing(p);
    }
    if (e != MK_OK) {
        mk_err_detail keep = *mk_err_last();
        snprintf(open_errmsg, sizeof open_errmsg, "%s", p->errmsg);
        mk_pgstore_close(p);
        return mk_err_raise(keep.code, keep.payload, keep.offset, keep.what);
    }
    *out = p;
    return MK_OK;
}

/* ---------------------------------------------------------- subscribers */

/* The subscriber of a lookup's row (columns SUB_COLS), PSK unwrapped. */
static mk_err sub_from_row(mk_pgstore *p, const PGresult *r,
                           mk_subscriber *out)
{
    uint8_t wrapped[MK_WRAPPED_MAX];
    size_t wn = 0;
    mk_err rc;
    memset(out, 0, sizeof *out);
    MK_GUARD(col_hex(r, 0, 1, out->psk_id, sizeof out->psk_id,
                     &out->psk_id_len));
    MK_GUARD(col_hex(r, 0, 2, wrapped, sizeof wrapped, &wn));
    out->active = col_bool(r, 0, 3);
    int64_t ml = col_i64(r, 0, 4);
    out->policy.max_lifetime =
        ml < 0 ? 0 : ml > UINT32_MAX ? UINT32_MAX : (uint32_t)ml;
    out->policy.forking_allowed = col_bool(r, 0, 5);
    out->policy.reuse_allowed = col_bool(r, 0, 6);
    out->policy.initiator_keys_allowed = col_bool(r, 0, 7);
    out->policy.responder_keys_allowed = col_bool(r, 0, 8);
    MK_GUARD(col_hex_list(r, 0, 9, out->impu, MK_IMPU_MAX, &out->n_impu));
    MK_GUARD(col_hex_list(r, 0, 10, out->policy.responder_patterns,
                          MK_PATTERN_MAX, &out->policy.n_patterns));
    rc = mk_store_unwrap_under(&p->master, MK_WRAP_DOMAIN_PSK,
                               MK_BYTES(out->psk_id, out->psk_id_len),
                               MK_BYTES(wrapped, wn), &out->psk);
    if (rc == MK_OK && out->psk.n != 16 && out->psk.n != 32)
        rc = mk_err_raise(MK_E_INTERNAL, -1, 0, "stored PSK has a bad length");
    return rc;
}

/* One lookup of a subscriber (by id or by IMPU) in the database. */
static mk_err sub_lookup(mk_pgstore *p, pq_id q, mk_bytes key, bool text,
                         mk_subscriber *out)
{
    PGresult *r = NULL;
    char impu[MK_URI_MAX];
    pgp a = {0};
    mk_err rc;
    if (text) {
        memcpy(impu, key.p, key.n);
        impu[key.n] = '\0';
        p_text(&a, impu);
    } else {
        p_bytes(&a, key);
    }
    MK_GUARD(pg_run(p, q, NULL, &a, &r, "look up a subscriber"));
    if (PQntuples(r) != 1) {
        PQclear(r);
        MK_FAIL(MK_E_INTERNAL, "store state row missing");
    }
    cache_fresh(p, col_i64(r, 0, 0));
    if (text && col_i64(r, 0, SUB_NCOLS) > 1)
        rc = mk_err_raise(MK_E_NOT_FOUND, -1, 0,
                          "IMPU belongs to several subscribers");
    else if (col_null(r, 0, 1))
        rc = mk_err_raise(MK_E_NOT_FOUND, -1, 0,
                          text ? "no subscriber has this IMPU"
                               : "no such subscriber");
    else
        rc = sub_from_row(p, r, out);
    PQclear(r);
    if (rc == MK_OK)
        cache_sub_put(&p->cache, out, text ? key : MK_BYTES_NONE);
    else
        mk_subscriber_wipe(out);
    return rc;
}

mk_err mk_pgstore_subscriber_get(mk_pgstore *p, mk_bytes psk_id,
                                 mk_subscriber *out)
{
    mk_subscriber_wipe(out);
    if (psk_id.n == 0 || psk_id.n > MK_PSK_ID_MAX)
        MK_FAIL(MK_E_NOT_FOUND, "no such subscriber");
    if (cache_sub_by_id(&p->cache, psk_id, out))
        return MK_OK;
    return sub_lookup(p, Q_SUB_BY_ID, psk_id, false, out);
}

static mk_err sub_by_impu(mk_pgstore *p, mk_bytes impu, mk_subscriber *out)
{
    mk_subscriber_wipe(out);
    /* only URIs the store accepts can be there (mk_sqlstore_impu_ok);
     * anything else, say bytes that are not UTF-8, which the server would
     * refuse as text (a 503), is found nowhere */
    if (impu.n == 0 || impu.n >= MK_URI_MAX || !mk_uri_sip_tel_ok(impu))
        MK_FAIL(MK_E_NOT_FOUND, "no subscriber has this IMPU");
    if (cache_sub_by_impu(&p->cache, impu, out))
        return MK_OK;
    return sub_lookup(p, Q_SUB_BY_IMPU, impu, true, out);
}

mk_err mk_pgstore_subscriber_add(mk_pgstore *p, const mk_subscriber *sub)
{
    uint8_t wrapped[MK_WRAPPED_MAX];
    size_t wn = 0;
    mk_err rc;
    MK_GUARD(mk_store_subscriber_check(sub));
    mk_bytes id = MK_BYTES(sub->psk_id, sub->psk_id_len);
    MK_GUARD(mk_store_wrap_under(&p->master, MK_WRAP_DOMAIN_PSK, id,
                                 mk_key_bytes(&sub->psk), wrapped,
                                 sizeof wrapped, &wn));
    MK_GUARD(pg_begin(p));
    pgp a = {0};
    p_bytes(&a, id);
    p_bytes(&a, MK_BYTES(wrapped, wn));
    p_bool(&a, sub->active);
    p_i64(&a, sub->policy.max_lifetime);
    p_bool(&a, sub->policy.forking_allowed);
    p_bool(&a, sub->policy.reuse_allowed);
    p_bool(&a, sub->policy.initiator_keys_allowed);
    p_bool(&a, sub->policy.responder_keys_allowed);
    p_i64(&a, (int64_t)time(NULL));
    rc = pg_do(p, "INSERT INTO subscribers(psk_id, psk_wrapped, active, "
                  "max_lifetime, forking, reuse, initiator_keys, "
                  "responder_keys, created) VALUES ($1::bytea, $2::bytea, "
                  "$3::boolean, $4::bigint, $5::boolean, $6::boolean, "
                  "$7::boolean, $8::boolean, $9::bigint)",
               &a, "add a subscriber");
    if (rc == MK_E_EXISTS)
        mk_err_raise(rc, -1, 0, "a subscriber has this PSK id");
    for (size_t i = 0; rc == MK_OK && i < sub->n_impu; i++) {
        pgp b = {0};
        p_bytes(&b, id);
        p_i64(&b, (int64_t)i);
        p_text(&b, sub->impu[i]);
        rc = pg_do(p, "INSERT INTO impus(psk_id, pos, impu) VALUES "
                      "($1::bytea, $2::integer, $3::text)",
                   &b, "add an IMPU");
    }
    for (size_t i = 0; rc == MK_OK && i < sub->policy.n_patterns; i++) {
        pgp b = {0};
        p_bytes(&b, id);
        p_i64(&b, (int64_t)i);
        p_text(&b, sub->policy.responder_patterns[i]);
        rc = pg_do(p, "INSERT INTO responder_patterns(psk_id, pos, pattern) "
                      "VALUES ($1::bytea, $2::integer, $3::text)",
                   &b, "add a responder pattern");
    }
    mk_wipe(wrapped, sizeof wrapped);
    rc = pg_end(p, rc);
    cache_drop(p);
    return rc;
}

/* UPDATE / DELETE of one subscriber: MK_E_NOT_FOUND when none was. */
static mk_err sub_change(mk_pgstore *p, const char *sql, pgp *a)
{
    PGresult *r = NULL;
    MK_GUARD(pg_run(p, -1, sql, a, &r, "change a subscriber"));
    bool none = strcmp(PQcmdTuples(r), "0") == 0;
    PQclear(r);
    cache_drop(p);
    if (none)
        MK_FAIL(MK_E_NOT_FOUND, "no such subscriber");
    return MK_OK;
}

mk_err mk_pgstore_subscriber_set_active(mk_pgstore *p, mk_bytes psk_id,
                                        bool active)
{
    pgp a = {0};
    p_bytes(&a, psk_id);
    p_bool(&a, active);
    return sub_change(p, "UPDATE subscribers SET active = $2::boolean "
                         "WHERE psk_id = $1::bytea", &a);
}

mk_err mk_pgstore_subscriber_remove(mk_pgstore *p, mk_bytes psk_id)
{
    pgp a = {0};
    p_bytes(&a, psk_id);
    return sub_change(p, "DELETE FROM subscribers WHERE psk_id = $1::bytea",
                      &a);
}

mk_err mk_pgstore_subscriber_list(mk_pgstore *p, mk_sqlstore_subscriber_cb cb,
                                  void *arg)
{
    PGresult *r = NULL;
    mk_err rc = MK_OK;
    MK_GUARD(pg_run(p, -1,
                    "SELECT " SUB_COLS ", length(s.psk_wrapped) - 8 "
                    "FROM subscribers s, kms_state st ORDER BY s.psk_id",
                    NULL, &r, "list the subscribers"));
    for (int i = 0; rc == MK_OK && i < PQntuples(r); i++) {
        static mk_subscriber s; /* large; no PSK in it */
        memset(&s, 0, sizeof s);
        rc = col_hex(r, i, 1, s.psk_id, sizeof s.psk_id, &s.psk_id_len);
        s.active = col_bool(r, i, 3);
        int64_t ml = col_i64(r, i, 4);
        s.policy.max_lifetime =
            ml < 0 ? 0 : ml > UINT32_MAX ? UINT32_MAX : (uint32_t)ml;
        s.policy.forking_allowed = col_bool(r, i, 5);
        s.policy.reuse_allowed = col_bool(r, i, 6);
        s.policy.initiator_keys_allowed = col_bool(r, i, 7);
        s.policy.responder_keys_allowed = col_bool(r, i, 8);
        if (rc == MK_OK)
            rc = col_hex_list(r, i, 9, s.impu, MK_IMPU_MAX, &s.n_impu);
        if (rc == MK_OK)
            rc = col_hex_list(r, i, 10, s.policy.responder_patterns,
                              MK_PATTERN_MAX, &s.policy.n_patterns);
        int64_t pl = col_i64(r, i, SUB_NCOLS);
        if (rc == MK_OK)
            rc = cb(arg, &s, pl < 0 ? 0 : (size_t)pl);
    }
    PQclear(r);
    return rc;
}

mk_err mk_pgstore_impu_owners(mk_pgstore *p, const char *impu, size_t *count)
{
    PGresult *r = NULL;
    pgp a = {0};
    p_text(&a, impu);
    MK_GUARD(pg_run(p, -1, "SELECT count(*) FROM impus WHERE impu = $1::text",
                    &a, &r, "look up an IMPU"));
    *count = (size_t)col_i64(r, 0, 0);
    PQclear(r);
    return MK_OK;
}

/* ---------------------------------------------------------- ticket keys */

static mk_err tk_lookup(mk_pgstore *p, pq_id q, mk_bytes id,
                        mk_ticket_key *out)
{
    PGresult *r = NULL;
    uint8_t wrapped[MK_WRAPPED_MAX];
    size_t wn = 0;
    pgp a = {0};
    mk_err rc;
    if (q == Q_TK_BY_ID)
        p_bytes(&a, id);
    MK_GUARD(pg_run(p, q, NULL, &a, &r, "look up a ticket key"));
    if (PQntuples(r) != 1) {
        PQclear(r);
        MK_FAIL(MK_E_INTERNAL, "store state row missing");
    }
    cache_fresh(p, col_i64(r, 0, 0));
    if (col_null(r, 0, 1)) {
        PQclear(r);
        if (q == Q_TK_ACTIVE)
            MK_FAIL(MK_E_NOT_FOUND,
                    "no active ticket key (kmsctl ticketkey rotate)");
        MK_FAIL(MK_E_NOT_FOUND, "no such ticket key");
    }
    rc = col_hex(r, 0, 1, out->id, sizeof out->id, &out->id_len);
    if (rc == MK_OK)
        rc = col_hex(r, 0, 2, wrapped, sizeof wrapped, &wn);
    out->state = (mk_tk_state)col_i64(r, 0, 3);
    PQclear(r);
    if (rc == MK_OK)
        rc = mk_store_unwrap_under(&p->master, MK_WRAP_DOMAIN_TPK,
                                   MK_BYTES(out->id, out->id_len),
                                   MK_BYTES(wrapped, wn), &out->key);
    if (rc == MK_OK && out->key.n != MK_TPK_LEN)
        rc = mk_err_raise(MK_E_INTERNAL, -1, 0,
                          "stored ticket key has a bad length");
    if (rc == MK_OK)
        cache_tk_put(&p->cache, out);
    else
        mk_key_wipe(&out->key);
    return rc;
}

static mk_err tk_active(mk_pgstore *p, mk_ticket_key *out)
{
    memset(out, 0, sizeof *out);
    if (cache_tk(&p->cache, true, MK_BYTES_NONE, out))
        return MK_OK;
    return tk_lookup(p, Q_TK_ACTIVE, MK_BYTES_NONE, out);
}

static mk_err tk_by_id(mk_pgstore *p, mk_bytes id, mk_ticket_key *out)
{
    memset(out, 0, sizeof *out);
    if (id.n == 0 || id.n > MK_TK_ID_MAX)
        MK_FAIL(MK_E_NOT_FOUND, "no such ticket key");
    if (cache_tk(&p->cache, false, id, out))
        return MK_OK;
    return tk_lookup(p, Q_TK_BY_ID, id, out);
}

mk_err mk_pgstore_ticket_key_rotate(mk_pgstore *p, uint64_t now_unix,
                                    mk_ticket_key_info *created)
{
    mk_store_new_tk k;
    PGresult *r = NULL;
    mk_err rc;
    memset(&k, 0, sizeof k);
    MK_GUARD(pg_begin(p));
    /* one rotation at a time, whichever node it is made through */
    MK_GUARD_GOTO(pg_do(p, "LOCK TABLE ticket_keys IN EXCLUSIVE MODE", NULL,
                        "lock the ticket keys"),
                  rc, done);
    MK_GUARD_GOTO(pg_run(p, -1, "SELECT coalesce(max(version), 0) FROM "
                                "ticket_keys", NULL, &r,
                         "read the ticket keys"),
                  rc, done);
    int64_t max = col_i64(r, 0, 0);
    PQclear(r);
    MK_GUARD_GOTO(mk_store_ticket_key_new(&p->master, max, now_unix, &k), rc,
                  done);
    MK_GUARD_GOTO(pg_do(p, "UPDATE ticket_keys SET state = 1 WHERE state = 0",
                        NULL, "demote the active ticket key"),
                  rc, done);
    pgp a = {0};
    p_i64(&a, k.info.version);
    p_bytes(&a, MK_BYTES(k.info.id, k.info.id_len));
    p_bytes(&a, MK_BYTES(k.wrapped, k.wrapped_len));
    p_i64(&a, (int64_t)now_unix);
    MK_GUARD_GOTO(pg_do(p, "INSERT INTO ticket_keys(version, id, key_wrapped, "
                           "state, created) VALUES ($1::integer, $2::bytea, "
                           "$3::bytea, 0, $4::bigint)",
                        &a, "add the ticket key"),
                  rc, done);
    if (created != NULL)
        *created = k.info;
done:
    mk_wipe(k.wrapped, sizeof k.wrapped);
    rc = pg_end(p, rc);
    cache_drop(p);
    return rc;
}

mk_err mk_pgstore_ticket_key_retire(mk_pgstore *p, mk_bytes id)
{
    PGresult *r = NULL;
    mk_err rc;
    if (id.n == 0 || id.n > MK_TK_ID_MAX)
        MK_FAIL(MK_E_NOT_FOUND, "no such ticket key");
    MK_GUARD(pg_begin(p));
    pgp a = {0};
    p_bytes(&a, id);
    MK_GUARD_GOTO(pg_run(p, -1, "SELECT state FROM ticket_keys WHERE "
                                "id = $1::bytea FOR UPDATE",
                         &a, &r, "read the ticket keys"),
                  rc, done);
    int state = PQntuples(r) == 1 ? (int)col_i64(r, 0, 0) : -1;
    PQclear(r);
    if (state < 0)
        rc = mk_err_raise(MK_E_NOT_FOUND, -1, 0, "no such ticket key");
    else if (state == MK_TK_ACTIVE)
        rc = mk_err_raise(MK_E_VALUE, -1, 0,
                          "the active ticket key cannot be retired "
                          "(rotate first)");
    else if (state == MK_TK_RESOLVE_ONLY)
        rc = pg_do(p, "UPDATE ticket_keys SET state = 2, key_wrapped = "
                      "''::bytea WHERE id = $1::bytea AND state = 1",
                   &a, "retire the ticket key");
done:
    rc = pg_end(p, rc);
    cache_drop(p);
    MK_GUARD(rc);
    /* the old tuple's space is marked free now, if no snapshot holds it
     * (pgstore.h: no secure_delete in PostgreSQL) */
    return pg_do(p, "VACUUM ticket_keys", NULL, "vacuum the ticket keys");
}

mk_err mk_pgstore_ticket_key_list(mk_pgstore *p,
                                  mk_sqlstore_ticket_key_cb cb, void *arg)
{
    PGresult *r = NULL;
    mk_err rc = MK_OK;
    MK_GUARD(pg_run(p, -1, "SELECT encode(id, 'hex'), version, state, created "
                           "FROM ticket_keys ORDER BY version",
                    NULL, &r, "list the ticket keys"));
    for (int i = 0; rc == MK_OK && i < PQntuples(r); i++) {
        mk_ticket_key_info k;
        memset(&k, 0, sizeof k);
        rc = col_hex(r, i, 0, k.id, sizeof k.id, &k.id_len);
        k.version = (uint32_t)col_i64(r, i, 1);
        k.state = (mk_tk_state)col_i64(r, i, 2);
        int64_t c = col_i64(r, i, 3);
        k.created_unix = c < 0 ? 0 : (uint64_t)c;
        if (rc == MK_OK)
            rc = cb(arg, &k);
    }
    PQclear(r);
    return rc;
}

/* ------------------------------------------------------------- answers */

/* The ten columns of a record, in the order of Q_COMMIT's; NULL: ten
 * NULLs (no such record). */
static void p_record(pgp *a, const mk_record *w)
{
    if (w == NULL) {
        for (int i = 0; i < 10; i++)
            p_null(a);
        return;
    }
    p_i64(a, (int64_t)w->time_unix);
    p_i64(a, w->service);
    p_text(a, w->subscriber);
    p_text(a, w->initiator);
    p_text(a, w->responder);
    p_text(a, w->ticket_id);
    p_i64(a, (int64_t)w->valid_from);
    p_i64(a, (int64_t)w->valid_to);
    p_text(a, w->spis);
    p_text(a, w->outcome);
}

/* The note's parameters $15..$29 of Q_COMMIT; who: its responder's hash. */
static void p_note(pgp *a, const mk_resolve_note *note, uint64_t now_unix,
                   const uint8_t who[32])
{
    if (note == NULL) {
        for (int i = 0; i < 5; i++)
            p_null(a);
        p_record(a, NULL);
        return;
    }
    p_bytes(a, MK_BYTES(note->ticket_id, 32));
    p_bytes(a, MK_BYTES(who, 32));
    p_i64(a, (int64_t)now_unix);
    p_i64(a, (int64_t)note->expires_unix);
    p_i64(a, note->grace_seconds);
    p_record(a, note->refused);
}

/* What Q_COMMIT answered. */
typedef struct commit_row {
    int64_t gen, mark, put, recorded;
    bool noted, same, in_grace;
} commit_row;

/* The verdict of a commit from its row (the statement wrote what it
 * says: see Q_COMMIT). */
static mk_err commit_verdict(mk_pgstore *p, const mk_answer_write *w,
                             bool used, bool fresh, int64_t lookup_gen,
                             const commit_row *row)
{
    pg_cache *c = &p->cache;
    /* arm the cache at this generation, or drop it */
    if (c->gen_known && c->gen == row->gen)
        c->armed = true;
    else
        cache_drop(p);
    if ((used || fresh) && lookup_gen != row->gen) {
        cache_drop(p);
        c->stats.stale++;
        MK_FAIL(MK_E_STALE, "the lookups of this answer came from a "
                            "generation of the store that is no longer "
                            "current; nothing written");
    }
    bool taken = w->digest != NULL &&
                 ((int64_t)w->expires_unix <= row->mark || row->put != 1);
    if (w->record != NULL && row->recorded != (taken && !w->replayed ? 0 : 1))
        MK_FAIL(MK_E_INTERNAL, "record not written as decided");
    if (taken && (int64_t)w->expires_unix <= row->mark)
        MK_FAIL(MK_E_MIKEY_TS, "message older than the replay mark");
    if (taken)
        MK_FAIL(MK_E_MIKEY_TS, "replayed message");
    if (w->note == NULL)
        return MK_OK;
    if (!row->noted)
        MK_FAIL(MK_E_INTERNAL, "note not written");
    /* recorded as a refusal in the statement: the answer is a 403 */
    if (!row->same)
        MK_FAIL(MK_E_POLICY, "ticket (J = 0) already resolved by another "
                             "responder");
    if (!row->in_grace)
        MK_FAIL(MK_E_POLICY, "ticket (J = 0) already resolved");
    return MK_OK;
}

static mk_err answer_commit(void *ctx, const mk_answer_write *w)
{
    mk_pgstore *p = ctx;
    pg_cache *c = &p->cache;
    bool used = c->used, fresh = c->fresh;
    int64_t used_gen = c->used_gen, fresh_gen = c->fresh_gen;
    PGresult *r = NULL;
    pgp a = {0};
    uint8_t who[32];
    /* the flags belong to this answer, whatever the outcome; the replay
     * mark is the store's (doc/profile.md §13.2), now_unix the note's */
    c->used = c->fresh = false;
    MK_GUARD(mk_store_answer_check(w));
    if ((used && used_gen == GEN_MIXED) || (fresh && fresh_gen == GEN_MIXED) ||
        (used && fresh && used_gen != fresh_gen)) {
        cache_drop(p);
        c->stats.stale++;
        MK_FAIL(MK_E_STALE, "the lookups of this answer came from two "
                            "generations of the store; nothing written");
    }
    if (w->digest == NULL && w->record == NULL && !used && !fresh)
        return MK_OK; /* nothing to write, nothing to check */
    if (w->note != NULL)
        MK_GUARD(mk_sha256(&w->note->responder, 1, who));
    if (w->digest != NULL)
        p_bytes(&a, MK_BYTES(w->digest, 32));
    else
        p_null(&a);
    p_i64(&a, (int64_t)w->expires_unix);
    if (used || fresh)
        p_i64(&a, used ? used_gen : fresh_gen);
    else
        p_null(&a);
    static const mk_record none = {.responder = "[]"};
    p_record(&a, w->record != NULL ? w->record : &none);
    p_bool(&a, w->record != NULL);
    p_note(&a, w->note, w->now_unix, who);
    p_record(&a, w->replayed);
    MK_GUARD(pg_run(p, Q_COMMIT, NULL, &a, &r, "commit an answer"));
    if (PQntuples(r) != 1) {
        PQclear(r);
        MK_FAIL(MK_E_UNAVAILABLE, "store state row missing");
    }
    commit_row row = {.gen = col_i64(r, 0, 0),
                      .mark = col_i64(r, 0, 1),
                      .put = col_i64(r, 0, 2),
                      .recorded = col_i64(r, 0, 3),
                      .noted = !col_null(r, 0, 4)};
    row.same = row.noted && col_bool(r, 0, 4);
    row.in_grace = row.noted && col_bool(r, 0, 5);
    PQclear(r);
    return commit_verdict(p, w, used, fresh, used ? used_gen : fresh_gen,
                          &row);
}

static mk_err by_psk_id(void *ctx, mk_bytes psk_id, mk_subscriber *out)
{
    return mk_pgstore_subscriber_get(ctx, psk_id, out);
}

static mk_err by_impu(void *ctx, mk_bytes impu, mk_subscriber *out)
{
    return sub_by_impu(ctx, impu, out);
}

static mk_err tk_active_if(void *ctx, mk_ticket_key *out)
{
    return tk_active(ctx, out);
}

static mk_err tk_by_id_if(void *ctx, mk_bytes id, mk_ticket_key *out)
{
    return tk_by_id(ctx, id, out);
}

/* Per machine (pgstore.h): the node's buckets, as the SQLite store's. */
static mk_err rate_take(void *ctx, mk_bytes name, uint32_t rate_milli,
                        uint32_t burst, uint64_t now_ms,
                        uint32_t *retry_after_s)
{
    mk_pgstore *p = ctx;
    return mk_store_identity_rate_take(p->node, name, rate_milli, burst,
                                       now_ms, retry_after_s);
}

mk_kms_store mk_pgstore_interface(mk_pgstore *p)
{
    mk_kms_store t = {
        .ctx = p,
        .subscriber_by_psk_id = by_psk_id,
        .subscriber_by_impu = by_impu,
        .ticket_key_active = tk_active_if,
        .ticket_key_by_id = tk_by_id_if,
        .answer_commit = answer_commit,
        .rate_take = p->node != NULL ? rate_take : NULL,
    };
    return t;
}

/* ------------------------------------------------------------- upkeep */

mk_err mk_pgstore_replay_prune(mk_pgstore *p, uint64_t now_unix,
                               uint64_t *deleted)
{
    PGresult *r = NULL;
    mk_err rc;
    pgp a = {0};
    p_i64(&a, (int64_t)now_unix);
    if (deleted != NULL)
        *deleted = 0;
    MK_GUARD(pg_begin(p));
    /* the mark first, in the same transaction: a message whose entry this
     * deletes is refused from then on (doc/profile.md §13.2) */
    MK_GUARD_GOTO(pg_do(p, "UPDATE kms_state SET mark = $1::bigint "
                           "WHERE mark < $1::bigint",
                        &a, "raise the replay mark"),
                  rc, done);
    MK_GUARD_GOTO(pg_run(p, -1, "DELETE FROM replay WHERE expires <= "
                                "(SELECT mark FROM kms_state)",
                         NULL, &r, "prune the replay cache"),
                  rc, done);
    if (deleted != NULL)
        *deleted = strtoull(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    rc = pg_do(p, "DELETE FROM tickets_resolved WHERE expires <= $1::bigint",
               &a, "prune the resolved tickets");
done:
    return pg_end(p, rc);
}

mk_err mk_pgstore_status_get(mk_pgstore *p, mk_pgstore_status *out)
{
    PGresult *r = NULL;
    memset(out, 0, sizeof *out);
    MK_GUARD(pg_run(p, -1,
                    "SELECT schema_version, gen, mark, (SELECT count(*) FROM "
                    "replay), (SELECT count(*) FROM records), "
                    "current_setting('synchronous_commit') = 'on' "
                    "FROM kms_state",
                    NULL, &r, "read the store state"));
    if (PQntuples(r) == 1) {
        out->schema_version = (int)col_i64(r, 0, 0);
        out->gen = col_i64(r, 0, 1);
        out->mark_unix = (uint64_t)col_i64(r, 0, 2);
        out->replay_entries = (uint64_t)col_i64(r, 0, 3);
        out->records = (uint64_t)col_i64(r, 0, 4);
        out->synchronous_commit = col_bool(r, 0, 5);
    }
    PQclear(r);
    return MK_OK;
}

/* ------------------------------------------------------------- records */

mk_err mk_pgstore_records(mk_pgstore *p, uint64_t since_unix,
                          const char *subscriber, mk_sqlstore_record_cb cb,
                          void *arg)
{
    int64_t last = 0;
    mk_err rc = MK_OK;
    /* pages by id, so that a large table is never held whole */
    for (;;) {
        PGresult *r = NULL;
        pgp a = {0};
        p_i64(&a, last);
        p_i64(&a, (int64_t)since_unix);
        if (subscriber != NULL)
            p_text(&a, subscriber);
        MK_GUARD(pg_run(p, -1,
                        subscriber != NULL
                            ? "SELECT id, time, service, subscriber, "
                              "initiator, responder, ticket_id, valid_from, "
                              "valid_to, spis, outcome FROM records WHERE "
                              "id > $1::bigint AND time >= $2::bigint AND "
                              "subscriber = $3::text ORDER BY id LIMIT 1000"
                            : "SELECT id, time, service, subscriber, "
                              "initiator, responder, ticket_id, valid_from, "
                              "valid_to, spis, outcome FROM records WHERE "
                              "id > $1::bigint AND time >= $2::bigint "
                              "ORDER BY id LIMIT 1000",
                        &a, &r, "read the records"));
        int n = PQntuples(r);
        for (int i = 0; rc == MK_OK && i < n; i++) {
            mk_record rec;
            memset(&rec, 0, sizeof rec);
            last = col_i64(r, i, 0);
            rec.time_unix = (uint64_t)col_i64(r, i, 1);
            rec.service = (int)col_i64(r, i, 2);
            rc = col_text(r, i, 3, rec.subscriber, sizeof rec.subscriber);
            if (rc == MK_OK)
                rc = col_text(r, i, 4, rec.initiator, sizeof rec.initiator);
            if (rc == MK_OK)
                rc = col_text(r, i, 5, rec.responder, sizeof rec.responder);
            if (rc == MK_OK)
                rc = col_text(r, i, 6, rec.ticket_id, sizeof rec.ticket_id);
            rec.valid_from = (uint64_t)col_i64(r, i, 7);
            rec.valid_to = (uint64_t)col_i64(r, i, 8);
            if (rc == MK_OK)
                rc = col_text(r, i, 9, rec.spis, sizeof rec.spis);
            if (rc == MK_OK)
                rc = col_text(r, i, 10, rec.outcome, sizeof rec.outcome);
            if (rc == MK_OK)
                rc = cb(arg, &rec);
        }
        PQclear(r);
        if (rc != MK_OK || n < RECORDS_PAGE)
            return rc;
    }
}

mk_err mk_pgstore_records_prune(mk_pgstore *p, uint64_t before_unix,
                                size_t max, size_t *deleted)
{
    PGresult *r = NULL;
    pgp a = {0};
    p_i64(&a, (int64_t)before_unix);
    p_i64(&a, (int64_t)max);
    *deleted = 0;
    MK_GUARD(pg_run(p, -1, "DELETE FROM records WHERE id IN (SELECT id FROM "
                           "records WHERE time < $1::bigint ORDER BY time "
                           "LIMIT $2::bigint)",
                    &a, &r, "prune the records"));
    *deleted = strtoull(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return MK_OK;
}

/* -------------------------------------------------------------- import */

static mk_err sq_prepare(mk_sqlstore *s, const char *sql, sqlite3_stmt **st)
{
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    return rc == SQLITE_OK ? MK_OK : mk_store_db_err(s, rc, "read the store");
}

static void p_blob_col(pgp *a, sqlite3_stmt *st, int i)
{
    p_bytes(a, mk_store_col_blob(st, i));
}

static void p_text_col(pgp *a, sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    p_text(a, t != NULL ? (const char *)t : "");
}

/* The IMPUs or responder patterns of one SQLite subscriber row. */
static mk_err import_list(mk_pgstore *p, mk_sqlstore *s, const char *sel,
                          const char *ins, int64_t rowid, mk_bytes psk_id)
{
    sqlite3_stmt *st = NULL;
    mk_err rc = MK_OK;
    MK_GUARD(sq_prepare(s, sel, &st));
    if ((rc = mk_store_bind_i64(s, st, 1, rowid)) != MK_OK) {
        sqlite3_finalize(st);
        return rc;
    }
    int step = SQLITE_DONE;
    while (rc == MK_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        pgp a = {0};
        p_bytes(&a, psk_id);
        p_i64(&a, sqlite3_column_int64(st, 0));
        p_text_col(&a, st, 1);
        rc = pg_do(p, ins, &a, "copy a subscriber");
    }
    if (rc == MK_OK && step != SQLITE_DONE)
        rc = mk_store_db_err(s, step, "read the store");
    sqlite3_finalize(st);
    return rc;
}

static mk_err import_all(mk_pgstore *p, mk_sqlstore *s,
                         mk_pgstore_import_counts *n)
{
    sqlite3_stmt *st = NULL;
    PGresult *r = NULL;
    mk_err rc = MK_OK;
    int step;
    MK_GUARD(pg_run(p, -1, "SELECT (SELECT count(*) FROM subscribers) + "
                           "(SELECT count(*) FROM ticket_keys) + "
                           "(SELECT count(*) FROM records)",
                    NULL, &r, "read the target"));
    int64_t have = col_i64(r, 0, 0);
    PQclear(r);
    if (have != 0)
        MK_FAIL(MK_E_EXISTS, "the PostgreSQL store is not empty (migrate "
                             "into a new database, without kmsctl init)");

    MK_GUARD(sq_prepare(s, "SELECT id, psk_id, psk_wrapped, active, "
                           "max_lifetime, forking, reuse, initiator_keys, "
                           "responder_keys, created FROM subscribers "
                           "ORDER BY id", &st));
    while (rc == MK_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        pgp a = {0};
        mk_bytes id = mk_store_col_blob(st, 1);
        uint8_t idb[MK_PSK_ID_MAX];
        if (id.n == 0 || id.n > sizeof idb) {
            rc = mk_err_raise(MK_E_INTERNAL, -1, 0,
                              "stored subscriber row is malformed");
            break;
        }
        memcpy(idb, id.p, id.n);
        mk_bytes idc = MK_BYTES(idb, id.n);
        p_bytes(&a, idc);
        p_blob_col(&a, st, 2); /* wrapped as it is */
        p_bool(&a, sqlite3_column_int(st, 3) != 0);
        p_i64(&a, sqlite3_column_int64(st, 4));
        p_bool(&a, sqlite3_column_int(st, 5) != 0);
        p_bool(&a, sqlite3_column_int(st, 6) != 0);
        p_bool(&a, sqlite3_column_int(st, 7) != 0);
        p_bool(&a, sqlite3_column_int(st, 8) != 0);
        p_i64(&a, sqlite3_column_int64(st, 9));
        rc = pg_do(p, "INSERT INTO subscribers(psk_id, psk_wrapped, active, "
                      "max_lifetime, forking, reuse, initiator_keys, "
                      "responder_keys, created) VALUES ($1::bytea, "
                      "$2::bytea, $3::boolean, $4::bigint, $5::boolean, "
                      "$6::boolean, $7::boolean, $8::boolean, $9::bigint)",
                   &a, "copy a subscriber");
        int64_t rowid = sqlite3_column_int64(st, 0);
        if (rc == MK_OK)
            rc = import_list(p, s, "SELECT pos, impu FROM impus WHERE "
                                   "subscriber = ?1 ORDER BY pos",
                             "INSERT INTO impus(psk_id, pos, impu) VALUES "
                             "($1::bytea, $2::integer, $3::text)",
                             rowid, idc);
        if (rc == MK_OK)
            rc = import_list(p, s, "SELECT pos, pattern FROM "
                                   "responder_patterns WHERE subscriber = ?1 "
                                   "ORDER BY pos",
                             "INSERT INTO responder_patterns(psk_id, pos, "
                             "pattern) VALUES ($1::bytea, $2::integer, "
                             "$3::text)",
                             rowid, idc);
        if (rc == MK_OK)
            n->subscribers++;
    }
    if (rc == MK_OK && step != SQLITE_DONE)
        rc = mk_store_db_err(s, step, "read the subscribers");
    sqlite3_finalize(st);
    MK_GUARD(rc);

    MK_GUARD(sq_prepare(s, "SELECT version, id, key_wrapped, state, created "
                           "FROM ticket_keys ORDER BY version", &st));
    while (rc == MK_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        pgp a = {0};
        p_i64(&a, sqlite3_column_int64(st, 0));
        p_blob_col(&a, st, 1);
        p_blob_col(&a, st, 2); /* wrapped as it is; empty once retired */
        p_i64(&a, sqlite3_column_int64(st, 3));
        p_i64(&a, sqlite3_column_int64(st, 4));
        rc = pg_do(p, "INSERT INTO ticket_keys(version, id, key_wrapped, "
                      "state, created) VALUES ($1::integer, $2::bytea, "
                      "$3::bytea, $4::smallint, $5::bigint)",
                   &a, "copy a ticket key");
        if (rc == MK_OK)
            n->ticket_keys++;
    }
    if (rc == MK_OK && step != SQLITE_DONE)
        rc = mk_store_db_err(s, step, "read the ticket keys");
    sqlite3_finalize(st);
    MK_GUARD(rc);

    MK_GUARD(sq_prepare(s, "SELECT time, service, subscriber, initiator, "
                           "responder, ticket_id, valid_from, valid_to, spis, "
                           "outcome FROM records ORDER BY id", &st));
    while (rc == MK_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        pgp a = {0};
        p_i64(&a, sqlite3_column_int64(st, 0));
        p_i64(&a, sqlite3_column_int64(st, 1));
        for (int i = 2; i <= 5; i++)
            p_text_col(&a, st, i);
        p_i64(&a, sqlite3_column_int64(st, 6));
        p_i64(&a, sqlite3_column_int64(st, 7));
        p_text_col(&a, st, 8);
        p_text_col(&a, st, 9);
        rc = pg_do(p, "INSERT INTO records(time, service, subscriber, "
                      "initiator, responder, ticket_id, valid_from, "
                      "valid_to, spis, outcome) VALUES ($1::bigint, "
                      "$2::integer, $3::text, $4::text, $5::text, $6::text, "
                      "$7::bigint, $8::bigint, $9::text, $10::text)",
                   &a, "copy a record");
        if (rc == MK_OK)
            n->records++;
    }
    if (rc == MK_OK && step != SQLITE_DONE)
        rc = mk_store_db_err(s, step, "read the records");
    sqlite3_finalize(st);
    return rc;
}

mk_err mk_pgstore_import_sqlite(mk_pgstore *p, mk_sqlstore *s,
                                mk_pgstore_import_counts *n)
{
    mk_err rc;
    memset(n, 0, sizeof *n);
    /* one snapshot of the source, one transaction in the target */
    MK_GUARD(mk_store_begin_read(s));
    rc = pg_begin(p);
    if (rc == MK_OK)
        rc = pg_end(p, import_all(p, s, n));
    rc = mk_store_end(s, rc);
    cache_drop(p);
    if (rc != MK_OK)
        memset(n, 0, sizeof *n);
    return rc;
}
