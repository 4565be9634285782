/* fuzz_cgroup — proc_cgroup_unit on any bytes.
 *
 * Properties: the unit points into the input (or is the empty string), lies within one line,
 * and when not empty is a valid unit name by systemd_unit_name_valid(), and by this file's
 * own independent check of the same rules (characters, a known type suffix, not a template).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *unit;
	size_t len;

	if (proc_cgroup_unit(buf, size, &unit, &len) < 0)
		abort(); /* it never fails: a file without a unit line gives "" */
	if (len == 0)
		return 0;
	if (unit < buf || unit + len > buf + size || memchr(unit, '\n', len))
		abort();
	if (!systemd_unit_name_valid(unit, len) || !plausible_unit(unit, len))
		abort();
	return 0;
}
