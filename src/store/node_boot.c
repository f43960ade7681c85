/* node_boot.c - the restart rule of the node state (node.h, node_int.h:
 * mk_node_boot_check).
 *
 * A node file is written through a shared map without a sync unless the
 * node is durable: a machine that stops (power, kernel) may leave the
 * file without its last commits, or with a newer meta page over older
 * data pages. Reading such a file could mislead or crash LMDB, so the
 * decision is taken before LMDB reads it, from PATH-boot: "boot_id=<the
 * kernel's boot id>\nnondurable=<0|1>\n", the boot the file was last used
 * in and whether a non-durable process used it during that boot.
 *
 * - Same boot: nothing to do (a crash of processes loses nothing).
 * - Another boot, and a non-durable process used the file (or PATH-boot
 *   is missing or unreadable next to an existing file: nothing proves it
 *   safe): the file is renamed PATH.unclean-TIME (its journal may hold
 *   records the store has not got: kmsctl records salvage) and a new one
 *   is made with the mark at now + skew (MK_NODE_CREATE_RECOVER).
 * - Another boot, durable processes only: every commit was synced before
 *   its answer left; the file is used as it is.
 * An flock(2) on PATH-boot makes one process of a new boot decide; the
 * others find the current boot id written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/node_int.h"

#define BOOT_ID_FILE "/proc/sys/kernel/random/boot_id"
#define BOOT_FILE_MAX 256

/* The kernel's boot id, "" when it cannot be read (then every open looks
 * like the same boot: no restart is detected). */
static void kernel_boot_id(char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = fopen(BOOT_ID_FILE, "re");
    if (f == NULL)
        return;
    if (fgets(out, (int)cap, f) == NULL)
        out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
}

/* Parse PATH-boot's text; false when it is not what this file writes. */
static bool parse(const char *text, char *boot, size_t cap, bool *nondurable)
{
    const char *b = strstr(text, "boot_id=");
    const char *d = strstr(text, "\nnondurable=");
    if (b != text || d == NULL)
        return false;
    size_t n = (size_t)(d - (b + 8));
    if (n >= cap)
        return false;
    memcpy(boot, b + 8, n);
    boot[n] = '\0';
    if (d[12] != '0' && d[12] != '1')
        return false;
    *nondurable = d[12] == '1';
    return true;
}

static mk_err rewrite(int fd, const char *boot, bool nondurable)
{
    char text[BOOT_FILE_MAX];
    int w = snprintf(text, sizeof text, "boot_id=%s\nnondurable=%d\n", boot,
                     nondurable ? 1 : 0);
    if (w < 0 || (size_t)w >= sizeof text ||
        ftruncate(fd, 0) != 0 ||
        pwrite(fd, text, (size_t)w, 0) != (ssize_t)w)
        MK_FAIL(MK_E_UNAVAILABLE, "cannot write the node's boot file");
    return MK_OK;
}

mk_err mk_node_boot_check(const mk_node_config *cfg, mk_node_create *create,
                          char *aside, size_t cap)
{
    char path[MK_NODE_PATH_MAX + 8], text[BOOT_FILE_MAX] = "";
    char cur[128], old[128];
    bool old_nondurable = true, known = false;
    struct stat sb;
    mk_err rc = MK_OK;

    aside[0] = '\0';
    if (*create == MK_NODE_OPEN_AS_IS)
        return MK_OK;
    kernel_boot_id(cur, sizeof cur);
    snprintf(path, sizeof path, "%s-boot", cfg->path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        MK_FAIL(MK_E_UNAVAILABLE, "cannot open the node's boot file");
    mk_node_own(cfg->path, fd);
    while (flock(fd, LOCK_EX) != 0)
        if (errno != EINTR) {
            close(fd);
            MK_FAIL(MK_E_UNAVAILABLE, "cannot lock the node's boot file");
        }
    ssize_t got = pread(fd, text, sizeof text - 1, 0);
    if (got > 0) {
        text[got] = '\0';
        known = parse(text, old, sizeof old, &old_nondurable);
    }
    bool same_boot = known && strcmp(old, cur) == 0;
    bool nondurable = !cfg->durable;
    if (stat(cfg->path, &sb) == 0 && !same_boot &&
        (!known || old_nondurable)) {
        int w = snprintf(aside, cap, "%s.unclean-%llu", cfg->path,
                         (unsigned long long)time(NULL));
        char lock[MK_NODE_PATH_MAX + 8];
        snprintf(lock, sizeof lock, "%s-lock", cfg->path);
        if (w < 0 || (size_t)w >= cap || rename(cfg->path, aside) != 0) {
            aside[0] = '\0';
            rc = mk_err_raise(MK_E_UNAVAILABLE, -1, 0,
                              "cannot set aside a node state file left by "
                              "an unclean stop");
        } else {
            /* LMDB's reader table of the old boot: no process holds it */
            (void)unlink(lock);
            *create = MK_NODE_CREATE_RECOVER;
        }
    } else if (same_boot) {
        /* one non-durable process in this boot is enough to need the
         * rule at the next one */
        nondurable = nondurable || old_nondurable;
    }
    if (rc == MK_OK && (!same_boot || nondurable != old_nondurable))
        rc = rewrite(fd, cur, nondurable);
    close(fd); /* and the flock with it */
    return rc;
}
