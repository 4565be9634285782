/* tls.h — the server's certificate and key, read and checked before the server starts.
 *
 * The HTTP server gets the PEM text in memory (libmicrohttpd hands it to GnuTLS); reading and
 * checking it here first lets a bad file stop the daemon at start-up, and --check-config, with
 * the file's name and GnuTLS's reason, rather than as a bare "cannot start the HTTP server".
 */
#ifndef PROCMEM_TLS_H
#define PROCMEM_TLS_H

#include <stdbool.h>

#include "buf.h"

struct tls_pem {
	char *cert; /* NUL-terminated PEM text: the certificate (chain) */
	char *key;  /* the unencrypted private key; zeroed when freed */
};

/* Reads both files and checks that the certificate parses, the key parses and the key is the
 * certificate's. On error, err names the file and says why. */
int tls_pem_load(const char *cert_path, const char *key_path, struct tls_pem *ret, struct buf *err);
/* Frees the contents (zeroing the key); *p is empty afterwards. Accepts NULL. */
void tls_pem_done(struct tls_pem *p);
/* Whether two loads hold the same bytes. */
bool tls_pem_same(const struct tls_pem *a, const struct tls_pem *b);
/* The GnuTLS priority string the server uses: TLS 1.2 and 1.3 only, AEAD ciphers, forward
 * secrecy. */
extern const char tls_priorities[];

#endif
