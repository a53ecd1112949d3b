/*
 * outfile.h - replacing a file atomically: readers (a web server, the node
 * exporter's textfile collector) see the old file or the new one, never a
 * half-written one. The data is written to a hidden temporary file in the
 * same directory (".NAME.XXXXXX": a collector reading *.prom skips it),
 * flushed to disk, then renamed over the target. Only a regular file is
 * replaced: a target that is a symbolic link, a FIFO, a device node, a
 * socket or a directory is refused (logged), and left as it is.
 */
#ifndef SQUIRREL_OUTFILE_H
#define SQUIRREL_OUTFILE_H

#include <stdio.h>
#include <sys/types.h>

struct outfile {
	FILE *f;          /* write here between open and commit */
	char *path;
	char *tmp;
};

/* 0, or -1 (logged, naming the file). mode: the new file's permissions. */
int outfile_open(struct outfile *o, const char *path, mode_t mode);

/* Flushes, syncs and renames into place. 0, or -1 (logged; nothing replaced). */
int outfile_commit(struct outfile *o);

/* Gives up: the temporary file is removed, the target untouched. */
void outfile_abort(struct outfile *o);

#endif
