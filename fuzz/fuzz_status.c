/* fuzz_status — proc_status_parse on any bytes.
 *
 * Properties: a size reported present is a whole number of KiB (the parser converts kB), and a
 * field is reported present only when a line starting with its name exists in the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"

static int has_line(const char *buf, size_t size, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i + n <= size; i++)
		if ((i == 0 || buf[i - 1] == '\n') && memcmp(buf + i, name, n) == 0)
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		uint32_t bit;
		const char *name;
		size_t off;
	} kb[] = {
		{ PROC_STATUS_VMSIZE, "VmSize:", offsetof(struct proc_status, vm_size) },
		{ PROC_STATUS_VMRSS, "VmRSS:", offsetof(struct proc_status, vm_rss) },
		{ PROC_STATUS_RSSANON, "RssAnon:", offsetof(struct proc_status, rss_anon) },
		{ PROC_STATUS_RSSFILE, "RssFile:", offsetof(struct proc_status, rss_file) },
		{ PROC_STATUS_RSSSHMEM, "RssShmem:", offsetof(struct proc_status, rss_shmem) },
		{ PROC_STATUS_VMDATA, "VmData:", offsetof(struct proc_status, vm_data) },
		{ PROC_STATUS_VMEXE, "VmExe:", offsetof(struct proc_status, vm_exe) },
		{ PROC_STATUS_VMSWAP, "VmSwap:", offsetof(struct proc_status, vm_swap) },
	};
	const char *buf = (const char *)data;
	struct proc_status st;

	if (proc_status_parse(buf, size, &st) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(kb) / sizeof(kb[0]); i++) {
		uint64_t v;

		memcpy(&v, (const char *)&st + kb[i].off, sizeof(v));
		if (!(st.have & kb[i].bit)) {
			if (v != 0)
				abort();
			continue;
		}
		if (v % 1024 != 0 || !has_line(buf, size, kb[i].name))
			abort();
	}
	if ((st.have & PROC_STATUS_UID) && !has_line(buf, size, "Uid:"))
		abort();
	if ((st.have & PROC_STATUS_KTHREAD) && !has_line(buf, size, "Kthread:"))
		abort();
	return 0;
}
