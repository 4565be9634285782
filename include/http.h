/* http.h — the HTTP server (libmicrohttpd) that serves the latest publication.
 *
 * Endpoints (the route table in http.c, one row each): /metrics (GET, HEAD; gzip and
 * OpenMetrics by negotiation), / (landing page), /top (the same as text), /-/healthy (200 while
 * the collector keeps publishing), /-/ready (200 once the first cycle is published). Any other
 * path: 404; any other method: 405 with Allow; a GET or HEAD with a body: 400 (a request with a
 * body is answered before the body is read, and its connection closed).
 * A scrape serves the cached rendering of the current publication plus a small per-scrape tail:
 * it never reads /proc. Responses are counted by status code once sent in full, with
 * libmicrohttpd's own error answers.
 *
 * One internal thread (epoll) serves every connection. Connections are limited in number (per
 * client address too), in header size and by an idle timeout; past a high-water mark a new
 * connection closes the least recently active one, so idle or slow clients cannot keep a scrape
 * out. With basic auth, every endpoint but (optionally) the health ones wants credentials; the
 * bcrypt check runs on a worker thread (auth.h, workq.h) while the connection is suspended, so
 * wrong passwords cost the serving thread nothing; too many checks waiting get 429. TLS, client
 * certificates, basic auth users and extra response headers come from a struct web_config
 * (webconfig.h); the headers go on every response, 401s included, as exporter-toolkit does.
 */
#ifndef PROCMEM_HTTP_H
#define PROCMEM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "page.h"
#include "publish.h"
#include "webconfig.h"

struct http_opts {
	const char *listen_address; /* HOST:PORT; used when listen_fd < 0 */
	int listen_fd;		    /* a listening socket from systemd, or -1 */
	const struct web_config *web; /* TLS, users, headers (webconfig.h); must outlive the server */
	bool health_open;  /* with auth: /-/healthy and /-/ready need no credentials */
	uint64_t stale_ns; /* /-/healthy fails when no cycle was published for this long */
};

struct http_server;

/* Binds (unless given a socket) and starts serving. On failure, err says what failed. */
int http_start(const struct http_opts *o, struct publisher *pub, struct http_server **ret,
	       struct buf *err);
/* Stops serving, closes its descriptor of the listening socket (without shutting the socket
 * down: one from systemd stays systemd's to listen on), frees. Accepts NULL. */
void http_stop(struct http_server *s);
/* The address it listens on, as "HOST:PORT" (the real port when 0 was asked for). */
const char *http_address(const struct http_server *s);

/* The endpoints the landing page lists, from the route table (path and a few words of HTML,
 * static strings), in its order: up to max into out; returns how many. HTTP_ENDPOINTS_MAX is
 * room for all of them. */
#define HTTP_ENDPOINTS_MAX 16
size_t http_endpoints(struct page_endpoint *out, size_t max);

#endif
