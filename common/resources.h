/*
 * resources.h — a topology's resources directory as one byte string, the
 * way `gale jar` uploads it and a supervisor unpacks it into
 * stormdist/<id>/resources/: a msgpack array of [relative path, bytes]
 * pairs, regular files only (directories are implied by the paths).
 *
 * Unpacking trusts nothing: a path must be relative, made of ordinary
 * segments (no "", ".", ".." segment, no NUL), at most 255 bytes deep
 * enough for real trees; anything else refuses the whole archive before
 * a file is written.
 */
#ifndef GALE_COMMON_RESOURCES_H
#define GALE_COMMON_RESOURCES_H

#include <msgpack.h>
#include <stddef.h>

/** @brief Pack every regular file under dir into out (cleared first). 0 or GALE_EIO + err. */
int gale__resources_pack(const char *dir, msgpack_sbuffer *out, char *err, size_t errlen);

/** @brief Unpack buf into dir (created). 0, GALE_EPROTO for a bad archive, GALE_EIO + err. */
int gale__resources_unpack(const void *buf, size_t len, const char *dir, char *err, size_t errlen);

#endif
