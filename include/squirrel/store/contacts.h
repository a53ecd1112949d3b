/*
 * contacts.h - where alerts go besides a site's owner (src/store/contacts.c):
 * the contacts, each of one channel, and the sites they are linked to.
 * The secret of a contact is never stored: only the path of the file that
 * holds it, read at delivery.
 */
#ifndef SQUIRREL_STORE_CONTACTS_H
#define SQUIRREL_STORE_CONTACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "squirrel/store/store.h"

struct sq_contact {
	int64_t id;
	char *name;
	char *kind;           /* email, webhook, ntfy, chat, sms */
	char *target;         /* an address, or a url */
	char *secret_file;    /* NULL: none */
	char *kinds;          /* the alert kinds it wants, "down,up"; NULL: all */
	char *sender;         /* sms: the number it is sent from; else NULL */
	char *api;            /* sms: the provider's url the form is posted to; else NULL */
	bool every_site;
	bool insecure;        /* http allowed to a host not on loopback */
	int64_t sites;        /* store_contacts_list: the sites linked to it */
};

struct sq_contact_list {
	struct sq_contact *v;
	size_t n;
};

void store_contact_free(struct sq_contact *c);
void store_free_contacts(struct sq_contact_list *l);

/* Adds c (its id set in *id). 0, STORE_TAKEN (the name is another's), or -1. */
int store_contact_add(struct store *s, const struct sq_contact *c, int64_t *id);
/* All contacts by name, with how many sites each is linked to. 0 or -1. */
int store_contacts_list(struct store *s, struct sq_contact_list *out);
/* Contact name: 0 (*out filled), STORE_NOT_FOUND, or -1. */
int store_contact_get(struct store *s, const char *name, struct sq_contact *out);
/* Removes contact name and its links (its alerts pending fail). 0, STORE_NOT_FOUND, or -1. */
int store_contact_remove(struct store *s, const char *name);
/*
 * Links site_id to exactly the contacts named (names[0..n-1]), in the
 * caller's transaction. 0, STORE_NOT_FOUND (*missing: the name unknown),
 * or -1.
 */
int store_site_contacts_set(struct store *s, int64_t site_id, char *const *names, size_t n,
    const char **missing);

#endif
