/* webconfig.h — how the HTTP server is secured: TLS, client certificates, basic auth and extra
 * response headers, from the web configuration file every Prometheus exporter built on
 * exporter-toolkit reads (--web.config.file), or from the shorthand flags --tls-cert, --tls-key
 * and --basic-auth-file. Both fill the same struct web_config, which is all the server sees.
 *
 * The file is YAML (parsed by libyaml), a mapping of:
 *
 *   tls_server_config:
 *     cert_file, key_file      PEM certificate (chain) and unencrypted key
 *     client_auth_type         NoClientCert (default), RequestClientCert, RequireAnyClientCert
 *                              (or its old name RequireClientCert), VerifyClientCertIfGiven,
 *                              RequireAndVerifyClientCert
 *     client_ca_file           the CAs client certificates must chain to
 *     min_version, max_version TLS12 or TLS13 (default TLS12 and TLS13)
 *     prefer_server_cipher_suites   accepted, no effect (Go ignores it too since 1.17)
 *   http_server_config:
 *     headers                  Content-Security-Policy, Strict-Transport-Security,
 *                              X-Content-Type-Options (nosniff), X-Frame-Options (deny or
 *                              sameorigin), X-XSS-Protection; blank: not sent
 *     http2                    accepted, no effect: HTTP/2 is never negotiated
 *   basic_auth_users:          user: bcrypt-hash
 *
 * As in exporter-toolkit: cert_file, key_file, client_auth_type or client_ca_file turns TLS on,
 * which then needs cert_file and key_file; relative paths are relative to the file's directory;
 * client_ca_file wants a client_auth_type that asks for certificates; an empty file is plain
 * HTTP without auth. Stricter than exporter-toolkit, and refused: TLS10 and TLS11 (never
 * offered), min_version above max_version (Go starts, then fails every handshake), a verifying
 * client_auth_type without client_ca_file (Go would accept any certificate from the system's
 * public CAs), a CA file with no certificate (Go skips what does not parse), header values with
 * control characters, YAML aliases and tags, more than one document. Keys exporter-toolkit has
 * that this server does not implement (cipher_suites, curve_preferences, client_allowed_sans,
 * the inline cert, key and client_ca, rate_limit) are refused by name, not ignored: a file that
 * asks for something must not be served without it.
 *
 * Every error is "FILE:LINE: reason"; nothing here logs. The parser is pure (a buffer in, a
 * struct out); web_config_load() reads the file and the PEM files it names.
 */
#ifndef PROCMEM_WEBCONFIG_H
#define PROCMEM_WEBCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "auth.h"
#include "buf.h"
#include "tls.h"

#define WEB_HEADERS_MAX 5 /* as many as exporter-toolkit allows */

struct web_header {
	const char *name; /* static */
	char *value;
};

struct web_config {
	/* TLS: the files as resolved (NULL: not given) and their contents once loaded; tls.cert
	 * NULL means plain HTTP */
	char *cert_file, *key_file, *client_ca_file;
	struct tls_pem tls;
	enum tls_version min_version, max_version;
	enum tls_client_auth client_auth;
	struct auth *auth; /* NULL: no basic auth; owned */
	struct web_header headers[WEB_HEADERS_MAX];
	size_t nheaders;
	/* where each file is named in the configuration file, for messages (0: not from a file) */
	unsigned cert_line, key_line, ca_line;
};

/* Parses the text of a web configuration file (len bytes, not NUL-terminated) that lives at
 * `path` (which names it in messages and anchors relative paths); reads nothing: the PEM files
 * are named, not loaded. On error, -EINVAL (or -ENOMEM) and "PATH:LINE: reason" in err. */
int web_config_parse(const char *text, size_t len, const char *path, struct web_config *ret, struct buf *err);
/* Reads and parses the file at path, then reads and checks the PEM files it names. */
int web_config_load(const char *path, struct web_config *ret, struct buf *err);
/* The shorthands: cert and key (both or neither) and a users file of user:bcrypt-hash lines
 * (auth.h), each may be NULL. TLS 1.2 and 1.3, no client certificates, no extra headers. */
int web_config_from_flags(const char *cert, const char *key, const char *users_file, struct web_config *ret,
			  struct buf *err);
void web_config_done(struct web_config *c); /* accepts NULL */
/* Whether two configurations serve alike (same certificates, keys, CAs, versions, client auth,
 * users and headers). */
bool web_config_same(const struct web_config *a, const struct web_config *b);

#endif
