/* fuzz_config — config_load on a fuzzed configuration file, or on a fuzzed command line, and
 * the value parsers it uses on the same bytes.
 *
 * First byte even: the rest is the configuration file, handed over as /proc/self/fd/N of a
 * memfd (no temporary file to clean up). First byte odd: the rest is the command line, its
 * arguments separated by NUL bytes; inputs that name --config (or a prefix of it that getopt
 * would accept) are left out, since they would make config_load read whatever file they name.
 *
 * Properties: config_load either succeeds with every value in its documented range, or fails
 * with -EINVAL or -ENOMEM and says why in err; config_done frees everything (LeakSanitizer).
 * config_parse_size/duration and config_split_listen_address are run on the bytes as a string.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

static void check_result(int r, struct config *c, struct buf *err)
{
	if (r < 0) {
		if ((r != -EINVAL && r != -ENOMEM) || err->len == 0)
			abort();
		return;
	}
	if (!c->listen_address || !c->procfs)
		abort();
	if (c->interval_ns < 100000000u || c->interval_ns > 86400000000000u)
		abort();
	if (c->smaps_budget_ns > 86400000000000u || c->gzip_level < 1 || c->gzip_level > 9)
		abort();
	if (c->top > 1000000 || c->mapping_top > 100000)
		abort();
	if (!c->tls_cert != !c->tls_key)
		abort();
	if (!c->include_pattern != !c->include || !c->exclude_pattern != !c->exclude)
		abort();
	config_done(c);
}

static void from_file(const uint8_t *data, size_t size)
{
	char path[64];
	char *argv[4];
	struct buf err = BUF_INIT;
	struct config c;
	int fd, r;

	fd = memfd_create("fuzz-config", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	argv[0] = (char *)"procmem_exporter";
	argv[1] = (char *)"--config";
	argv[2] = path;
	argv[3] = NULL;
	r = config_load(&c, 3, argv, &err);
	check_result(r, &c, &err);
	buf_done(&err);
	close(fd);
}

static void from_argv(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), **argv, *p;
	struct buf err = BUF_INIT;
	struct config c;
	int argc = 1, i, r;

	if (!copy)
		return;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (size_t k = 0; k < size; k++)
		argc += copy[k] == '\0';
	argc += 1;
	argv = calloc((size_t)argc + 1, sizeof(*argv));
	if (!argv) {
		free(copy);
		return;
	}
	argv[0] = (char *)"procmem_exporter";
	for (i = 1, p = copy; i < argc; i++, p += strlen(p) + 1) {
		/* --config and its abbreviations ("--con", "--config=...") */
		if (strncmp(p, "--c", 3) == 0 && strncmp(p, "--check-config", strcspn(p, "=")) != 0)
			goto out;
		argv[i] = p;
	}
	r = config_load(&c, argc, argv, &err);
	check_result(r, &c, &err);
out:
	buf_done(&err);
	free(argv);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	uint64_t v;

	if (size == 0)
		return 0;
	if (data[0] & 1)
		from_argv(data + 1, size - 1);
	else
		from_file(data + 1, size - 1);

	s = strndup((const char *)data + 1, size - 1);
	if (!s)
		return 0;
	if (config_parse_size(s, &v) == 0 && strchr(s, '.') == NULL && strspn(s, "0123456789") == strlen(s) &&
	    strtoull(s, NULL, 10) != v)
		abort(); /* a plain number is that many bytes */
	(void)config_parse_duration(s, &v);
	{
		char *host, *port;
		if (config_split_listen_address(s, &host, &port) == 0) {
			if (strtoul(port, NULL, 10) > 65535 || strlen(host) + strlen(port) + 1 > strlen(s))
				abort();
			free(host);
			free(port);
		}
	}
	free(s);
	return 0;
}
