/* tls.c — reading and checking the server's PEM certificate and key; see tls.h.
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

const char tls_priorities[] =
	"SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"
	"+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE";

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

static int check_cert(const char *path, const char *pem, struct buf *err)
{
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)pem, (unsigned)strlen(pem) };
	gnutls_x509_crt_t *certs = NULL;
	unsigned n = 0;
	int r;

	r = gnutls_x509_crt_list_import2(&certs, &n, &d, GNUTLS_X509_FMT_PEM,
					 GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
	if (r < 0) {
		buf_addf(err, "%s: not a PEM certificate: %s", path, gnutls_strerror(r));
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

int tls_pem_load(const char *cert_path, const char *key_path, struct tls_pem *ret, struct buf *err)
{
	struct tls_pem p = { 0 };
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t c, k;
	int r;

	assert(cert_path && key_path && ret && err);
	r = read_pem(cert_path, &p.cert, err);
	if (r < 0)
		goto fail;
	r = read_pem(key_path, &p.key, err);
	if (r < 0)
		goto fail;
	r = check_cert(cert_path, p.cert, err);
	if (r < 0)
		goto fail;
	r = check_key(key_path, p.key, err);
	if (r < 0)
		goto fail;
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
	tls_pem_done(&p);
	return r;
}

void tls_pem_done(struct tls_pem *p)
{
	if (!p)
		return;
	free(p->cert);
	if (p->key) {
		explicit_bzero(p->key, strlen(p->key));
		free(p->key);
	}
	p->cert = p->key = NULL;
}

bool tls_pem_same(const struct tls_pem *a, const struct tls_pem *b)
{
	if (!a->cert || !b->cert)
		return !a->cert && !b->cert;
	return strcmp(a->cert, b->cert) == 0 && strcmp(a->key, b->key) == 0;
}
