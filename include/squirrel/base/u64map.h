/*
 * u64map.h - a hash table from 64-bit keys to pointers (open addressing,
 * linear probing), for the redis backend's checks in flight. A NULL value
 * means "no entry": NULL cannot be stored.
 */
#ifndef SQUIRREL_U64MAP_H
#define SQUIRREL_U64MAP_H

#include <stddef.h>
#include <stdint.h>

struct u64map_slot {
	uint64_t key;
	void *val;
};

struct u64map {
	struct u64map_slot *v;
	size_t cap;               /* a power of two, or 0 */
	size_t n;
};

void u64map_init(struct u64map *m);
void u64map_free(struct u64map *m);
void *u64map_get(const struct u64map *m, uint64_t key);
/* Adds or replaces. 0, or -1 when out of memory (the map is unchanged). */
int u64map_put(struct u64map *m, uint64_t key, void *val);
/* Removes and returns the value, or NULL when there was none. */
void *u64map_del(struct u64map *m, uint64_t key);

/* Walk: for (size_t i = 0; i < m.cap; i++) if (m.v[i].val) ...; no changes meanwhile. */

uint64_t u64map_mix(uint64_t x);

#endif
