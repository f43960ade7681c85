/* kmsctl_subscriber.c - `kmsctl subscriber add|list|show|disable|enable|
 * remove` (profile §4, §5). A PSK is printed only with --show-psk. */
#include <stdio.h>
#include <string.h>

#include "kmsctl.h"
#include "util/hex.h"

/* Hex PSK of 16 or 32 bytes (32 or 64 digits); false otherwise. */
static bool parse_psk(const char *hex, mk_key *out)
{
    size_t n = strlen(hex), len = 0;
    mk_key_wipe(out);
    if (n != 32 && n != 64)
        return false;
    if (mk_hex_decode(hex, n, out->b, sizeof out->b, &len) != MK_OK) {
        mk_key_wipe(out);
        return false;
    }
    out->n = len;
    return true;
}

/* The PSK as one line of hex from f (a file or standard input): never
 * from the command line, where ps(1) and the shell's history would show
 * it (doc/profile.md §9.32). */
static bool read_psk_line(FILE *f, mk_key *out)
{
    char line[160];
    bool ok = false;
    if (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        ok = parse_psk(line, out);
    }
    mk_wipe(line, sizeof line);
    return ok;
}

static void print_hex(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", b[i]);
}

static bool parse_yes_no(const char *v, bool *out)
{
    if (strcmp(v, "yes") == 0)
        *out = true;
    else if (strcmp(v, "no") == 0)
        *out = false;
    else
        return false;
    return true;
}

static bool set_psk_id(mk_subscriber *sub, const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > MK_PSK_ID_MAX)
        return false;
    memcpy(sub->psk_id, id, n);
    sub->psk_id_len = n;
    return true;
}

/* The policy options of `subscriber add` (profile §5): -1 when argv[*i]
 * is none of them; else KC_OK (*i moved past its value) or KC_USAGE. */
static int policy_opt(int argc, char **argv, int *i, mk_policy *pol)
{
    const struct {
        const char *name;
        bool *allowed;
    } yes_no[] = {
        {"--forking", &pol->forking_allowed},
        {"--reuse", &pol->reuse_allowed},
        {"--initiator-keys", &pol->initiator_keys_allowed},
        {"--responder-keys", &pol->responder_keys_allowed},
    };
    const char *val;
    int m;
    if ((m = kc_opt(argc, argv, i, "--allow-responder", &val)) != 0) {
        if (m < 0)
            return KC_USAGE;
        if (val[0] == '\0' || strlen(val) >= MK_URI_MAX)
            return kc_usage("--allow-responder: empty or too long");
        if (pol->n_patterns == MK_PATTERN_MAX)
            return kc_usage("at most %d --allow-responder", MK_PATTERN_MAX);
        snprintf(pol->responder_patterns[pol->n_patterns++], MK_URI_MAX, "%s",
                 val);
        return KC_OK;
    }
    if ((m = kc_opt(argc, argv, i, "--max-lifetime", &val)) != 0) {
        uint64_t v;
        if (m < 0)
            return KC_USAGE;
        if (!kc_parse_u64(val, UINT32_MAX, &v))
            return kc_usage("--max-lifetime: '%s' is not a number of "
                            "seconds", val);
        pol->max_lifetime = (uint32_t)v;
        return KC_OK;
    }
    for (size_t j = 0; j < sizeof yes_no / sizeof yes_no[0]; j++) {
        if ((m = kc_opt(argc, argv, i, yes_no[j].name, &val)) == 0)
            continue;
        if (m < 0)
            return KC_USAGE;
        if (!parse_yes_no(val, yes_no[j].allowed))
            return kc_usage("%s: yes or no", yes_no[j].name);
        return KC_OK;
    }
    return -1;
}

/* The new subscriber's PSK: 32 random bytes (--generate), or one line of
 * hex from psk_file ("-": standard input). KC_OK or an exit code. */
static int add_psk(kmsctl *k, bool generate, const char *psk_file,
                   mk_key *psk)
{
    if (generate) {
        psk->n = 32;
        mk_err e = mk_random(psk->b, psk->n);
        return e == MK_OK ? KC_OK : kc_fail(k, e, "generating the PSK");
    }
    bool from_stdin = strcmp(psk_file, "-") == 0;
    FILE *f = from_stdin ? stdin : fopen(psk_file, "re");
    if (f == NULL) {
        fprintf(stderr, "kmsctl: --psk-file %s: cannot read it\n", psk_file);
        return KC_FAIL;
    }
    bool ok = read_psk_line(f, psk);
    if (!from_stdin)
        fclose(f);
    if (!ok)
        return kc_usage("the PSK: one line of 32 or 64 hex digits (a 16 "
                        "or 32-byte PSK)");
    return KC_OK;
}

static int cmd_add(kmsctl *k, int argc, char **argv)
{
    mk_subscriber sub;
    const char *val, *psk_file = NULL;
    bool generate = false, show = false, have_id = false;
    int rc = KC_OK, m;

    memset(&sub, 0, sizeof sub);
    sub.active = true;
    for (int i = 1; i < argc; i++) {
        if ((m = kc_opt(argc, argv, &i, "--psk-id", &val)) != 0) {
            if (m < 0)
                return KC_USAGE;
            if (!set_psk_id(&sub, val))
                return kc_usage("--psk-id must be 1 to %d bytes",
                                MK_PSK_ID_MAX);
            have_id = true;
        } else if ((m = kc_opt(argc, argv, &i, "--psk-file", &val)) != 0) {
            if (m < 0)
                return KC_USAGE;
            if (psk_file != NULL)
                return kc_usage("give --psk-file or --psk - once");
            psk_file = val;
        } else if ((m = kc_opt(argc, argv, &i, "--psk", &val)) != 0) {
            if (m < 0)
                return KC_USAGE;
            if (strcmp(val, "-") != 0)
                return kc_usage("--psk takes only '-' (standard input): a PSK "
                                "on the command line shows in ps and the "
                                "shell's history; use --psk-file FILE");
            if (psk_file != NULL)
                return kc_usage("give --psk-file or --psk - once");
            psk_file = val;
        } else if (kc_flag(argv, i, "--generate")) {
            generate = true;
        } else if (kc_flag(argv, i, "--show-psk")) {
            show = true;
        } else if (kc_flag(argv, i, "--disabled")) {
            sub.active = false;
        } else if ((m = kc_opt(argc, argv, &i, "--impu", &val)) != 0) {
            if (m < 0)
                return KC_USAGE;
            if (!mk_sqlstore_impu_ok(val))
                return kc_usage("--impu '%s': must start with sip:, sips: or "
                                "tel: URI (RFC 3261 / 3966 characters, under %d bytes)",
                                val, MK_URI_MAX);
            if (sub.n_impu == MK_IMPU_MAX)
                return kc_usage("at most %d --impu", MK_IMPU_MAX);
            for (size_t j = 0; j < sub.n_impu; j++)
                if (strcmp(sub.impu[j], val) == 0)
                    return kc_usage("--impu '%s' given twice", val);
            snprintf(sub.impu[sub.n_impu++], MK_URI_MAX, "%s", val);
        } else if ((m = policy_opt(argc, argv, &i, &sub.policy)) >= 0) {
            if (m != KC_OK)
                return m;
        } else {
            return kc_usage("subscriber add: unknown argument '%s'", argv[i]);
        }
    }
    if (!have_id)
        return kc_usage("subscriber add needs --psk-id");
    if (sub.n_impu == 0)
        return kc_usage("subscriber add needs at least one --impu");
    if ((psk_file != NULL) == generate)
        return kc_usage("give exactly one of --psk-file FILE, --psk - and "
                        "--generate");

    if ((rc = add_psk(k, generate, psk_file, &sub.psk)) != KC_OK)
        goto done;

    if ((rc = kc_open(k)) != KC_OK)
        goto done;
    /* an IMPU shared with another subscriber makes lookups by it fail */
    for (size_t j = 0; j < sub.n_impu; j++) {
        size_t owners = 0;
        if (kc_impu_owners(k, sub.impu[j], &owners) ==
                MK_OK &&
            owners > 0)
            fprintf(stderr,
                    "kmsctl: warning: %s also belongs to another subscriber; "
                    "it will not identify either of them (profile §4)\n",
                    sub.impu[j]);
    }
    mk_err e = kc_subscriber_add(k, &sub);
    if (e != MK_OK) {
        rc = kc_fail(k, e, "subscriber add");
        goto done;
    }
    printf("added subscriber %.*s (%s, %zu-byte PSK)\n", (int)sub.psk_id_len,
           (const char *)sub.psk_id, sub.active ? "active" : "disabled",
           sub.psk.n);
    if (show) {
        printf("psk: ");
        print_hex(sub.psk.b, sub.psk.n);
        printf("\n");
    } else if (generate) {
        fprintf(stderr, "kmsctl: the generated PSK is not shown (use "
                        "'subscriber show ID --show-psk')\n");
    }
done:
    mk_key_wipe(&sub.psk);
    mk_wipe(&sub, sizeof sub);
    return rc;
}

static void print_impus(const mk_subscriber *s, const char *sep)
{
    for (size_t i = 0; i < s->n_impu; i++)
        printf("%s%s", i ? sep : "", s->impu[i]);
}

static mk_err list_one(void *arg, const mk_subscriber *s, size_t psk_len)
{
    char id[2 * MK_PSK_ID_MAX + 3];
    (void)arg;
    kc_psk_id_text(s->psk_id, s->psk_id_len, id, sizeof id);
    printf("%s\t%s\tpsk=%zu\t", id, s->active ? "active" : "disabled",
           psk_len);
    print_impus(s, ",");
    printf("\n");
    return MK_OK;
}

static int cmd_show(kmsctl *k, const char *id, bool show)
{
    mk_subscriber s;
    char idt[2 * MK_PSK_ID_MAX + 3];
    int rc;
    if ((rc = kc_open(k)) != KC_OK)
        return rc;
    mk_err e = kc_subscriber_get(k, MK_BYTES(id, strlen(id)),
                                          &s);
    if (e != MK_OK)
        return kc_fail(k, e, id);
    kc_psk_id_text(s.psk_id, s.psk_id_len, idt, sizeof idt);
    printf("psk_id: %s\n", idt);
    printf("state: %s\n", s.active ? "active" : "disabled");
    printf("psk_length: %zu\n", s.psk.n);
    for (size_t i = 0; i < s.n_impu; i++)
        printf("impu: %s\n", s.impu[i]);
    if (s.policy.n_patterns == 0)
        printf("allow_responder: (any sip:/tel: URI)\n");
    for (size_t i = 0; i < s.policy.n_patterns; i++)
        printf("allow_responder: %s\n", s.policy.responder_patterns[i]);
    if (s.policy.max_lifetime == 0)
        printf("max_lifetime: 0 (KMS default)\n");
    else
        printf("max_lifetime: %u\n", (unsigned)s.policy.max_lifetime);
    printf("forking: %s\n", s.policy.forking_allowed ? "yes" : "no");
    printf("reuse: %s\n", s.policy.reuse_allowed ? "yes" : "no");
    printf("initiator_keys: %s\n",
           s.policy.initiator_keys_allowed ? "yes" : "no");
    printf("responder_keys: %s\n",
           s.policy.responder_keys_allowed ? "yes" : "no");
    if (show) {
        printf("psk: ");
        print_hex(s.psk.b, s.psk.n);
        printf("\n");
    }
    mk_key_wipe(&s.psk);
    mk_wipe(&s, sizeof s);
    return KC_OK;
}

int kc_cmd_subscriber(kmsctl *k, int argc, char **argv)
{
    if (argc < 2)
        return kc_usage("subscriber: add, list, show, disable, enable or "
                        "remove");
    const char *op = argv[1];
    if (strcmp(op, "add") == 0)
        return cmd_add(k, argc - 1, argv + 1);
    if (strcmp(op, "list") == 0) {
        if (argc != 2)
            return kc_usage("subscriber list takes no arguments");
        int rc = kc_open(k);
        if (rc != KC_OK)
            return rc;
        mk_err e = kc_subscriber_list(k, list_one, NULL);
        return e == MK_OK ? KC_OK : kc_fail(k, e, "subscriber list");
    }
    if (strcmp(op, "show") == 0) {
        bool show = false;
        const char *id = NULL;
        for (int i = 2; i < argc; i++) {
            if (kc_flag(argv, i, "--show-psk"))
                show = true;
            else if (id == NULL && argv[i][0] != '-')
                id = argv[i];
            else
                return kc_usage("subscriber show: unexpected '%s'", argv[i]);
        }
        if (id == NULL)
            return kc_usage("subscriber show needs an ID");
        return cmd_show(k, id, show);
    }
    bool dis = strcmp(op, "disable") == 0, en = strcmp(op, "enable") == 0;
    bool rm = strcmp(op, "remove") == 0;
    if (dis || en || rm) {
        if (argc != 3)
            return kc_usage("subscriber %s needs exactly one ID", op);
        const char *id = argv[2];
        mk_bytes idb = MK_BYTES(id, strlen(id));
        int rc = kc_open(k);
        if (rc != KC_OK)
            return rc;
        mk_err e = rm ? kc_subscriber_remove(k, idb)
                      : kc_subscriber_set_active(k, idb, en);
        if (e != MK_OK)
            return kc_fail(k, e, id);
        printf("subscriber %s %s\n", id,
               rm ? "removed" : en ? "enabled" : "disabled");
        return KC_OK;
    }
    return kc_usage("subscriber: unknown operation '%s'", op);
}
