/*
 * secret.h - files that hold a secret: a password file, a systemd
 * credential, a configuration file with a password in it. The rule, as ssh
 * has it for a private key: a file holding a secret that other users can
 * read is refused.
 */
#ifndef SQUIRREL_SECRET_H
#define SQUIRREL_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SECRET_MAX 4096            /* bytes of a password read from a file */

/* The rule: true when group or others have any access (mode & 077). */
bool secret_mode_shared(mode_t mode);

/*
 * stat()s path: 1 when the rule refuses it (its permission bits in *mode),
 * 0 when only its owner may access it, -1 with errno when it cannot be
 * stat()ed.
 */
int secret_file_shared(const char *path, unsigned *mode);

/*
 * The secret held by the file at path, named what in messages ("[smtp]
 * password_file"): a regular file only its owner may access, one line of
 * 1 to SECRET_MAX bytes (a final newline is not part of it). Returns a
 * malloc'd copy (explicit_bzero it before free), or NULL with the reason in
 * err.
 */
char *secret_file_read(const char *path, const char *what, char *err, size_t errlen);

#endif
