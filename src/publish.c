/* publish.c — reference-counted publications with lazily made renderings; see publish.h. */
#include "publish.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "gz.h"

/* the exposition's variants (format * 2 + gzip), then the pages (page.h) */
enum { EXPO_VARIANTS = EXPO_FORMAT_COUNT * 2, VARIANTS = EXPO_VARIANTS + PAGE_KIND_COUNT };

struct variant {
	bool done;
	int err;
	struct buf data;
	uint32_t crc;
	uint64_t raw_len;
	size_t age_at; /* pages: where the per-request age goes */
};

struct publication {
	atomic_uint refs;
	struct snapshot *snap;
	struct publisher *owner;
	pthread_mutex_t lock;
	struct variant v[VARIANTS];
};

struct publisher {
	pthread_mutex_t lock;
	struct publication *current;
	uint64_t last_ns;
	atomic_uint wanted; /* bit per variant asked for at least once */
	int gzip_level;
	char *version, *host; /* for the pages */
	struct page_endpoint *endpoints;
	size_t nendpoints;
};

struct publisher *publisher_new(int gzip_level)
{
	struct publisher *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	p->gzip_level = gzip_level;
	return p;
}

void publisher_free(struct publisher *p)
{
	if (!p)
		return;
	publication_release(p->current);
	pthread_mutex_destroy(&p->lock);
	free(p->version);
	free(p->host);
	free(p->endpoints);
	free(p);
}

static void publication_free(struct publication *pub)
{
	int i;

	for (i = 0; i < VARIANTS; i++)
		buf_done(&pub->v[i].data);
	snapshot_free(pub->snap);
	pthread_mutex_destroy(&pub->lock);
	free(pub);
}

void publication_release(struct publication *pub)
{
	if (pub && atomic_fetch_sub(&pub->refs, 1) == 1)
		publication_free(pub);
}

const struct snapshot *publication_snapshot(const struct publication *pub)
{
	return pub->snap;
}

int publisher_set_page_info(struct publisher *p, const char *version, const char *host,
			    const struct page_endpoint *endpoints, size_t nendpoints)
{
	char *v = strdup(version), *h = host ? strdup(host) : NULL;
	struct page_endpoint *e = nendpoints ? calloc(nendpoints, sizeof(*e)) : NULL;

	if (!v || (host && !h) || (nendpoints && !e)) {
		free(v);
		free(h);
		free(e);
		return -ENOMEM;
	}
	if (nendpoints)
		memcpy(e, endpoints, nendpoints * sizeof(*e));
	free(p->version);
	free(p->host);
	free(p->endpoints);
	p->version = v;
	p->host = h;
	p->endpoints = e;
	p->nendpoints = nendpoints;
	return 0;
}

/* Renders variant i; called with pub->lock held (or before anyone else can see pub). */
static int render_variant(struct publication *pub, int i)
{
	int plain_i = i - i % 2;
	enum expo_format f = (enum expo_format)(i / 2);
	struct variant *v = &pub->v[i];
	struct variant *plain = &pub->v[plain_i];
	int r;

	if (v->done)
		return v->err;
	if (i >= EXPO_VARIANTS) {
		struct page_info info = { pub->owner->version ? pub->owner->version : "", pub->owner->host,
					  pub->owner->endpoints, pub->owner->nendpoints };

		page_render(pub->snap, &info, (enum page_kind)(i - EXPO_VARIANTS), &v->data, &v->age_at);
		r = buf_failed(&v->data) ? -ENOMEM : 0;
	} else if (i % 2) {
		r = render_variant(pub, plain_i);
		if (r >= 0)
			r = gz_deflate_body(plain->data.buf, plain->data.len, pub->owner->gzip_level,
					    &v->data, &v->crc);
		v->raw_len = plain->data.len;
		/* The plain text was only the gzip body's source (Prometheus asks for gzip): unless
		 * someone asked for it as well, do not keep a second copy of the exposition. A
		 * request for it sets its bit before it takes the lock we hold, so it either stops
		 * us here or renders it again after us. */
		if (!(atomic_load(&pub->owner->wanted) & (1u << plain_i))) {
			buf_done(&plain->data);
			plain->done = false;
		}
	} else {
		expo_render(pub->snap, f, &v->data);
		r = buf_failed(&v->data) ? -ENOMEM : 0;
		v->raw_len = v->data.len;
	}
	if (r < 0)
		buf_done(&v->data); /* do not keep a half rendering around */
	v->done = true;
	v->err = r;
	return r;
}

int publisher_publish(struct publisher *p, struct snapshot *snap)
{
	struct publication *pub, *old;
	unsigned wanted = atomic_load(&p->wanted);
	int i;

	pub = calloc(1, sizeof(*pub));
	if (!pub) {
		snapshot_free(snap);
		return -ENOMEM;
	}
	atomic_init(&pub->refs, 1);
	pub->snap = snap;
	pub->owner = p;
	pthread_mutex_init(&pub->lock, NULL);
	for (i = 0; i < VARIANTS; i++)
		buf_init(&pub->v[i].data);
	for (i = 0; i < VARIANTS; i++)
		if (wanted & (1u << i))
			(void)render_variant(pub, i); /* a failure is remembered and served as 500 */

	pthread_mutex_lock(&p->lock);
	old = p->current;
	p->current = pub;
	p->last_ns = clock_monotonic_ns();
	pthread_mutex_unlock(&p->lock);
	publication_release(old);
	return 0;
}

struct publication *publisher_acquire(struct publisher *p)
{
	struct publication *pub;

	pthread_mutex_lock(&p->lock);
	pub = p->current;
	if (pub)
		atomic_fetch_add(&pub->refs, 1);
	pthread_mutex_unlock(&p->lock);
	return pub;
}

uint64_t publisher_last_ns(struct publisher *p)
{
	uint64_t t;

	pthread_mutex_lock(&p->lock);
	t = p->last_ns;
	pthread_mutex_unlock(&p->lock);
	return t;
}

/* Variant i, rendered if it was not yet, and wanted from now on (see publish.h). */
static int wanted_variant(struct publication *pub, int i, const struct variant **ret)
{
	int r;

	atomic_fetch_or(&pub->owner->wanted, 1u << i);
	pthread_mutex_lock(&pub->lock);
	r = render_variant(pub, i);
	pthread_mutex_unlock(&pub->lock);
	if (r >= 0)
		*ret = &pub->v[i];
	return r;
}

int publication_body(struct publication *pub, enum expo_format f, bool gzip, struct rendering *ret)
{
	const struct variant *v;
	int r;

	assert(pub && ret && (unsigned)f < EXPO_FORMAT_COUNT);
	r = wanted_variant(pub, (int)f * 2 + (gzip ? 1 : 0), &v);
	if (r < 0)
		return r;
	*ret = (struct rendering){ v->data.buf, v->data.len, v->crc, v->raw_len };
	return 0;
}

int publication_page(struct publication *pub, enum page_kind k, struct rendering *ret, size_t *ret_age_at)
{
	const struct variant *v;
	int r;

	assert(pub && ret && ret_age_at && (unsigned)k < PAGE_KIND_COUNT);
	r = wanted_variant(pub, EXPO_VARIANTS + (int)k, &v);
	if (r < 0)
		return r;
	*ret = (struct rendering){ v->data.buf, v->data.len, 0, v->data.len };
	*ret_age_at = v->age_at;
	return 0;
}
