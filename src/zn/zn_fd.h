/* zn_fd.h - Zn (TS 29.109) on freeDiameter: the one place of the tree
 * that includes freeDiameter's headers besides the two Zn programs
 * (kms-znd, the Zn daemon of a node; zn-test-bsf, the test BSF).
 *
 * Owns: starting and stopping the freeDiameter core of a process from a
 * freeDiameter configuration file (identity, realm, TLS, transport and
 * peers are freeDiameter's own settings), its log lines in ours, the Zn
 * dictionary (vendor 10415, application 16777220, Bootstrapping-Info
 * Request / Answer 310, the AVPs 400-408 of 29.109 §6.3 the KMS and the
 * test BSF use), and small helpers to put and find AVPs.
 *
 * One freeDiameter core per process (the library keeps it in globals).
 */
#ifndef MK_ZN_ZN_FD_H
#define MK_ZN_ZN_FD_H

#include <freeDiameter/freeDiameter-host.h>
#include <freeDiameter/libfdcore.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MK_ZN_VENDOR_3GPP 10415
#define MK_ZN_APP_ID 16777220
#define MK_ZN_CMD_BI 310 /* Bootstrapping-Info-Request / -Answer */

/* AVP codes (29.109 §6.3; vendor 3GPP) */
enum {
    MK_ZN_AVP_USS = 400,              /* GBA-UserSecSettings, OctetString */
    MK_ZN_AVP_TRANSACTION_ID = 401,   /* Transaction-Identifier (B-TID) */
    MK_ZN_AVP_NAF_ID = 402,           /* NAF-Id */
    MK_ZN_AVP_KEY_EXPIRY = 404,       /* Key-ExpiryTime, Time */
    MK_ZN_AVP_ME_KEY = 405,           /* ME-Key-Material (Ks_NAF) */
    MK_ZN_AVP_CREATION_TIME = 408,    /* BootstrapInfoCreationTime, Time */
};
/* base protocol (RFC 6733) */
enum {
    MK_ZN_AVP_USER_NAME = 1,
    MK_ZN_AVP_RESULT_CODE = 268,
    MK_ZN_AVP_EXPERIMENTAL_RESULT = 297,
    MK_ZN_AVP_EXPERIMENTAL_RESULT_CODE = 298,
};
/* Experimental-Result-Code values of Zn (29.109 §6.3.x) */
enum {
    MK_ZN_IMPI_UNKNOWN = 5401,
    MK_ZN_NOT_AUTHORIZED = 5402,
    MK_ZN_TID_INVALID = 5403,
};

/* The dictionary objects the programs use. */
typedef struct mk_zn_dict {
    struct dict_object *vendor, *app, *bir, *bia;
    struct dict_object *uss, *tid, *naf_id, *key_expiry, *me_key, *created;
    struct dict_object *user_name, *vsai, *vendor_id, *auth_app_id;
    struct dict_object *dest_host, *dest_realm, *result_code, *exp_result,
        *exp_result_code;
} mk_zn_dict;

extern mk_zn_dict mk_zn;

/* Core up: initialise, route freeDiameter's log lines through
 * kmsd_log (level error, or notice with verbose), read conf, install the
 * Zn dictionary, advertise Zn (auth) in the CER, call before_start (may
 * be NULL: where a program registers its callbacks, before any peer can
 * connect), start the peers. 0 or an errno value (logged). */
int mk_zn_fd_start(const char *conf, bool verbose, int (*before_start)(void));
/* Shut the core down and wait for it. */
void mk_zn_fd_stop(void);

/* Add an OctetString / Unsigned32 AVP of model m to parent (a message or
 * a grouped AVP), as its last child. 0 or an errno value. */
int mk_zn_add_os(void *parent, struct dict_object *m, const void *p,
                 size_t n);
int mk_zn_add_u32(void *parent, struct dict_object *m, uint32_t v);
/* A grouped AVP of model group { Vendor-Id 10415, an Unsigned32 AVP of
 * model inner = v } added to parent, as Vendor-Specific-Application-Id
 * and Experimental-Result are (RFC 6733 §6.11, §7.6). 0 or an errno
 * value. */
int mk_zn_add_3gpp_group(void *parent, struct dict_object *group,
                         struct dict_object *inner, uint32_t v);
/* Vendor-Specific-Application-Id { Vendor-Id 10415, Auth-Application-Id
 * 16777220 } (29.109 §6.1). */
int mk_zn_add_vsai(struct msg *m);
/* The first child of parent with this code and vendor (0 for a base
 * AVP), its value (NULL when it has none), or NULL. */
struct avp *mk_zn_find(void *parent, uint32_t code, uint32_t vendor,
                       union avp_value **val);

#endif
