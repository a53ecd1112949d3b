/*
 * u64map.c - open addressing with linear probing; a removal shifts the
 * entries after it back, so there are no tombstones and lookups stay short.
 * The table doubles at 1/2 full.
 */
#include <stdlib.h>

#include "squirrel/base/u64map.h"

/* splitmix64's finalizer: neighbouring keys land far apart. */
uint64_t u64map_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

void u64map_init(struct u64map *m)
{
	m->v = NULL;
	m->cap = 0;
	m->n = 0;
}

void u64map_free(struct u64map *m)
{
	free(m->v);
	u64map_init(m);
}

static size_t home(const struct u64map *m, uint64_t key)
{
	return (size_t)u64map_mix(key) & (m->cap - 1);
}

void *u64map_get(const struct u64map *m, uint64_t key)
{
	if (m->cap == 0)
		return NULL;
	for (size_t i = home(m, key);; i = (i + 1) & (m->cap - 1)) {
		if (m->v[i].val == NULL)
			return NULL;
		if (m->v[i].key == key)
			return m->v[i].val;
	}
}

static void place(struct u64map *m, uint64_t key, void *val)
{
	size_t i = home(m, key);
	while (m->v[i].val != NULL && m->v[i].key != key)
		i = (i + 1) & (m->cap - 1);
	if (m->v[i].val == NULL)
		m->n++;
	m->v[i].key = key;
	m->v[i].val = val;
}

static int grow(struct u64map *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64;
	struct u64map_slot *nv = calloc(ncap, sizeof(*nv));
	struct u64map old = *m;

	if (nv == NULL)
		return -1;
	m->v = nv;
	m->cap = ncap;
	m->n = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.v[i].val != NULL)
			place(m, old.v[i].key, old.v[i].val);
	free(old.v);
	return 0;
}

int u64map_put(struct u64map *m, uint64_t key, void *val)
{
	if ((m->n + 1) * 2 > m->cap && grow(m) < 0)
		return -1;
	place(m, key, val);
	return 0;
}

void *u64map_del(struct u64map *m, uint64_t key)
{
	if (m->cap == 0)
		return NULL;
	size_t mask = m->cap - 1, i = home(m, key);
	while (m->v[i].val != NULL && m->v[i].key != key)
		i = (i + 1) & mask;
	void *val = m->v[i].val;
	if (val == NULL)
		return NULL;
	m->v[i].val = NULL;
	m->n--;
	/* Shift back every later entry of the run that would no longer be found. */
	for (size_t j = (i + 1) & mask; m->v[j].val != NULL; j = (j + 1) & mask) {
		size_t h = home(m, m->v[j].key);
		/* j's home lies cyclically in (i, j]: it stays; otherwise it moves to i */
		if ((i < j) ? (h > i && h <= j) : (h > i || h <= j))
			continue;
		m->v[i] = m->v[j];
		m->v[j].val = NULL;
		i = j;
	}
	return val;
}
