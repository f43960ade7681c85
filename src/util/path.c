/* path.c - the directory part of a file path (path.h). */
#include "util/path.h"

#include <string.h>

bool mk_path_dir(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    size_t n = slash == NULL ? 1 : (size_t)(slash - path);
    if (n == 0)
        n = 1; /* "/x": the root directory */
    if (n >= cap)
        return false;
    memcpy(dir, slash == NULL ? "." : path, n);
    dir[n] = '\0';
    return true;
}
