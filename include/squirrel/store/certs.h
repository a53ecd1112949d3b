/*
 * certs.h - the certificate last seen per site (src/store/certs.c): what
 * the warnings before its end rest on, and what squirrelctl, the status
 * page and the metrics show of it.
 */
#ifndef SQUIRREL_STORE_CERTS_H
#define SQUIRREL_STORE_CERTS_H

#include <stddef.h>
#include <stdint.h>

#include "squirrel/core/check.h"
#include "squirrel/store/sites.h"
#include "squirrel/store/store.h"

/* A site's certificate as last seen. */
struct sq_site_cert {
	int64_t site_id;
	char fingerprint[SQ_CERT_FP_HEX];  /* SHA-256, hex */
	int64_t not_after;        /* unix s */
	int64_t first_seen;       /* unix s: the first check that saw this certificate */
	int warned_days;          /* the nearest threshold warned for it; 0: none */
	char subject[SQ_CERT_NAME_MAX];
	char issuer[SQ_CERT_NAME_MAX];
};

/* Site id's certificate: 0, STORE_NOT_FOUND (none seen), or -1 (logged). */
int store_cert_load(struct store *s, int64_t site_id, struct sq_site_cert *out);

/* Keeps c as site c->site_id's certificate, replacing any other. 0 or -1 (logged). */
int store_cert_save(struct store *s, const struct sq_site_cert *c);

#endif
