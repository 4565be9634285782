/* fuzz_webconfig — web_config_parse on a fuzzed web configuration file (exporter-toolkit's
 * YAML), through libyaml.
 *
 * Properties: it either succeeds with a configuration the server can use (versions in order,
 * a certificate and key together, client CAs only with a mode that asks for certificates and
 * always with one that verifies, at most five headers, each allowed and free of control
 * characters), or fails with -EINVAL or -ENOMEM and a message that starts with the file's name;
 * web_config_done frees everything (LeakSanitizer). Nothing is read from disk: the parser only
 * names the files.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "webconfig.h"

#define PATH "/etc/procmem/web.yml"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = BUF_INIT;
	struct web_config c;
	int r = web_config_parse((const char *)data, size, PATH, &c, &err);

	if (r < 0) {
		if ((r != -EINVAL && r != -ENOMEM) || strncmp(err.buf, PATH ":", strlen(PATH ":")) != 0)
			abort();
		buf_done(&err);
		return 0;
	}
	if (c.min_version > c.max_version || !c.cert_file != !c.key_file || c.tls.cert || c.nheaders > WEB_HEADERS_MAX)
		abort();
	if (c.client_ca_file && (!c.cert_file || c.client_auth == TLS_CLIENT_NONE))
		abort();
	if (tls_client_auth_verifies(c.client_auth) && !c.client_ca_file)
		abort();
	if (c.auth && auth_user_count(c.auth) == 0)
		abort();
	for (size_t i = 0; i < c.nheaders; i++) {
		if (!c.headers[i].value[0])
			abort();
		for (const char *p = c.headers[i].value; *p; p++)
			if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
				abort();
	}
	web_config_done(&c);
	buf_done(&err);
	return 0;
}
