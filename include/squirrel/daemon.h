/*
 * daemon.h - squirreld as a service: the scheduler's loop, live edits of the
 * database, signals, systemd notifications, and mail delivery beside it.
 */
#ifndef SQUIRREL_DAEMON_H
#define SQUIRREL_DAEMON_H

#include "squirrel/core/config.h"
#include "squirrel/store/store.h"

/*
 * Reads the configuration again (file and command line) for SIGHUP.
 * Returns 0 with *out filled, or -1 (logged) and *out untouched.
 */
typedef int daemon_reload_fn(struct sq_config *out, void *arg);

/*
 * Runs until SIGTERM or SIGINT; cfg may be replaced on SIGHUP. The daemon
 * owns cfg and st from here and frees both (st may be reopened when its
 * file is replaced). Returns the exit status.
 */
int daemon_run(struct store *st, struct sq_config *cfg, daemon_reload_fn *reload, void *arg);

/*
 * The redis backend's keep_run (struct sq_backend_params), on the database
 * at path (arg, a const char *): opened for the call, as the backend
 * starts, the table made when missing.
 */
int daemon_keep_run(void *arg, const char *prefix, const char *run, char *previous, size_t len);

#endif
