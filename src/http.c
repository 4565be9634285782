/* http.c — the libmicrohttpd server; see http.h.
 *
 * A /metrics response is assembled from pieces without copying the body: an iovec of the
 * publication's cached rendering and a small per-request buffer holding the tail (and, for
 * gzip, the stored-block framing and trailer; see gz.h). The response's free callback releases
 * the publication, so a cycle can publish a new one while an old one is still being sent.
 */
#include "http.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "accept.h"
#include "config.h"
#include "gz.h"

#ifndef PROCMEM_VERSION
#define PROCMEM_VERSION "unknown"
#endif

/* The status codes this server answers with, ascending: each has a request counter. */
static const unsigned codes[] = { 200, 401, 404, 405, 500, 503 };
#define NCODES (sizeof(codes) / sizeof(codes[0]))

struct http_server {
	struct MHD_Daemon *mhd;
	struct publisher *pub;
	uint64_t stale_ns;
	uint64_t started_ns;
	atomic_uint_fast64_t requests[NCODES];
	char address[INET6_ADDRSTRLEN + 16];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void count(struct http_server *s, unsigned code)
{
	size_t i;

	for (i = 0; i < NCODES; i++)
		if (codes[i] == code)
			atomic_fetch_add(&s->requests[i], 1);
}

static enum MHD_Result queue(struct http_server *s, struct MHD_Connection *c, unsigned code,
			     struct MHD_Response *resp)
{
	enum MHD_Result r;

	if (!resp)
		return MHD_NO; /* out of memory: MHD closes the connection */
	count(s, code);
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
		if (code == 405)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	}
	return queue(s, c, code, resp);
}

static enum MHD_Result reply_text(struct http_server *s, struct MHD_Connection *c, unsigned code,
				  const char *body)
{
	return reply(s, c, code, "text/plain; charset=utf-8", body);
}

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

static uint64_t cpu_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
	       (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
}

static void render_tail(struct http_server *s, enum expo_format f, struct buf *out)
{
	uint64_t counts[NCODES];
	struct expo_tail t = { codes, counts, NCODES, cpu_us() };
	size_t i;

	for (i = 0; i < NCODES; i++)
		counts[i] = atomic_load(&s->requests[i]);
	expo_render_tail(&t, f, out);
}

static enum MHD_Result serve_metrics(struct http_server *s, struct MHD_Connection *c)
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

	m = calloc(1, sizeof(*m));
	if (!m)
		return MHD_NO;
	buf_init(&m->extra);
	m->pub = publisher_acquire(s->pub);
	if (!m->pub) {
		metrics_resp_free(m);
		return reply_text(s, c, 503, "No collection cycle has completed yet.\n");
	}
	if (publication_body(m->pub, f, gzip, &body) < 0) {
		metrics_resp_free(m);
		return reply_text(s, c, 500, "Rendering the exposition failed (out of memory).\n");
	}
	/* count this request before the tail, so the tail includes it */
	count(s, 200);
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
	{
		enum MHD_Result r = MHD_queue_response(c, 200, resp);
		MHD_destroy_response(resp);
		return r;
	}
}

/* ---- the other endpoints --------------------------------------------------------------------- */

static const char landing_page[] =
	"<!DOCTYPE html>\n"
	"<html lang=\"en\">\n"
	"<head><meta charset=\"utf-8\"><title>procmem_exporter</title></head>\n"
	"<body>\n"
	"<h1>procmem_exporter " PROCMEM_VERSION "</h1>\n"
	"<p>Process memory as the kernel counts it: RSS, PSS, USS, shared, data, swap and the four\n"
	"quadrants (private/shared &times; anonymous/file-backed), per process and for the machine.</p>\n"
	"<ul>\n"
	"<li><a href=\"/metrics\">/metrics</a> &mdash; the exposition</li>\n"
	"<li><a href=\"/-/healthy\">/-/healthy</a> &mdash; 200 while collection cycles keep completing</li>\n"
	"<li><a href=\"/-/ready\">/-/ready</a> &mdash; 200 once the first cycle has completed</li>\n"
	"</ul>\n"
	"</body>\n"
	"</html>\n";

static enum MHD_Result serve_healthy(struct http_server *s, struct MHD_Connection *c)
{
	uint64_t last = publisher_last_ns(s->pub), now = mono_ns();

	if (now - (last ? last : s->started_ns) <= s->stale_ns)
		return reply_text(s, c, 200, "OK\n");
	return reply_text(s, c, 503, "Collection has stalled: no cycle completed recently.\n");
}

static enum MHD_Result serve_ready(struct http_server *s, struct MHD_Connection *c)
{
	if (publisher_last_ns(s->pub))
		return reply_text(s, c, 200, "Ready\n");
	return reply_text(s, c, 503, "Not ready: the first collection cycle has not completed.\n");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct http_server *s = cls;
	enum { R_METRICS, R_ROOT, R_HEALTHY, R_READY, R_NONE } route;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;
	if (strcmp(url, "/metrics") == 0)
		route = R_METRICS;
	else if (strcmp(url, "/") == 0)
		route = R_ROOT;
	else if (strcmp(url, "/-/healthy") == 0)
		route = R_HEALTHY;
	else if (strcmp(url, "/-/ready") == 0)
		route = R_READY;
	else
		return reply_text(s, c, 404, "Not found. Metrics are at /metrics.\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(s, c, 405, "Method not allowed: use GET or HEAD.\n");
	switch (route) {
	case R_METRICS:
		return serve_metrics(s, c);
	case R_ROOT:
		return reply(s, c, 200, "text/html; charset=utf-8", landing_page);
	case R_HEALTHY:
		return serve_healthy(s, c);
	case R_READY:
		return serve_ready(s, c);
	default:
		return MHD_NO;
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

/* Binds HOST:PORT; an empty HOST is every address, IPv6 and IPv4 where the host has IPv6. */
static int bind_address(const char *address, struct buf *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	char *host = NULL, *port = NULL;
	int r, fd = -EADDRNOTAVAIL;

	r = config_split_listen_address(address, &host, &port);
	if (r < 0) {
		buf_addf(err, "bad listen address \"%s\"", address);
		return r;
	}
	if (!*host) {
		struct sockaddr_in6 any6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT,
					     .sin6_port = htons((uint16_t)atoi(port)) };
		struct sockaddr_in any4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY),
					    .sin_port = htons((uint16_t)atoi(port)) };

		fd = try_bind(AF_INET6, (struct sockaddr *)&any6, sizeof(any6));
		if (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL)
			fd = try_bind(AF_INET, (struct sockaddr *)&any4, sizeof(any4));
	} else {
		r = getaddrinfo(host, port, &hints, &res);
		if (r != 0) {
			buf_addf(err, "cannot resolve \"%s\": %s", host, gai_strerror(r));
			fd = -EADDRNOTAVAIL;
			goto out;
		}
		for (ai = res; ai; ai = ai->ai_next) {
			fd = try_bind(ai->ai_family, ai->ai_addr, ai->ai_addrlen);
			if (fd >= 0)
				break;
		}
	}
	if (fd < 0)
		buf_addf(err, "cannot listen on %s: %s", address, strerror(-fd));
out:
	if (res)
		freeaddrinfo(res);
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

int http_start(const struct http_opts *o, struct publisher *pub, struct http_server **ret,
	       struct buf *err)
{
	struct http_server *s;
	int fd = o->listen_fd;
	/* MHD_USE_ITC: MHD_quiesce_daemon() needs it (see http_stop) */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC;

	assert(o && pub && ret && err);
	if (o->tls_cert || o->tls_key || o->basic_auth_file) {
		buf_addstr(err, "TLS and basic auth are not available in this build yet");
		return -EOPNOTSUPP;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->pub = pub;
	s->stale_ns = o->stale_ns;
	s->started_ns = mono_ns();
	if (fd < 0) {
		fd = bind_address(o->listen_address, err);
		if (fd < 0) {
			free(s);
			return fd;
		}
	}
	describe_socket(fd, s->address, sizeof(s->address));
	s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
				  MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)512,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
				  MHD_OPTION_END);
	if (!s->mhd) {
		buf_addf(err, "cannot start the HTTP server on %s", s->address);
		if (o->listen_fd < 0)
			close(fd);
		free(s);
		return -EIO;
	}
	*ret = s;
	return 0;
}

void http_stop(struct http_server *s)
{
	if (!s)
		return;
	/* MHD_stop_daemon() alone would shutdown(2) the listening socket to wake its thread. A
	 * socket from systemd is shared with systemd, which keeps listening on it to start us
	 * again: shut down, it reports POLLHUP and the .socket unit fails. So take the socket
	 * back from MHD first and only close our descriptor of it. */
	MHD_socket fd = MHD_quiesce_daemon(s->mhd);

	MHD_stop_daemon(s->mhd);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	free(s);
}

const char *http_address(const struct http_server *s)
{
	return s->address;
}
