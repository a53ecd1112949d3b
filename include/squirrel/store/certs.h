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

/*
 * When each site's certificate ends: not_after per site id, for the
 * listings (ids in any order; a site without an https answer yet has
 * none). The arrays are malloc'ed; 0 or -1 (logged).
 */
struct sq_cert_ends {
	int64_t *site_id;
	int64_t *not_after;
	size_t n;
};
int store_cert_ends(struct store *s, struct sq_cert_ends *out);
/* not_after of site id in e, or 0. */
int64_t store_cert_end_of(const struct sq_cert_ends *e, int64_t site_id);
void store_cert_ends_free(struct sq_cert_ends *e);

#endif
