/* http.h — the HTTP server (libmicrohttpd) that serves the latest publication.
 *
 * Endpoints: /metrics (GET, HEAD; gzip and OpenMetrics by negotiation), / (landing page),
 * /-/healthy (200 while the collector keeps publishing), /-/ready (200 once the first cycle is
 * published). Any other path: 404; any other method: 405 with Allow. A scrape serves the cached
 * rendering of the current publication plus a small per-scrape tail: it never reads /proc.
 *
 * One internal thread (epoll) serves every connection; connections are limited in number, in
 * header size and by an idle timeout, so slow or idle clients cannot starve a scrape.
 */
#ifndef PROCMEM_HTTP_H
#define PROCMEM_HTTP_H

#include <stdint.h>

#include "buf.h"
#include "publish.h"

struct http_opts {
	const char *listen_address; /* HOST:PORT; used when listen_fd < 0 */
	int listen_fd;		    /* a listening socket from systemd, or -1 */
	const char *tls_cert, *tls_key; /* PEM files, or NULL */
	const char *basic_auth_file;	/* user:bcrypt lines, or NULL */
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

#endif
