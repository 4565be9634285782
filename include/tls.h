/* tls.h — the server's certificate, key and client CAs, read and checked before the server
 * starts; the GnuTLS settings the server applies (versions, client certificates).
 *
 * The HTTP server gets the PEM text in memory (libmicrohttpd hands it to GnuTLS); reading and
 * checking it here first lets a bad file stop the daemon at start-up, and --check-config, with
 * the file's name and GnuTLS's reason, rather than as a bare "cannot start the HTTP server".
 *
 * Client certificates: libmicrohttpd only knows "request a certificate when a trust list is
 * given", and never verifies it. tls_session_client_auth() is applied to each connection's
 * GnuTLS session before its handshake (libmicrohttpd creates the session, then announces the
 * connection): it sets whether a certificate is asked for or required, and for the verifying
 * modes a verify function that fails the handshake itself when the certificate does not chain
 * to the client CAs, is outside its validity or is not for TLS clients, the way Go's crypto/tls
 * (and so every exporter-toolkit exporter) does. Nothing is left to the HTTP handler.
 */
#ifndef PROCMEM_TLS_H
#define PROCMEM_TLS_H

#include <stdbool.h>

#include "buf.h"

struct tls_pem {
	char *cert; /* NUL-terminated PEM text: the certificate (chain) */
	char *key;  /* the unencrypted private key; zeroed when freed */
	char *ca;   /* the CAs client certificates are checked against, or NULL */
};

/* Reads the files and checks that the certificate parses, the key parses and the key is the
 * certificate's, and (ca_path not NULL) that the CA file holds at least one certificate, all of
 * which parse. On error, err names the file and says why, and *ret_bad (when not NULL) is the
 * path argument of the file at fault (key_path when the key is not the certificate's). */
int tls_pem_load(const char *cert_path, const char *key_path, const char *ca_path, struct tls_pem *ret,
		 const char **ret_bad, struct buf *err);
/* Frees the contents (zeroing the key); *p is empty afterwards. Accepts NULL. */
void tls_pem_done(struct tls_pem *p);
/* Whether two loads hold the same bytes. */
bool tls_pem_same(const struct tls_pem *a, const struct tls_pem *b);

/* The protocol versions served: TLS 1.2 and 1.3. Older ones are not offered at all (RFC 8996
 * deprecates them), so a configuration that asks for them is refused. */
enum tls_version {
	TLS_VERSION_1_2 = 12,
	TLS_VERSION_1_3 = 13,
};

/* The GnuTLS priority string for versions min..max (min <= max): AEAD ciphers, forward
 * secrecy, the server's preference. A static string. */
const char *tls_priorities(enum tls_version min, enum tls_version max);

/* What is asked of clients, named as exporter-toolkit's client_auth_type values (Go's
 * tls.ClientAuthType) are. */
enum tls_client_auth {
	TLS_CLIENT_NONE,	       /* NoClientCert */
	TLS_CLIENT_REQUEST,	       /* RequestClientCert: asked for, not required, not verified */
	TLS_CLIENT_REQUIRE_ANY,	       /* RequireAnyClientCert: required, not verified */
	TLS_CLIENT_VERIFY_IF_GIVEN,    /* VerifyClientCertIfGiven: asked for, verified if sent */
	TLS_CLIENT_REQUIRE_AND_VERIFY, /* RequireAndVerifyClientCert: required and verified */
};

/* Whether the mode verifies certificates against client CAs (and so needs them). */
bool tls_client_auth_verifies(enum tls_client_auth mode);
/* Applies the mode to a server session (a gnutls_session_t) before its handshake. The verifying
 * modes check against the trust list of the session's credentials: the server must have been
 * given the CAs (libmicrohttpd's MHD_OPTION_HTTPS_MEM_TRUST). */
void tls_session_client_auth(void *gnutls_session, enum tls_client_auth mode);

#endif
