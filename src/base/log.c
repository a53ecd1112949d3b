/*
 * log.c - messages to stderr, with journald priority prefixes under systemd.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squirrel/base/log.h"

static const char *log_progname = "squirrel";
static enum log_level log_level = LOG_LEVEL_INFO;
static bool log_journal;

void log_init(const char *progname)
{
	log_progname = progname;
	/* systemd sets JOURNAL_STREAM when stderr is connected to journald. */
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level log_get_level(void)
{
	return log_level;
}

int log_level_parse(const char *s)
{
	static const struct {
		const char *name;
		enum log_level level;
	} names[] = {
		{ "error", LOG_LEVEL_ERROR },
		{ "warning", LOG_LEVEL_WARNING },
		{ "info", LOG_LEVEL_INFO },
		{ "debug", LOG_LEVEL_DEBUG },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].level;
	return -1;
}

/* One write per line, so lines of concurrent threads do not interleave. */
static void log_vemit(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	char line[2048];
	int off = 0;

	if (level > log_level)
		return;
	if (log_journal)
		off = snprintf(line, sizeof(line), "<%d>", (int)level);
	else
		off = snprintf(line, sizeof(line), "%s: ", log_progname);
	int n = vsnprintf(line + off, sizeof(line) - (size_t)off, fmt, ap);
	if (n > 0)
		off += n;
	if ((size_t)off >= sizeof(line) - 1)
		off = (int)sizeof(line) - 2;
	if (errnum != 0)
		off += snprintf(line + off, sizeof(line) - (size_t)off, ": %s", strerror(errnum));
	if ((size_t)off >= sizeof(line) - 1)
		off = (int)sizeof(line) - 2;
	line[off++] = '\n';
	fwrite(line, 1, (size_t)off, stderr);
}

#define LOG_FN(fn, level, with_errno)                                      \
	void fn(const char *fmt, ...)                                      \
	{                                                                  \
		int saved = errno;                                         \
		va_list ap;                                                \
		va_start(ap, fmt);                                         \
		log_vemit(level, with_errno ? saved : 0, fmt, ap);         \
		va_end(ap);                                                \
		errno = saved;                                             \
	}

LOG_FN(log_errorx, LOG_LEVEL_ERROR, 0)
LOG_FN(log_error, LOG_LEVEL_ERROR, 1)
LOG_FN(log_warnx, LOG_LEVEL_WARNING, 0)
LOG_FN(log_warn, LOG_LEVEL_WARNING, 1)
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)
