/* fuzz_accept — the Accept and Accept-Encoding parsers on any header value.
 *
 * The input is split at its first NUL byte into an Accept value and an Accept-Encoding value
 * (libmicrohttpd hands headers over as C strings). Properties, from first principles:
 *  - a header that mentions neither openmetrics, application/ (case-insensitively) nor '*'
 *    never selects OpenMetrics (a full wildcard weighing more than text may: accept.h; found
 *    by this harness, whose first version forgot it); one that does not mention gzip nor '*'
 *    never selects gzip;
 *  - the answers do not depend on an element that is refused outright: appending ",x/y;q=0"
 *    or ",deflate;q=0" changes nothing;
 *  - prepending the exact, unweighted "application/openmetrics-text;version=1.0.0," to a
 *    header without q-values selects OpenMetrics (it weighs 1 and is named outright).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "accept.h"

static char *cat(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	char *s = malloc(na + nb + 1);

	if (!s)
		abort();
	memcpy(s, a, na);
	memcpy(s + na, b, nb + 1);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *accept = strndup((const char *)data, size), *enc, *s;
	size_t n = strlen(accept);
	enum expo_format f;
	bool gz;

	enc = strndup(n < size ? (const char *)data + n + 1 : "", n < size ? size - n - 1 : 0);
	if (!accept || !enc)
		abort();
	f = accept_format(accept);
	gz = accept_gzip(enc);
	if (f != EXPO_TEXT && f != EXPO_OPENMETRICS)
		abort();
	if (f == EXPO_OPENMETRICS && !strcasestr(accept, "openmetrics") && !strcasestr(accept, "application/") &&
	    !strchr(accept, '*'))
		abort();
	if (gz && !strcasestr(enc, "gzip") && !strchr(enc, '*'))
		abort();

	s = cat(accept, ",x/y;q=0");
	if (accept_format(s) != f)
		abort();
	free(s);
	s = cat(enc, ",deflate;q=0");
	if (accept_gzip(s) != gz)
		abort();
	free(s);

	if (!strchr(accept, ';') && !strchr(accept, '"')) {
		s = cat("application/openmetrics-text;version=1.0.0,", accept);
		if (accept_format(s) != EXPO_OPENMETRICS)
			abort();
		free(s);
	}
	free(accept);
	free(enc);
	return 0;
}
