/*
 * convert.h - the rows of schema version 8 and before into schema 9's
 * class code and detail (src/store/convert.c): the history in bounded
 * batches, off the migration, while the daemon checks.
 */
#ifndef SQUIRREL_STORE_CONVERT_H
#define SQUIRREL_STORE_CONVERT_H

#include <stdint.h>

#include "squirrel/store/store.h"

/*
 * Converts the newest `batch` ids of history not converted yet (checks
 * and their locations' answers) in one transaction of its own. *left: the
 * id below which rows are left, 0 when the history is all converted. 0, or
 * -1 (logged): the next call tries the same batch again.
 */
int store_convert_history(struct store *s, int batch, int64_t *left);

/*
 * A new database at path at an older schema version, made by the steps
 * that version ran: for the tests of the migrations. 0, or -1 (logged).
 */
int store_create_old(const char *path, int version);

#endif
