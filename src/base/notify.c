/*
 * notify.c - systemd readiness and watchdog through libsystemd's sd_notify.
 */
#include <stdarg.h>
#include <stdio.h>

#include "config_build.h"
#include "squirrel/base/notify.h"

#if SQ_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

static void notify_send(const char *msg)
{
	/* 0: no NOTIFY_SOCKET, not under systemd; < 0: worth a debug line only */
	int rc = sd_notify(0, msg);
	if (rc < 0)
		log_debug("sd_notify(%s) failed: error %d", msg, -rc);
}

int64_t notify_watchdog_ms(void)
{
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return (int64_t)(usec / 1000);
}
#else
static void notify_send(const char *msg)
{
	(void)msg;
}

int64_t notify_watchdog_ms(void)
{
	return 0;
}
#endif

void notify_ready(void)
{
	notify_send("READY=1");
}

void notify_stopping(void)
{
	notify_send("STOPPING=1");
}

void notify_reloading(void)
{
	notify_send("RELOADING=1");
}

void notify_watchdog(void)
{
	notify_send("WATCHDOG=1");
}

void notify_status(const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int off = snprintf(msg, sizeof(msg), "STATUS=");

	va_start(ap, fmt);
	vsnprintf(msg + off, sizeof(msg) - (size_t)off, fmt, ap);
	va_end(ap);
	notify_send(msg);
}
