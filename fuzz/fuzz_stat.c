/* fuzz_stat — proc_stat_parse on any bytes.
 *
 * Properties beyond "no crash": on success, comm lies inside the input, between its first '('
 * and its last ')'; ppid fits; the input is never read past its end (ASan: libFuzzer hands us an
 * exactly sized heap copy).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct proc_stat st;

	if (proc_stat_parse(buf, size, &st) < 0)
		return 0;
	if (st.comm < buf + 1 || st.comm + st.comm_len > buf + size)
		abort();
	if (st.comm[-1] != '(' || st.comm[st.comm_len] != ')')
		abort();
	if (memchr(buf, '(', (size_t)(st.comm - 1 - buf)))
		abort(); /* not the first '(' */
	if (memchr(st.comm + st.comm_len + 1, ')', size - (size_t)(st.comm + st.comm_len + 1 - buf)))
		abort(); /* not the last ')' */
	return 0;
}
