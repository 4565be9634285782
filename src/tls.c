/* tls.c — reading and checking the server's PEM certificate, key and client CAs; the GnuTLS
 * settings of the server's sessions; see tls.h.
 *
 * Each file is parsed on its own first, so that an error names the file at fault; then GnuTLS
 * loads the pair as the server will, which also checks that the key belongs to the certificate.
 */
#include "tls.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

/* the versions given, AEAD ciphers only, ECDHE key exchange, the server's preference */
#define PRIORITY(versions) "SECURE128:-VERS-ALL:" versions ":-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:" \
	"+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"

const char *tls_priorities(enum tls_version min, enum tls_version max)
{
	assert(min <= max);
	if (min == TLS_VERSION_1_3)
		return PRIORITY("+VERS-TLS1.3");
	if (max == TLS_VERSION_1_2)
		return PRIORITY("+VERS-TLS1.2");
	return PRIORITY("+VERS-TLS1.3:+VERS-TLS1.2");
}

/* Reads a PEM file (at most 1 MiB) into a NUL-terminated string. */
static int read_pem(const char *path, char **ret, struct buf *err)
{
	struct buf b = BUF_INIT;
	int r;

	r = buf_read_file(&b, path, 1024 * 1024);
	if (r == -EFBIG)
		buf_addf(err, "%s: larger than 1 MiB; not a PEM file", path);
	else if (r < 0)
		buf_addf(err, "%s: %s", path, strerror(-r));
	else if (b.len == 0 || memchr(b.buf, '\0', b.len)) {
		buf_addf(err, "%s: %s; expected PEM text", path, b.len ? "a NUL byte" : "empty");
		r = -EINVAL;
	}
	if (r < 0) {
		explicit_bzero(b.buf, b.len);
		buf_done(&b);
		return -EINVAL;
	}
	*ret = buf_detach(&b, NULL);
	return 0;
}

/* A chain (the server's: sorted, as GnuTLS will send it) or a bundle of CAs (any order). */
static int check_cert(const char *path, const char *pem, bool chain, struct buf *err)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)pem, (unsigned)strlen(pem) };
	gnutls_x509_crt_t *certs = NULL;
	unsigned n = 0;
	int r;

	r = gnutls_x509_crt_list_import2(&certs, &n, &d, GNUTLS_X509_FMT_PEM,
					 chain ? GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED : 0);
	if (r < 0 || n == 0) {
		buf_addf(err, "%s: not %s: %s", path, chain ? "a PEM certificate" : "PEM CA certificates",
			 r < 0 ? gnutls_strerror(r) : "no certificate in it");
		gnutls_free(certs);
		return -EINVAL;
	}
	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(certs[i]);
	gnutls_free(certs);
	return 0;
}

static int check_key(const char *path, const char *pem, struct buf *err)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)pem, (unsigned)strlen(pem) };
	gnutls_x509_privkey_t key;
	int r;

	if (gnutls_x509_privkey_init(&key) < 0)
		return -ENOMEM;
	/* no password: an encrypted key fails here, as it would in the server */
	r = gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_x509_privkey_deinit(key);
	if (r < 0) {
		buf_addf(err, "%s: not an unencrypted PEM private key: %s", path, gnutls_strerror(r));
		return -EINVAL;
	}
	return 0;
}

int tls_pem_load(const char *cert_path, const char *key_path, const char *ca_path, struct tls_pem *ret,
		 const char **ret_bad, struct buf *err)
{
	struct tls_pem p = { 0 };
	const char *bad = cert_path;
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t c, k;
	int r;

	assert(cert_path && key_path && ret && err);
	r = read_pem(cert_path, &p.cert, err);
	if (r < 0)
		goto fail;
	r = check_cert(cert_path, p.cert, true, err);
	if (r < 0)
		goto fail;
	bad = key_path;
	r = read_pem(key_path, &p.key, err);
	if (r < 0)
		goto fail;
	r = check_key(key_path, p.key, err);
	if (r < 0)
		goto fail;
	if (ca_path) {
		/* Go's exporters skip what is not a certificate and may end with no CA at all,
		 * which then refuses every client: say so at start instead */
		bad = ca_path;
		r = read_pem(ca_path, &p.ca, err);
		if (r < 0)
			goto fail;
		r = check_cert(ca_path, p.ca, false, err);
		if (r < 0)
			goto fail;
	}
	bad = key_path;
	if (gnutls_certificate_allocate_credentials(&cred) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	c = (gnutls_datum_t){ (unsigned char *)p.cert, (unsigned)strlen(p.cert) };
	k = (gnutls_datum_t){ (unsigned char *)p.key, (unsigned)strlen(p.key) };
	r = gnutls_certificate_set_x509_key_mem2(cred, &c, &k, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_certificate_free_credentials(cred);
	if (r < 0) {
		if (r == GNUTLS_E_CERTIFICATE_KEY_MISMATCH)
			buf_addf(err, "%s: not the private key of the certificate in %s", key_path, cert_path);
		else
			buf_addf(err, "%s and %s: %s", cert_path, key_path, gnutls_strerror(r));
		r = -EINVAL;
		goto fail;
	}
	*ret = p;
	return 0;
fail:
	if (r == -ENOMEM && err->len == 0)
		buf_addstr(err, "out of memory");
	if (ret_bad)
		*ret_bad = bad;
	tls_pem_done(&p);
	return r;
}

void tls_pem_done(struct tls_pem *p)
{
	if (!p)
		return;
	free(p->cert);
	free(p->ca);
	if (p->key) {
		explicit_bzero(p->key, strlen(p->key));
		free(p->key);
	}
	p->cert = p->key = p->ca = NULL;
}

bool tls_pem_same(const struct tls_pem *a, const struct tls_pem *b)
{
	if (!a->cert || !b->cert)
		return !a->cert && !b->cert;
	if (!a->ca != !b->ca)
		return false;
	return strcmp(a->cert, b->cert) == 0 && strcmp(a->key, b->key) == 0 &&
	       (!a->ca || strcmp(a->ca, b->ca) == 0);
}

/* ---- client certificates ------------------------------------------------------------------- */

bool tls_client_auth_verifies(enum tls_client_auth mode)
{
	return mode == TLS_CLIENT_VERIFY_IF_GIVEN || mode == TLS_CLIENT_REQUIRE_AND_VERIFY;
}

/* GnuTLS calls this in the handshake once the client's certificate (if any) arrived; nonzero
 * fails the handshake. Like Go's crypto/tls: the chain must end at one of the client CAs, be
 * within its dates, and be usable for TLS client authentication (an extended key usage that
 * allows it, or none at all). */
static int verify_client(gnutls_session_t session, bool required)
{
	gnutls_typed_vdata_st purpose = { GNUTLS_DT_KEY_PURPOSE_OID, (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0 };
	unsigned n = 0, status = 0;

	if (!gnutls_certificate_get_peers(session, &n) || n == 0)
		return required ? GNUTLS_E_NO_CERTIFICATE_FOUND : 0;
	if (gnutls_certificate_verify_peers(session, &purpose, 1, &status) < 0 || status != 0)
		return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
	return 0;
}

static int verify_if_given(gnutls_session_t session)
{
	return verify_client(session, false);
}

static int verify_required(gnutls_session_t session)
{
	return verify_client(session, true);
}

void tls_session_client_auth(void *gnutls_session, enum tls_client_auth mode)
{
	gnutls_session_t session = gnutls_session;

	assert(session);
	switch (mode) {
	case TLS_CLIENT_NONE:
		gnutls_certificate_server_set_request(session, GNUTLS_CERT_IGNORE);
		break;
	case TLS_CLIENT_REQUEST:
		gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUEST);
		break;
	case TLS_CLIENT_REQUIRE_ANY:
		gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE);
		break;
	case TLS_CLIENT_VERIFY_IF_GIVEN:
		gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUEST);
		gnutls_session_set_verify_function(session, verify_if_given);
		break;
	case TLS_CLIENT_REQUIRE_AND_VERIFY:
		gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE);
		gnutls_session_set_verify_function(session, verify_required);
		break;
	}
}
