/* publish.h — the latest snapshot and its renderings, shared between the collector and HTTP.
 *
 * The collector publishes each finished snapshot; HTTP handlers acquire the current
 * publication, serve its cached rendering and release it. A publication is reference-counted
 * and immutable once its renderings are made, so a scrape holds no lock while it sends and a
 * new cycle never waits for a slow client.
 *
 * Renderings (text or OpenMetrics, plain or gzip) are made once per publication and only for
 * the variants someone asks for: the first request for a variant renders it (under the
 * publication's lock) and marks it wanted, and from then on the collector renders the wanted
 * variants before it publishes, so scrapes find them ready. A plain rendering made only as the
 * source of a gzip body is freed once compressed, unless the plain variant is wanted too.
 * The pages for people (page.h) are variants too, made the same way.
 */
#ifndef PROCMEM_PUBLISH_H
#define PROCMEM_PUBLISH_H

#include <stdbool.h>
#include <stdint.h>

#include "expo.h"
#include "page.h"

struct publication;

/* A rendered body. For gzip, `data` is the raw deflate part (see gz.h) and crc/raw_len
 * describe the uncompressed text. Valid while the publication is held. */
struct rendering {
	const char *data;
	size_t len;
	uint32_t crc;
	uint64_t raw_len;
};

struct publisher;

struct publisher *publisher_new(int gzip_level);
/* Accepts NULL; drops the publisher's reference to the current publication. Publications still
 * held may be read (publication_snapshot) and released afterwards, but publication_body() needs
 * the publisher (it records there which variants are wanted): stop the readers first. */
void publisher_free(struct publisher *p);

/* What the pages name besides the snapshot's figures (copied; the endpoints' strings are not,
 * and must outlive the publisher: http_endpoints() gives static ones); before the first
 * publication. Returns 0 or -ENOMEM. */
int publisher_set_page_info(struct publisher *p, const char *version, const char *host,
			    const struct page_endpoint *endpoints, size_t nendpoints);

/* Takes ownership of snap; renders the wanted variants, then makes it current. -ENOMEM leaves
 * the previous publication current (and frees snap). */
int publisher_publish(struct publisher *p, struct snapshot *snap);

/* The current publication with a reference taken, or NULL before the first. */
struct publication *publisher_acquire(struct publisher *p);
/* When the current publication was published (CLOCK_MONOTONIC, ns); 0 before the first. */
uint64_t publisher_last_ns(struct publisher *p);

void publication_release(struct publication *pub); /* accepts NULL */
const struct snapshot *publication_snapshot(const struct publication *pub);
/* The body in `f`, gzip-compressed or not, rendering it if needed. -ENOMEM / -EIO. */
int publication_body(struct publication *pub, enum expo_format f, bool gzip, struct rendering *ret);
/* The page of kind k, rendering it if needed; *ret_age_at: where the request's age goes (see
 * page.h). -ENOMEM. */
int publication_page(struct publication *pub, enum page_kind k, struct rendering *ret, size_t *ret_age_at);

#endif
