/*
 * dbtool.c - a database of an older schema version, for the tests of the
 * migrations: what an earlier squirrel left behind, made by the same
 * migration steps it ran.
 *
 *   dbtool create PATH VERSION
 *   dbtool tiers PATH        the hourly tier summed again from a history written with SQL
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/log.h"
#include "squirrel/store/convert.h"
#include "squirrel/store/store.h"
#include "squirrel/store/uptime.h"

int main(int argc, char **argv)
{
	char *end;

	log_init("dbtool");
	if (argc == 3 && strcmp(argv[1], "tiers") == 0) {
		struct store *s = store_open(argv[2], 0);
		int rc = s != NULL && store_tiers_rebuild(s) == 0 ? 0 : 1;
		store_close(s);
		return rc;
	}
	if (argc != 4 || strcmp(argv[1], "create") != 0) {
		fprintf(stderr, "usage: dbtool create PATH VERSION | dbtool tiers PATH\n");
		return 2;
	}
	long version = strtol(argv[3], &end, 10);
	if (*end != '\0' || version < 1 || version > 1000) {
		fprintf(stderr, "dbtool: '%s' is not a schema version\n", argv[3]);
		return 2;
	}
	return store_create_old(argv[2], (int)version) == 0 ? 0 : 1;
}
