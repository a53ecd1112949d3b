/*
 * notify.h - systemd's readiness protocol (sd_notify): READY=1, STATUS=,
 * WATCHDOG=1, STOPPING=1. Does nothing outside systemd or in a build
 * without libsystemd.
 */
#ifndef SQUIRREL_NOTIFY_H
#define SQUIRREL_NOTIFY_H

#include <stdint.h>

#include "squirrel/base/log.h"

void notify_ready(void);
void notify_stopping(void);
void notify_reloading(void);
void notify_status(const char *fmt, ...) SQ_PRINTF(1, 2);
/* The watchdog interval systemd asked for, in ms; 0 when none. */
int64_t notify_watchdog_ms(void);
void notify_watchdog(void);

#endif
