/* master_key.c - load and create the master key file (master_key.h). */
#include "store/master_key.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"
#include "util/hex.h"
#include "util/path.h"

#define HEX_LEN (2 * MK_MASTER_KEY_LEN)

/* Read up to cap bytes (the whole file when it is shorter). */
static mk_err read_all(int fd, uint8_t *buf, size_t cap, size_t *n)
{
    *n = 0;
    while (*n < cap) {
        ssize_t r = read(fd, buf + *n, cap - *n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            MK_FAIL(MK_E_IO, "cannot read the master key file");
        if (r == 0)
            break;
        *n += (size_t)r;
    }
    return MK_OK;
}

static mk_err parse_key(const uint8_t *buf, size_t n, mk_key *out)
{
    /* exactly 64 hex digits, then nothing or one "\n" */
    if (n != HEX_LEN && !(n == HEX_LEN + 1 && buf[HEX_LEN] == '\n'))
        MK_FAIL(MK_E_CONFIG,
                "master key file must hold exactly 64 hex digits and a newline");
    out->n = MK_MASTER_KEY_LEN;
    size_t len = 0;
    if (mk_hex_decode((const char *)buf, HEX_LEN, out->b, MK_MASTER_KEY_LEN,
                      &len) != MK_OK)
        MK_FAIL(MK_E_CONFIG, "master key file holds a non-hex character");
    return MK_OK;
}

/* Running as root, a key file owned by the owner of its directory, which
 * neither group nor others may write. */
static bool root_may_use(const char *path, const struct stat *key)
{
    char dir[4096];
    struct stat ds;
    if (geteuid() != 0 || !mk_path_dir(path, dir, sizeof dir))
        return false;
    return stat(dir, &ds) == 0 && S_ISDIR(ds.st_mode) &&
           ds.st_uid == key->st_uid && (ds.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

mk_err mk_master_key_load(const char *path, mk_key *out)
{
    mk_err rc = MK_OK;
    uint8_t buf[HEX_LEN + 2];
    size_t n = 0;
    struct stat st;

    mk_key_wipe(out);
    if (path == NULL || path[0] == '\0')
        MK_FAIL(MK_E_CONFIG, "no master key file given");
    /* O_NOFOLLOW: the file named, never what a link planted in its place
     * points to (the directories above it are the operator's) */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
    if (fd < 0 && errno == ELOOP)
        MK_FAIL(MK_E_CONFIG, "master key file is a symbolic link (name the "
                             "file itself)");
    if (fd < 0)
        MK_FAIL(MK_E_IO, "cannot open the master key file");
    if (fstat(fd, &st) != 0) {
        rc = mk_err_raise(MK_E_IO, -1, 0, "cannot stat the master key file");
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = mk_err_raise(MK_E_CONFIG, -1, 0,
                          "master key file is not a regular file");
        goto cleanup;
    }
    /* A key file of another user is not this service's key: whoever owns
     * it could read it or replace it (doc/profile.md §9.31). Root, which
     * reads any file, may use the key of the user who owns the key's
     * directory (the service user's, as the package sets it up): that user
     * holds the key anyway, and an unrelated user cannot plant one there. */
    if (st.st_uid != geteuid() && !root_may_use(path, &st)) {
        rc = mk_err_raise(MK_E_CONFIG, -1, 0,
                          "master key file is not owned by the running user "
                          "(run as its owner, or chown it)");
        goto cleanup;
    }
    /* Anyone who can read the key can unwrap every PSK; anyone who can
     * write it can make the KMS refuse to start. Owner only. */
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        rc = mk_err_raise(MK_E_CONFIG, -1, 0,
                          "master key file is accessible by group or others "
                          "(chmod 600 it)");
        goto cleanup;
    }
    /* one byte more than a valid file may hold, to see overlong ones */
    MK_GUARD_GOTO(read_all(fd, buf, sizeof buf, &n), rc, cleanup);
    MK_GUARD_GOTO(parse_key(buf, n, out), rc, cleanup);

cleanup:
    mk_wipe(buf, sizeof buf);
    close(fd);
    if (rc != MK_OK)
        mk_key_wipe(out);
    return rc;
}

mk_err mk_master_key_create(const char *path, mk_key *out)
{
    static const char digits[] = "0123456789abcdef";
    mk_err rc = MK_OK;
    uint8_t buf[HEX_LEN + 1];
    int fd = -1;

    mk_key_wipe(out);
    if (path == NULL || path[0] == '\0')
        MK_FAIL(MK_E_CONFIG, "no master key file given");
    out->n = MK_MASTER_KEY_LEN;
    MK_GUARD_GOTO(mk_random(out->b, MK_MASTER_KEY_LEN), rc, cleanup);
    for (size_t i = 0; i < MK_MASTER_KEY_LEN; i++) {
        buf[2 * i] = (uint8_t)digits[out->b[i] >> 4];
        buf[2 * i + 1] = (uint8_t)digits[out->b[i] & 0x0f];
    }
    buf[HEX_LEN] = '\n';

    /* O_EXCL: an existing key file (and whatever it protects) is never
     * replaced. Mode 0600 is set at creation, not after, so the key is
     * never visible to others, whatever the umask. */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
              S_IRUSR | S_IWUSR);
    if (fd < 0) {
        rc = errno == EEXIST
                 ? mk_err_raise(MK_E_EXISTS, -1, 0,
                                "master key file exists (not overwritten)")
                 : mk_err_raise(MK_E_IO, -1, 0,
                                "cannot create the master key file");
        goto cleanup;
    }
    if (fchmod(fd, S_IRUSR | S_IWUSR) != 0) {
        rc = mk_err_raise(MK_E_IO, -1, 0, "cannot chmod the master key file");
        goto cleanup;
    }
    size_t off = 0;
    while (off < sizeof buf) {
        ssize_t w = write(fd, buf + off, sizeof buf - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = mk_err_raise(MK_E_IO, -1, 0,
                              "cannot write the master key file");
            goto cleanup;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        rc = mk_err_raise(MK_E_IO, -1, 0, "cannot sync the master key file");
        goto cleanup;
    }

cleanup:
    mk_wipe(buf, sizeof buf);
    if (fd >= 0) {
        if (close(fd) != 0 && rc == MK_OK)
            rc = mk_err_raise(MK_E_IO, -1, 0,
                              "cannot write the master key file");
        if (rc != MK_OK)
            unlink(path); /* ours (O_EXCL): do not leave half a key */
    }
    if (rc != MK_OK)
        mk_key_wipe(out);
    return rc;
}
