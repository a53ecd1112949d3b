/*
 * dbtool.c - a database of an older schema version, for the tests of the
 * migrations: what an earlier squirrel left behind, made by the same
 * migration steps it ran.
 *
 *   dbtool create PATH VERSION
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/log.h"
#include "squirrel/store/convert.h"

int main(int argc, char **argv)
{
	char *end;

	log_init("dbtool");
	if (argc != 4 || strcmp(argv[1], "create") != 0) {
		fprintf(stderr, "usage: dbtool create PATH VERSION\n");
		return 2;
	}
	long version = strtol(argv[3], &end, 10);
	if (*end != '\0' || version < 1 || version > 1000) {
		fprintf(stderr, "dbtool: '%s' is not a schema version\n", argv[3]);
		return 2;
	}
	return store_create_old(argv[2], (int)version) == 0 ? 0 : 1;
}
