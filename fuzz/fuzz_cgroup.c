/* fuzz_cgroup — proc_cgroup_parse and cgroup_identify on any bytes.
 *
 * Properties:
 *  - a file is accepted (0) or refused (-EBADMSG), nothing else without a reference;
 *  - an accepted file matches itself as a reference (the same hierarchies, line for line);
 *  - its unit points into the input, lies within one line, and when not empty is a valid unit
 *    name by systemd_unit_name_valid() and by this file's own independent check of the same
 *    rules (characters, a known type suffix, not a template);
 *  - its cgroup path points into the input, within one line, and starts with '/';
 *  - what cgroup_identify finds, in that path and in the raw input: the container's and the
 *    pod's cgroups are prefixes of the path ending at a component's end, the pod's above the
 *    container's; IDs and UIDs fit their buffers and are NUL-terminated; a runtime is named
 *    exactly when there is a container.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t m = strlen(suffix);
	return n > m && memcmp(s + n - m, suffix, m) == 0;
}

static bool plausible_unit(const char *s, size_t n)
{
	static const char *const types[] = { ".service", ".scope", ".socket", ".mount", ".swap" };
	bool typed = false;

	if (n == 0 || n > 255 || s[0] == '@')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@", s[i]) ||
		    s[i] == '\0' || s[i] == '/')
			return false;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		typed = typed || ends_with(s, n, types[i]);
	if (!typed)
		return false;
	{
		const char *at = memchr(s, '@', n), *dot = s + n;
		while (dot > s && dot[-1] != '.')
			dot--;
		if (dot - 1 == s)
			return false; /* nothing before the type suffix */
		if (at && at + 1 >= dot - 1)
			return false; /* a template: "x@.service" */
	}
	return true;
}

static bool within(const char *p, size_t n, const char *buf, size_t size)
{
	return p >= buf && p + n <= buf + size && !memchr(p, '\n', n);
}

static bool at_component_end(const char *path, size_t len, size_t end)
{
	return end > 0 && end <= len && path[end - 1] != '/' && (end == len || path[end] == '/');
}

static void check_identity(const char *path, size_t len)
{
	struct cgroup_identity id;
	size_t i;

	cgroup_identify(path, len, &id);
	if (id.container_end) {
		if (!at_component_end(path, len, id.container_end) || id.runtime == CGROUP_RUNTIME_NONE ||
		    id.container_id_len == 0 || id.container_id_len > CGROUP_NAME_MAX ||
		    id.container_id[id.container_id_len] != '\0')
			abort();
	} else if (id.runtime != CGROUP_RUNTIME_NONE || id.container_id_len || id.container_id[0]) {
		abort();
	}
	if (id.pod_end) {
		if (!at_component_end(path, len, id.pod_end) ||
		    (id.pod_uid_len != 32 && id.pod_uid_len != 36) || id.pod_uid[id.pod_uid_len] != '\0' ||
		    (id.container_end && id.container_end <= id.pod_end))
			abort();
		for (i = 0; i < id.pod_uid_len; i++)
			if (!strchr("0123456789abcdef-", id.pod_uid[i]))
				abort();
	} else if (id.pod_uid_len || id.pod_uid[0]) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct cgroup_info info, again;
	int r;

	check_identity(buf, size);
	r = proc_cgroup_parse(buf, size, NULL, 0, &info);
	if (r == -EBADMSG)
		return 0;
	if (r != 0)
		abort();
	if (proc_cgroup_parse(buf, size, buf, size, &again) != 0 || again.path != info.path ||
	    again.unit != info.unit)
		abort(); /* a file is its own reference */
	if (info.unit_len &&
	    (!within(info.unit, info.unit_len, buf, size) ||
	     !systemd_unit_name_valid(info.unit, info.unit_len) || !plausible_unit(info.unit, info.unit_len)))
		abort();
	if (info.path) {
		if (info.path_len == 0 || !within(info.path, info.path_len, buf, size) || info.path[0] != '/')
			abort();
		check_identity(info.path, info.path_len);
	}
	return 0;
}
