/* http.c — the libmicrohttpd server; see http.h.
 *
 * A /metrics response is assembled from pieces without copying the body: an iovec of the
 * publication's cached rendering and a small per-request buffer holding the tail (and, for
 * gzip, the stored-block framing and trailer; see gz.h). The response's free callback releases
 * the publication, so a cycle can publish a new one while an old one is still being sent.
 *
 * Connections: libmicrohttpd closes one idle for CONN_TIMEOUT_S and stops accepting (new ones
 * wait in the listen backlog) at CONN_LIMIT. That alone would let a few hundred idle or slowloris
 * connections keep a scrape waiting until they time out, so this file keeps its own list of
 * connections, least recently active first (activity: accepted, request headers complete,
 * response done). A new connection from an address that already has CONN_PER_IP shuts down that
 * address's least recently active one; else, past CONN_EVICT_AT connections, it shuts down the
 * head of the list: a client that has not finished its request headers since the longest time.
 * libmicrohttpd then sees the socket's EOF and closes the connection as if the client had gone.
 * libmicrohttpd's own per-address limit is not used: it refuses the new connection, so idle
 * connections from the address a scraper shares (a proxy, 127.0.0.1) would keep it out.
 *
 * Basic auth: credentials seen to verify before are checked on the serving thread (an HMAC,
 * microseconds); anything else goes to the auth verifier's thread while the connection is
 * suspended (MHD_suspend_connection), and the verifier's callback resumes it.
 *
 * Client certificates: libmicrohttpd sets up each connection's GnuTLS session before it
 * announces the connection (MHD_CONNECTION_NOTIFY_STARTED) and before the handshake, so that is
 * where tls_session_client_auth() asks for and verifies them; a connection whose session cannot
 * be had there is shut down rather than served without the check.
 */
#include "http.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "accept.h"
#include "auth.h"
#include "clock.h"
#include "config.h"
#include "gz.h"
#include "page.h"
#include "tls.h"

/* The status codes this server answers with, ascending: each has a request counter. 413, 414,
 * 431 and 505 (and some 400 and 500) are libmicrohttpd's own answers (see on_mhd_log). */
static const unsigned codes[] = { 200, 400, 401, 404, 405, 413, 414, 429, 431, 500, 503, 505 };
#define NCODES (sizeof(codes) / sizeof(codes[0]))

/* Connection limits (see the top of the file). 512 connections with 32 KiB of memory each: at
 * most 16 MiB, and as many descriptors, well under systemd's default soft limit of 1024. */
#define CONN_LIMIT 512u
#define CONN_EVICT_AT 448u
#define CONN_PER_IP 64u
#define CONN_TIMEOUT_S 10u
#define CONN_MEMORY ((size_t)32768)
/* bcrypt checks that may wait for the verifier thread; past it, 429 */
#define AUTH_QUEUE 16u

/* A request waiting for (or done with) a bcrypt check: the request's req_cls. */
struct pending {
	struct http_server *s;
	struct MHD_Connection *c;
	atomic_int ok; /* -1 while waiting; 1 or 0 once the verifier answered; -EAGAIN (queue
			* full) or -EIO (verifier stopped, no memory) when it could not ask */
	bool resumed;  /* the handler was called since the verifier answered */
};

/* One connection in the least-recently-active list (socket context of the connection). */
struct conn {
	struct conn *prev, *next;
	struct MHD_Connection *c;
	unsigned char addr[16]; /* the client's IPv4 or IPv6 address; addr_len 0: another family */
	size_t addr_len;
	bool listed;	/* in the list: neither evicted nor suspended */
	bool suspended; /* out of the list while its credentials are checked */
};

struct http_server {
	struct MHD_Daemon *mhd;
	struct publisher *pub;
	uint64_t stale_ns;
	uint64_t started_ns;
	const struct web_config *web;
	struct auth *auth;
	struct auth_verifier *verifier;
	bool health_open;
	struct pending pass; /* the req_cls of requests that may be served (ok = 1) */
	struct pending fail; /* the req_cls of requests without well-formed credentials (ok = 0) */
	/* the connections, least recently active first; touched on the serving thread only */
	struct conn *head, *tail;
	unsigned nconn;
	atomic_uint_fast64_t requests[NCODES];
	char address[INET6_ADDRSTRLEN + 16];
	struct buf csp; /* the landing page's Content-Security-Policy */
};

static void count(struct http_server *s, unsigned code)
{
	size_t i;

	for (i = 0; i < NCODES; i++)
		if (codes[i] == code)
			atomic_fetch_add(&s->requests[i], 1);
}

/* The web configuration's headers, on every response. One the response carries already with
 * the same value (the pages' X-Content-Type-Options: nosniff) is not sent twice; another value
 * goes beside it: a browser enforces both Content-Security-Policy headers, so the operator's
 * policy narrows the page's own rather than replacing it. */
static void add_web_headers(const struct http_server *s, struct MHD_Response *resp)
{
	for (size_t i = 0; i < s->web->nheaders; i++) {
		const struct web_header *h = &s->web->headers[i];
		const char *have = MHD_get_response_header(resp, h->name);

		if (!have || strcmp(have, h->value) != 0)
			MHD_add_response_header(resp, h->name, h->value);
	}
}

/* Counted when sent in full (on_completed), not here: a response that cannot be queued, or
 * whose client goes away half-way, was not an answer. */
static enum MHD_Result queue(struct http_server *s, struct MHD_Connection *c, unsigned code,
			     struct MHD_Response *resp)
{
	enum MHD_Result r;

	if (!resp)
		return MHD_NO; /* out of memory: MHD closes the connection */
	add_web_headers(s, resp);
	r = MHD_queue_response(c, code, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result reply(struct http_server *s, struct MHD_Connection *c, unsigned code,
			     const char *type, const char *body)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(body), (void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT);

	if (resp) {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
		if (code == 401)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
						"Basic realm=\"procmem_exporter\", charset=\"UTF-8\"");
		if (code == 429)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	}
	return queue(s, c, code, resp);
}

static enum MHD_Result reply_text(struct http_server *s, struct MHD_Connection *c, unsigned code,
				  const char *body)
{
	return reply(s, c, code, "text/plain; charset=utf-8", body);
}

/* ---- the route table: one row per endpoint (after the handlers, below) ----------------------- */

struct route;
typedef enum MHD_Result (*route_fn)(struct http_server *s, struct MHD_Connection *c, const struct route *r);

enum route_flag {
	ROUTE_GET = 1u << 0,	/* the methods it answers (HEAD: as GET, without the body) */
	ROUTE_HEAD = 1u << 1,
	ROUTE_HEALTH = 1u << 2, /* with basic auth and health_open, it wants no credentials */
};

struct route {
	const char *path;    /* exactly, after libmicrohttpd's unescaping (see unescape) */
	route_fn serve;	     /* called for an allowed method, credentials checked, no body */
	enum page_kind page; /* serve_page's page (the other handlers: unused) */
	unsigned flags;	     /* enum route_flag */
	const char *what;    /* the landing page's few words on it (HTML); NULL: not listed */
};

/* ---- /metrics ------------------------------------------------------------------------------ */

struct metrics_resp {
	struct publication *pub;
	struct buf extra; /* the tail, framed for gzip when compressed */
};

static void metrics_resp_free(void *cls)
{
	struct metrics_resp *m = cls;

	publication_release(m->pub);
	buf_done(&m->extra);
	free(m);
}

/* A response's holder with the current publication acquired; NULL with *ret the answer when
 * there is none yet (503) or no memory. */
static struct metrics_resp *metrics_resp_new(struct http_server *s, struct MHD_Connection *c,
					     enum MHD_Result *ret)
{
	struct metrics_resp *m = calloc(1, sizeof(*m));

	*ret = MHD_NO;
	if (!m)
		return NULL;
	buf_init(&m->extra);
	m->pub = publisher_acquire(s->pub);
	if (!m->pub) {
		metrics_resp_free(m);
		*ret = reply_text(s, c, 503, "No collection cycle has completed yet.\n");
		return NULL;
	}
	return m;
}

static void render_tail(struct http_server *s, enum expo_format f, struct buf *out)
{
	uint64_t counts[NCODES];
	struct expo_tail t = { codes, counts, NCODES, clock_cpu_us() };
	size_t i;

	for (i = 0; i < NCODES; i++)
		counts[i] = atomic_load(&s->requests[i]);
	expo_render_tail(&t, f, out);
}

static enum MHD_Result serve_metrics(struct http_server *s, struct MHD_Connection *c, const struct route *r)
{
	const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	const char *enc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	enum expo_format f = accept_format(accept);
	bool gzip = accept_gzip(enc);
	struct MHD_Response *resp;
	struct metrics_resp *m;
	struct rendering body;
	struct MHD_IoVec iov[3];
	unsigned n = 0;
	enum MHD_Result ret;

	(void)r;
	m = metrics_resp_new(s, c, &ret);
	if (!m)
		return ret;
	if (publication_body(m->pub, f, gzip, &body) < 0) {
		metrics_resp_free(m);
		return reply_text(s, c, 500, "Rendering the exposition failed (out of memory).\n");
	}
	if (gzip) {
		struct buf tail = BUF_INIT;

		render_tail(s, f, &tail);
		gz_finish(&m->extra, tail.buf, tail.len, body.crc, body.raw_len);
		buf_done(&tail);
		iov[n++] = (struct MHD_IoVec){ gz_member_header, GZ_HEADER_LEN };
	} else {
		render_tail(s, f, &m->extra);
	}
	if (buf_failed(&m->extra)) {
		metrics_resp_free(m);
		return MHD_NO;
	}
	iov[n++] = (struct MHD_IoVec){ body.data, body.len };
	iov[n++] = (struct MHD_IoVec){ m->extra.buf, m->extra.len };
	resp = MHD_create_response_from_iovec(iov, n, metrics_resp_free, m);
	if (!resp) {
		metrics_resp_free(m);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, expo_content_type(f));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept, Accept-Encoding");
	if (gzip)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	return queue(s, c, 200, resp);
}

/* ---- the other endpoints --------------------------------------------------------------------- */

/* / and /top: the publication's page (the route's) with the cycle's age spliced in (see
 * page.h), sent like /metrics from the cached rendering without a copy. */
static enum MHD_Result serve_page(struct http_server *s, struct MHD_Connection *c, const struct route *r)
{
	enum page_kind k = r->page;
	struct MHD_Response *resp;
	struct metrics_resp *m;
	struct rendering page;
	struct MHD_IoVec iov[3];
	size_t age_at;
	uint64_t now, ts;
	enum MHD_Result ret;

	m = metrics_resp_new(s, c, &ret);
	if (!m)
		return ret;
	if (publication_page(m->pub, k, &page, &age_at) < 0) {
		metrics_resp_free(m);
		return reply_text(s, c, 500, "Rendering the page failed (out of memory).\n");
	}
	now = clock_realtime_ns();
	ts = publication_snapshot(m->pub)->timestamp_ns;
	page_render_age(now > ts ? now - ts : 0, clock_monotonic_ns() - publisher_last_ns(s->pub) > s->stale_ns, k,
			&m->extra);
	if (buf_failed(&m->extra)) {
		metrics_resp_free(m);
		return MHD_NO;
	}
	iov[0] = (struct MHD_IoVec){ page.data, age_at };
	iov[1] = (struct MHD_IoVec){ m->extra.buf, m->extra.len };
	iov[2] = (struct MHD_IoVec){ page.data + age_at, page.len - age_at };
	resp = MHD_create_response_from_iovec(iov, 3, metrics_resp_free, m);
	if (!resp) {
		metrics_resp_free(m);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, page_content_type(k));
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (k == PAGE_HTML)
		MHD_add_response_header(resp, "Content-Security-Policy", s->csp.buf);
	return queue(s, c, 200, resp);
}

static enum MHD_Result serve_healthy(struct http_server *s, struct MHD_Connection *c, const struct route *r)
{
	uint64_t last = publisher_last_ns(s->pub), now = clock_monotonic_ns();

	(void)r;
	if (now - (last ? last : s->started_ns) <= s->stale_ns)
		return reply_text(s, c, 200, "OK\n");
	return reply_text(s, c, 503, "Collection has stalled: no cycle completed recently.\n");
}

static enum MHD_Result serve_ready(struct http_server *s, struct MHD_Connection *c, const struct route *r)
{
	(void)r;
	if (publisher_last_ns(s->pub))
		return reply_text(s, c, 200, "Ready\n");
	return reply_text(s, c, 503, "Not ready: the first collection cycle has not completed.\n");
}

/* Adding an endpoint: a handler above and a row here. No endpoint takes a request body (see
 * on_request), so the methods are GET and HEAD. */
static const struct route routes[] = {
	{ "/metrics", serve_metrics, PAGE_HTML, ROUTE_GET | ROUTE_HEAD, "the exposition, for Prometheus" },
	{ "/", serve_page, PAGE_HTML, ROUTE_GET | ROUTE_HEAD, NULL },
	{ "/top", serve_page, PAGE_TEXT, ROUTE_GET | ROUTE_HEAD,
	  "this table as plain text, for <code>curl -s HOST:PORT/top</code>" },
	{ "/-/healthy", serve_healthy, PAGE_HTML, ROUTE_GET | ROUTE_HEAD | ROUTE_HEALTH,
	  "200 while collection cycles keep completing" },
	{ "/-/ready", serve_ready, PAGE_HTML, ROUTE_GET | ROUTE_HEAD | ROUTE_HEALTH,
	  "200 once the first cycle has completed" },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))
static_assert(NROUTES <= HTTP_ENDPOINTS_MAX, "http.h's HTTP_ENDPOINTS_MAX is too small for the route table");

static const struct {
	const char *name;
	unsigned flag;
} methods[] = { { MHD_HTTP_METHOD_GET, ROUTE_GET }, { MHD_HTTP_METHOD_HEAD, ROUTE_HEAD } };

/* The route of path, or NULL. */
static const struct route *route_find(const char *path)
{
	for (size_t i = 0; i < NROUTES; i++)
		if (strcmp(routes[i].path, path) == 0)
			return &routes[i];
	return NULL;
}

static bool route_allows(const struct route *r, const char *method)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(methods[i].name, method) == 0)
			return r->flags & methods[i].flag;
	return false;
}

/* 405, with the route's methods in Allow ("GET, HEAD") and in the text ("GET or HEAD"). */
static enum MHD_Result method_not_allowed(struct http_server *s, struct MHD_Connection *c,
					  const struct route *r)
{
	struct buf allow = BUF_INIT, text = BUF_INIT;
	struct MHD_Response *resp;

	buf_addstr(&text, "Method not allowed: use ");
	for (size_t i = 0, n = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (!(r->flags & methods[i].flag))
			continue;
		buf_addf(&allow, "%s%s", n ? ", " : "", methods[i].name);
		buf_addf(&text, "%s%s", n++ ? " or " : "", methods[i].name);
	}
	buf_addstr(&text, ".\n");
	resp = buf_failed(&allow) || buf_failed(&text)
		       ? NULL
		       : MHD_create_response_from_buffer(text.len, text.buf, MHD_RESPMEM_MUST_COPY);
	if (resp) {
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow.buf);
	}
	buf_done(&allow);
	buf_done(&text);
	return queue(s, c, 405, resp);
}

size_t http_endpoints(struct page_endpoint *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < NROUTES && n < max; i++)
		if (routes[i].what)
			out[n++] = (struct page_endpoint){ routes[i].path, routes[i].what };
	return n;
}

/* ---- connections: the least-recently-active list ------------------------------------------ */

static void conn_unlink(struct http_server *s, struct conn *n)
{
	if (!n->listed)
		return;
	*(n->prev ? &n->prev->next : &s->head) = n->next;
	*(n->next ? &n->next->prev : &s->tail) = n->prev;
	n->prev = n->next = NULL;
	n->listed = false;
}

static void conn_append(struct http_server *s, struct conn *n)
{
	n->prev = s->tail;
	n->next = NULL;
	*(s->tail ? &s->tail->next : &s->head) = n;
	s->tail = n;
	n->listed = true;
}

static struct conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* The connection did something worth keeping it for: to the end of the list. */
static void conn_touch(struct http_server *s, struct MHD_Connection *c)
{
	struct conn *n = conn_of(c);

	if (n && n->listed) {
		conn_unlink(s, n);
		conn_append(s, n);
	}
}

/* Shuts down connection n; libmicrohttpd reads its EOF and closes it. */
static void conn_evict(struct http_server *s, struct conn *n)
{
	const union MHD_ConnectionInfo *ci;

	conn_unlink(s, n);
	ci = MHD_get_connection_info(n->c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci && ci->connect_fd != MHD_INVALID_SOCKET)
		shutdown(ci->connect_fd, SHUT_RDWR);
}

static void conn_set_address(struct MHD_Connection *c, struct conn *n)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (sa && sa->sa_family == AF_INET) {
		memcpy(n->addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		n->addr_len = 4;
	} else if (sa && sa->sa_family == AF_INET6) {
		memcpy(n->addr, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		n->addr_len = 16;
	}
}

/* A new connection n (not listed yet): makes room for it. The scan is O(connections), at most
 * CONN_LIMIT per accept: cheaper than the accept itself, and no index to keep right. */
static void conn_make_room(struct http_server *s, const struct conn *n)
{
	struct conn *oldest_same = NULL;
	unsigned same = 0;

	if (n->addr_len) {
		for (struct conn *m = s->head; m; m = m->next)
			if (m->addr_len == n->addr_len && memcmp(m->addr, n->addr, n->addr_len) == 0) {
				if (!oldest_same)
					oldest_same = m;
				same++;
			}
	}
	if (same >= CONN_PER_IP)
		conn_evict(s, oldest_same);
	else if (s->nconn > CONN_EVICT_AT && s->head)
		conn_evict(s, s->head);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *s = cls;
	struct conn *n = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED && s->web->tls.cert && s->web->client_auth != TLS_CLIENT_NONE) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);

		if (ci && ci->tls_session) {
			tls_session_client_auth(ci->tls_session, s->web->client_auth);
		} else {
			ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
			if (ci && ci->connect_fd != MHD_INVALID_SOCKET)
				shutdown(ci->connect_fd, SHUT_RDWR);
		}
	}
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		n = calloc(1, sizeof(*n));
		if (!n)
			return; /* not listed: never evicted, and its close is not counted */
		n->c = c;
		conn_set_address(c, n);
		*socket_context = n;
		s->nconn++;
		conn_make_room(s, n);
		conn_append(s, n);
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && n) {
		conn_unlink(s, n);
		s->nconn--;
		free(n);
		*socket_context = NULL;
	}
}

/* The end of a request: a response sent in full is counted here (a scrape, then, in the next
 * scrape's figures, as promhttp counts its own). A response cut short by the client is not.
 * libmicrohttpd's own error answers end with MHD_REQUEST_TERMINATED_WITH_ERROR and are counted
 * by on_mhd_log instead. */
static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;

	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);

		if (ci)
			count(s, ci->http_status);
	}
	if (*req_cls != &s->pass && *req_cls != &s->fail)
		free(*req_cls); /* a struct pending, or NULL */
	*req_cls = NULL;
	conn_touch(s, c);
}

/* ---- basic auth -------------------------------------------------------------------------------- */

static enum MHD_Result unauthorized(struct http_server *s, struct MHD_Connection *c)
{
	/* one answer for a missing, malformed or wrong Authorization, and an unknown user */
	return reply_text(s, c, 401, "Unauthorized.\n");
}

/* The verifier's callback, on its thread: the connection is suspended until this resumes it. */
static void auth_done(void *userdata, int ok)
{
	struct pending *p = userdata;

	atomic_store(&p->ok, ok);
	MHD_resume_connection(p->c); /* the last touch: p may be freed from here on */
}

/* Whether a request for route r (NULL: no such path, which is answered 404 only to those with
 * credentials) must bring them. */
static bool needs_auth(const struct http_server *s, const struct route *r)
{
	if (!s->auth)
		return false;
	return !(s->health_open && r && (r->flags & ROUTE_HEALTH));
}

/* First call of a request that needs credentials: 1 when they verify at once (cached); 0 when
 * the next call is to answer 401 (*req_cls is s->fail) or the connection was suspended for the
 * verifier; <0 on failure. */
static int authorize(struct http_server *s, struct MHD_Connection *c, void **req_cls,
		     enum MHD_Result *ret)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	struct pending *p;
	char *creds = NULL;
	size_t len, colon;
	int r;

	if (!h || auth_decode_basic(h, &creds, &len, &colon) < 0) {
		/* answered on the next call, like a wrong password: the same 401, keep-alive too */
		*req_cls = &s->fail;
		return 0;
	}
	if (auth_check_cached(s->auth, creds, colon, creds + colon + 1, len - colon - 1)) {
		auth_free_credentials(creds, len);
		return 1;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		auth_free_credentials(creds, len);
		return -ENOMEM;
	}
	*p = (struct pending){ .s = s, .c = c, .ok = -1 };
	*req_cls = p;
	/* suspended, it is out of the eviction list: its slowness is ours, not the client's */
	{
		struct conn *n = conn_of(c);
		if (n && n->listed) {
			conn_unlink(s, n);
			n->suspended = true;
		}
	}
	/* suspend first: resuming a connection that is not suspended is undefined, and the
	 * verifier may answer before submit() returns */
	MHD_suspend_connection(c);
	r = auth_verifier_submit(s->verifier, creds, colon, creds + colon + 1, len - colon - 1, auth_done, p);
	auth_free_credentials(creds, len);
	if (r < 0) {
		/* answered (429 or 503) from the handler's next call, which resuming brings */
		atomic_store(&p->ok, r == -EAGAIN ? -EAGAIN : -EIO);
		MHD_resume_connection(c);
	}
	*ret = MHD_YES;
	return 0;
}

/* Whether the request carries a body: a Transfer-Encoding (libmicrohttpd takes only chunked,
 * but any says a body follows) or a Content-Length other than 0 (libmicrohttpd has checked that
 * it is digits, and answered 400 or 413 itself if not). */
static bool has_body(struct MHD_Connection *c)
{
	const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
		return true;
	if (!len)
		return false;
	while (*len == '0')
		len++;
	return *len != '\0';
}

/* The first call of a request, once its headers are in: checks credentials, and sets *req_cls
 * to s->pass, s->fail or a struct pending. true: answer it now (it has a body; see on_request);
 * false: return *ret (wait for the next call, or the verifier's answer). */
static bool first_call(struct http_server *s, struct MHD_Connection *c, const char *url, void **req_cls,
		       enum MHD_Result *ret)
{
	int r;

	*ret = MHD_YES;
	conn_touch(s, c);
	if (!needs_auth(s, route_find(url))) {
		*req_cls = &s->pass;
	} else {
		r = authorize(s, c, req_cls, ret);
		if (r < 0) {
			*ret = MHD_NO;
			return false;
		}
		if (r > 0)
			*req_cls = &s->pass;
		else if (*req_cls != &s->fail)
			return false; /* suspended until the verifier answers */
	}
	return has_body(c);
}

/* A call after the verifier's answer resumed the connection. true: answer it now. */
static bool resumed_call(struct http_server *s, struct MHD_Connection *c, struct pending *p)
{
	/* back in the list, as active as can be */
	struct conn *n = conn_of(c);

	if (n && n->suspended) {
		n->suspended = false;
		conn_append(s, n);
	}
	/* resumed, libmicrohttpd repeats the first call */
	if (!p->resumed) {
		p->resumed = true;
		return has_body(c);
	}
	return true;
}

/* The answer, credentials known (p->ok): refusals first, then the route's handler. */
static enum MHD_Result answer(struct http_server *s, struct MHD_Connection *c, const char *url,
			      const char *method, const struct pending *p)
{
	const struct route *r;

	switch (atomic_load(&p->ok)) {
	case 1:
		break;
	case -EAGAIN:
		return reply_text(s, c, 429, "Too many authentication attempts at once; retry later.\n");
	case -EIO:
		return reply_text(s, c, 503, "Cannot check credentials now.\n");
	default:
		return unauthorized(s, c);
	}
	r = route_find(url);
	if (!r)
		return reply_text(s, c, 404, "Not found. Metrics are at /metrics.\n");
	if (!route_allows(r, method))
		return method_not_allowed(s, c, r);
	/* RFC 9110, 9.3.1: a body in a GET has no meaning, and a server may refuse it; served, it
	 * would leave the rest of the connection to be guessed (request smuggling) */
	if (has_body(c))
		return reply_text(s, c, 400, "A GET or HEAD request takes no body.\n");
	return r->serve(s, c, r);
}

/* A request is answered on the call after its first, once libmicrohttpd has all of it: a
 * response queued on the first call costs the connection its keep-alive. Not so a request with
 * a body: no endpoint takes one, so it is answered on the first call, before the body is read
 * (libmicrohttpd then reads no more of the connection and closes it once the answer is out).
 * Answered later, the body would have to be read in full first, and a response queued while it
 * arrives is refused: the client got an empty reply. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct http_server *s = cls;
	struct pending *p = *req_cls;
	enum MHD_Result ret = MHD_YES;

	(void)version;
	(void)upload_data;
	if (!p) {
		if (!first_call(s, c, url, req_cls, &ret))
			return ret;
		p = *req_cls;
	} else if (p != &s->pass && p != &s->fail) {
		if (!resumed_call(s, c, p))
			return MHD_YES;
	}
	/* The final call (no upload data), or the first call of a request with a body */
	*upload_data_size = 0;
	return answer(s, c, url, method, p);
}

/* libmicrohttpd decodes %HH in the path in place, and hands it over as a C string: "%00"
 * would cut it there, so "/metrics%00.css" was served as /metrics. A cache in front that keys
 * on the whole path could then keep the exposition under a name of the client's choosing (web
 * cache deception). A path with "%00" is left as it came: it matches no endpoint. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	if (strstr(s, "%00"))
		return strlen(s);
	return MHD_http_unescape(s);
}

/* libmicrohttpd answers some requests itself before a handler sees them: 400 (malformed),
 * 413 (a Content-Length or chunk size too large), 414 (a request line over the connection's
 * memory), 431 (headers over it), 505 (an HTTP version it does not speak) and 500. It has no
 * callback for that, but it logs each with the format below, the status its first argument;
 * the text is the same from 0.9.75 to 1.0 (test_http_bodies counts these answers, so a library
 * that changes it fails there). They are counted when it decides to send them: it then writes
 * them at once and closes, and whether they reached the client cannot be told. The rest of what
 * it logs is dropped, as before this logger (library code does not log; a client that went
 * away is no news to the operator). */
static const char mhd_error_format[] =
	"Error processing request (HTTP response code is %u ('%s')). Closing connection.\n";

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct http_server *s = cls;

	if (strcmp(fmt, mhd_error_format) == 0) {
		va_list aq;

		va_copy(aq, ap);
		count(s, va_arg(aq, unsigned));
		va_end(aq);
	}
}

/* ---- the listening socket ----------------------------------------------------------------- */

static int try_bind(int family, const struct sockaddr *sa, socklen_t len)
{
	int fd, one = 1, zero = 0;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr))
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)); /* "::" serves IPv4 too */
	if (bind(fd, sa, len) < 0 || listen(fd, 128) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* A port number, 0 to 65535, in decimal digits only. */
static int parse_port(const char *str, uint16_t *ret)
{
	unsigned long v;
	char *end;

	if (*str < '0' || *str > '9')
		return -EINVAL; /* strtoul() would take a sign or leading spaces */
	errno = 0;
	v = strtoul(str, &end, 10);
	if (errno)
		return -errno;
	if (*end || v > 65535)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

/* Every address: IPv6 and IPv4 where the host has IPv6, else IPv4. */
static int bind_any(const char *port)
{
	struct sockaddr_in6 any6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in any4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	uint16_t n;
	int fd, r;

	r = parse_port(port, &n);
	if (r < 0)
		return r;
	any6.sin6_port = any4.sin_port = htons(n);
	fd = try_bind(AF_INET6, (struct sockaddr *)&any6, sizeof(any6));
	if (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL)
		fd = try_bind(AF_INET, (struct sockaddr *)&any4, sizeof(any4));
	return fd;
}

/* The first of host's addresses that binds; err says why none did. */
static int bind_host(const char *host, const char *port, const char *address, struct buf *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	int r, fd = -EADDRNOTAVAIL;

	r = getaddrinfo(host, port, &hints, &res);
	if (r != 0) {
		buf_addf(err, "cannot resolve \"%s\": %s", host, gai_strerror(r));
		return -EADDRNOTAVAIL;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = try_bind(ai->ai_family, ai->ai_addr, ai->ai_addrlen);
		if (fd >= 0)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0)
		buf_addf(err, "cannot listen on %s: %s", address, strerror(-fd));
	return fd;
}

/* Binds HOST:PORT; an empty HOST is every address. */
static int bind_address(const char *address, struct buf *err)
{
	char *host = NULL, *port = NULL;
	int r, fd;

	r = config_split_listen_address(address, &host, &port);
	if (r < 0) {
		buf_addf(err, "bad listen address \"%s\"", address);
		return r;
	}
	if (*host) {
		fd = bind_host(host, port, address, err);
	} else {
		fd = bind_any(port);
		if (fd < 0)
			buf_addf(err, "cannot listen on %s: %s", address, strerror(-fd));
	}
	free(host);
	free(port);
	return fd;
}

static void describe_socket(int fd, char *out, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
			port = ntohs(a->sin_port);
			snprintf(out, size, "%s:%u", ip, port);
			return;
		}
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
			port = ntohs(a->sin6_port);
			snprintf(out, size, "[%s]:%u", ip, port);
			return;
		}
	}
	snprintf(out, size, "fd %d", fd);
}

/* Frees what server_new() made. Accepts NULL. */
static void server_free(struct http_server *s)
{
	if (!s)
		return;
	auth_verifier_free(s->verifier);
	buf_done(&s->csp);
	free(s);
}

/* The server's state, the page's CSP and (with basic auth) the verifier's thread: all but the
 * socket and libmicrohttpd. */
static int server_new(const struct http_opts *o, struct publisher *pub, struct http_server **ret,
		      struct buf *err)
{
	struct http_server *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->pub = pub;
	s->stale_ns = o->stale_ns;
	s->started_ns = clock_monotonic_ns();
	s->web = o->web;
	s->auth = o->web->auth;
	s->health_open = o->health_open;
	s->pass.ok = 1;
	s->fail.ok = 0;
	buf_init(&s->csp);
	if (page_csp(&s->csp) < 0 || buf_failed(&s->csp)) {
		buf_addstr(err, "cannot compute the landing page's Content-Security-Policy");
		server_free(s);
		return -EIO;
	}
	if (s->auth) {
		r = auth_verifier_new(s->auth, AUTH_QUEUE, &s->verifier);
		if (r < 0) {
			buf_addstr(err, "cannot start the thread that checks passwords");
			server_free(s);
			return r;
		}
	}
	*ret = s;
	return 0;
}

/* libmicrohttpd on the listening socket fd; -EIO if it does not start. */
static int start_daemon(struct http_server *s, int fd)
{
	/* MHD_USE_ITC: MHD_quiesce_daemon() needs it (see http_stop); suspend and resume: the
	 * bcrypt checks (see authorize) */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	const struct tls_pem *pem = &s->web->tls;
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, pem->key },
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, pem->cert },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0,
		  (void *)(uintptr_t)tls_priorities(s->web->min_version, s->web->max_version) },
		/* the client CAs; libmicrohttpd also asks every client for a certificate then, which
		 * tls_session_client_auth() sets right per connection */
		{ pem->ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, pem->ca },
		{ MHD_OPTION_END, 0, NULL },
	};

	if (pem->cert)
		flags |= MHD_USE_TLS;
	else
		tls[0].option = MHD_OPTION_END;
	s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
				  /* first, so that nothing is logged to stderr before it */
				  MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
				  MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				  MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT,
				  MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY,
				  MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				  MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
				  MHD_OPTION_ARRAY, tls,
				  MHD_OPTION_END);
	return s->mhd ? 0 : -EIO;
}

int http_start(const struct http_opts *o, struct publisher *pub, struct http_server **ret,
	       struct buf *err)
{
	struct http_server *s;
	int fd = o->listen_fd, r;

	assert(o && o->web && pub && ret && err);
	assert(!o->web->tls.cert == !o->web->tls.key);
	if (o->web->tls.cert && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		buf_addstr(err, "this libmicrohttpd was built without TLS");
		return -EOPNOTSUPP;
	}
	r = server_new(o, pub, &s, err);
	if (r < 0)
		return r;
	if (fd < 0) {
		fd = bind_address(o->listen_address, err);
		if (fd < 0) {
			server_free(s);
			return fd;
		}
	}
	describe_socket(fd, s->address, sizeof(s->address));
	r = start_daemon(s, fd);
	if (r < 0) {
		buf_addf(err, "cannot start the HTTP%s server on %s", o->web->tls.cert ? "S" : "", s->address);
		if (o->listen_fd < 0)
			close(fd);
		server_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void http_stop(struct http_server *s)
{
	MHD_socket fd;

	if (!s)
		return;
	/* first the verifier: it answers what still waits for it (as failed) and resumes those
	 * connections, so none is suspended when the daemon stops */
	auth_verifier_free(s->verifier);
	s->verifier = NULL;
	/* MHD_stop_daemon() alone would shutdown(2) the listening socket to wake its thread. A
	 * socket from systemd is shared with systemd, which keeps listening on it to start us
	 * again: shut down, it reports POLLHUP and the .socket unit fails. So take the socket
	 * back from MHD first and only close our descriptor of it. */
	fd = MHD_quiesce_daemon(s->mhd);
	MHD_stop_daemon(s->mhd);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	server_free(s);
}

const char *http_address(const struct http_server *s)
{
	return s->address;
}
