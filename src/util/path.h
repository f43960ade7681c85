/* path.h - the directory part of a file path.
 *
 * Owns: mk_path_dir, for the checks a process running as root makes on the
 * directory that holds a key or state file (the master key's owner,
 * store/master_key.c; the node file's owner, store/node_env.c). A string
 * operation only: the callers stat the result.
 */
#ifndef MK_UTIL_PATH_H
#define MK_UTIL_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* The directory of path into dir (cap bytes, NUL-terminated): "." for a
 * name without a slash, "/" for "/x", otherwise everything before the last
 * slash. False, dir untouched, when it does not fit. */
bool mk_path_dir(const char *path, char *dir, size_t cap);

#endif
