/*
 * log.h - one place for the daemon's messages.
 *
 * Messages go to stderr. Under systemd (JOURNAL_STREAM set) every line gets a
 * "<N>" priority prefix so journald records its level. log_warn() and
 * log_error() append strerror(errno), the "x" variants do not, as in
 * OpenBSD's daemons.
 */
#ifndef SQUIRREL_LOG_H
#define SQUIRREL_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERROR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

void log_init(const char *progname);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warning", "info" or "debug"; -1 if none of them. */
int log_level_parse(const char *s);

#define SQ_PRINTF(a, b) __attribute__((format(printf, a, b)))

void log_errorx(const char *fmt, ...) SQ_PRINTF(1, 2);
void log_error(const char *fmt, ...) SQ_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) SQ_PRINTF(1, 2);
void log_warn(const char *fmt, ...) SQ_PRINTF(1, 2);
void log_info(const char *fmt, ...) SQ_PRINTF(1, 2);
void log_debug(const char *fmt, ...) SQ_PRINTF(1, 2);

#endif
