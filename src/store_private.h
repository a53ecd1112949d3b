/*
 * store_private.h - what the files of the store module share: the SQLite
 * connection. Only src/store*.c include it (and so sqlite3.h).
 */
#ifndef SQUIRREL_STORE_PRIVATE_H
#define SQUIRREL_STORE_PRIVATE_H

#include <sqlite3.h>

#include "squirrel/store.h"

sqlite3 *store_sqlite(struct store *s);

#endif
