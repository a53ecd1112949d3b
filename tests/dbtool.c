/*
 * dbtool.c - a database of an older schema version, for the tests of the
 * migrations: what an earlier squirrel left behind, made by the same
 * migration steps it ran.
 *
 *   dbtool create PATH VERSION
 *   dbtool tiers PATH        the hourly tier summed again from a history written with SQL
 *   dbtool upkeep PATH RAW_HOURS HISTORY_DAYS [NOW]
 *                            the reporter's upkeep (retention.c) run to its end, at NOW
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "squirrel/base/log.h"
#include "squirrel/store/convert.h"
#include "squirrel/store/retention.h"
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
	if ((argc == 5 || argc == 6) && strcmp(argv[1], "upkeep") == 0) {
		struct store_retention r = { .raw_hours = atoi(argv[3]), .history_days = atoi(argv[4]) };
		struct store_retention_done d = { 0 };
		int64_t now = argc == 6 ? strtoll(argv[5], NULL, 10) : (int64_t)time(NULL);
		struct store *s = store_open(argv[2], 0);
		int more = s != NULL ? 1 : -1;
		for (long steps = 0; more == 1 && steps < 100000000L; steps++)
			more = store_retention_step(s, &r, now, &d);
		store_close(s);
		fprintf(stderr, "dbtool: upkeep: %lld backfilled, %lld days rolled up, pruned %lld checks,"
		    " %lld kept checks, %lld hours, %lld days\n", (long long)d.backfilled,
		    (long long)d.days, (long long)d.raw, (long long)d.kept, (long long)d.hours,
		    (long long)d.days_pruned);
		return more == 0 ? 0 : 1;
	}
	if (argc != 4 || strcmp(argv[1], "create") != 0) {
		fprintf(stderr, "usage: dbtool create PATH VERSION | dbtool tiers PATH |"
		    " dbtool upkeep PATH RAW_HOURS HISTORY_DAYS [NOW]\n");
		return 2;
	}
	long version = strtol(argv[3], &end, 10);
	if (*end != '\0' || version < 1 || version > 1000) {
		fprintf(stderr, "dbtool: '%s' is not a schema version\n", argv[3]);
		return 2;
	}
	return store_create_old(argv[2], (int)version) == 0 ? 0 : 1;
}
