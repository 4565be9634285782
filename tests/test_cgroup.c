/* test_cgroup.c — /proc/PID/cgroup: which files are trusted, which cgroup and unit they give,
 * and which container and pod a cgroup path names.
 *
 * Inputs go to the parser in heap blocks of exactly their length (no NUL after them), so ASan
 * catches a read past the end. Expected values are read off the paths by hand, following the
 * naming rules quoted in src/cgroup.c (kubelet, runc, CRI-O, Podman, LXC, machined) and the
 * kernel's format (kernel/cgroup/cgroup.c, proc_cgroup_show()).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"

#include "fixture_input.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CAPTURED "tests/fixtures/captured/"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEX64B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define UID "0b0b0b0b-1111-2222-3333-444444444444"
#define UID_ "0b0b0b0b_1111_2222_3333_444444444444"
#define HASH32 "6a3fe2b3c4d5e6f708192a3b4c5d6e7f"

/* ---- helpers -------------------------------------------------------------------------------- */

/* proc_cgroup_parse() on a copy of text; the unit and path are copied out as strings ("-" for
 * no path) so that the copy can be freed. */
static int parse(const char *text, size_t n, char *unit, char *path)
{
	char *b = exact(text, n);
	struct cgroup_info info;
	int r = proc_cgroup_parse(b, n, NULL, 0, &info);

	if (r == 0) {
		assert_non_null(info.unit);
		assert_true(info.unit_len == 0 || (info.unit >= b && info.unit + info.unit_len <= b + n));
		memcpy(unit, info.unit, info.unit_len);
		unit[info.unit_len] = '\0';
		if (info.path) {
			assert_true(info.path >= b && info.path + info.path_len <= b + n);
			assert_null(memchr(info.path, '\n', info.path_len));
			memcpy(path, info.path, info.path_len);
			path[info.path_len] = '\0';
		} else {
			strcpy(path, "-");
		}
	}
	free(b);
	return r;
}

/* The file text parses, and gives the unit want_unit (NULL: not checked) and the path
 * want_path ("-": none; NULL: not checked). */
static void expect_parse(const char *text, const char *want_unit, const char *want_path)
{
	char unit[4096], path[4096];
	int r = parse(text, strlen(text), unit, path);

	if (r != 0)
		fail_msg("\"%s\": refused (%d)", text, r);
	if (want_unit && strcmp(unit, want_unit) != 0)
		fail_msg("\"%s\": unit \"%s\", wanted \"%s\"", text, unit, want_unit);
	if (want_path && strcmp(path, want_path) != 0)
		fail_msg("\"%s\": path \"%s\", wanted \"%s\"", text, path, want_path);
}

static struct cgroup_identity identify(const char *path)
{
	size_t n = strlen(path);
	char *b = exact(path, n);
	struct cgroup_identity id;

	memset(&id, 0x5a, sizeof(id));
	cgroup_identify(b, n, &id);
	free(b);
	return id;
}

/* ---- which file is trusted, and its unit -------------------------------------------------------- */

static void unit_as_systemd_tells_it(void **state)
{
	static const struct {
		const char *text, *unit;
	} rows[] = {
		/* cgroup v2 */
		{ "0::/system.slice/nginx.service\n", "nginx.service" },
		{ "0::/system.slice/nginx.service/worker\n", "nginx.service" }, /* delegated subtree */
		{ "0::/system.slice/nginx.service/\n", "nginx.service" },
		{ "0::/system.slice//nginx.service\n", "nginx.service" },
		{ "0::/system.slice/getty@tty1.service\n", "getty@tty1.service" },
		{ "0::/system.slice/system-getty.slice/getty@tty2.service\n", "getty@tty2.service" },
		{ "0::/a.slice/a-b.slice/a-b-c.slice/deep.service\n", "deep.service" },
		{ "0::/user.slice/user-1000.slice/session-3.scope\n", "session-3.scope" },
		{ "0::/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service\n",
		  "user@1000.service" },
		{ "0::/user.slice/user-1000.slice/user@1000.service/init.scope\n", "user@1000.service" },
		{ "0::/init.scope\n", "init.scope" },
		{ "0::/system.slice/dbus.socket\n", "dbus.socket" },
		{ "0::/system.slice/home.mount\n", "home.mount" },
		{ "0::/system.slice/dev-sda2.swap\n", "dev-sda2.swap" },
		{ "0::/system.slice/systemd-fsck@dev-disk-by\\x2duuid-1234.service\n",
		  "systemd-fsck@dev-disk-by\\x2duuid-1234.service" },
		/* containers */
		{ "0::/system.slice/docker-" HEX64 ".scope\n", "docker-" HEX64 ".scope" },
		{ "0::/kubepods/besteffort/pod" UID "/" HEX64 "\n", "" },
		{ "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
		  ".slice/cri-containerd-" HEX64 ".scope\n",
		  "cri-containerd-" HEX64 ".scope" },
		{ "0::/docker/" HEX64 "\n", "" },
		{ "0::/machine.slice/machine-web.scope/payload/system.slice/nginx.service\n",
		  "machine-web.scope" },
		/* a container's own systemd, seen from the host: not a host unit */
		{ "0::/lxc.payload.c1/system.slice/nginx.service\n", "" },
		/* systemd's cg_escape(): a leading '_' is dropped */
		{ "0::/system.slice/_cpu.service\n", "cpu.service" },
		{ "0::/system.slice/system-waldo.slice/_cpu.service/sdfdsaf\n", "cpu.service" },
		{ "0::/_cgroup.slice/x.service\n", "x.service" },
		{ "0::/system.slice/__x.service\n", "_x.service" },
		/* no unit */
		{ "0::/\n", "" },
		{ "0::/system.slice\n", "" },
		{ "0::/user.slice/user-1000.slice\n", "" },
		{ "0::/system.slice/getty####@tty6.service/xxx\n", "" },
		{ "0::/user.slice/user-1000.slice/user@.service/server.service\n", "" }, /* template */
		{ "0::/system.slice/@x.service\n", "" },
		{ "0::/system.slice/ngi nx.service\n", "" },
		{ "0::/system.slice/nginx\xc3\xa9.service\n", "" },
		{ "0::/system.slice/nginx.target\n", "" },
		{ "0::/system.slice/_\n", "" },
		{ "0::/system.slice/nginx.service (deleted)\n", "" }, /* a dead cgroup, v2 */
		{ "0::/../system.slice/nginx.service\n", "" }, /* outside our cgroup namespace */
		{ "", "" },
		/* cgroup v1 and hybrid: the name=systemd line wins */
		{ "12:pids:/system.slice/sshd.service\n11:memory:/system.slice/sshd.service\n"
		  "1:name=systemd:/system.slice/sshd.service\n", "sshd.service" },
		{ "1:name=systemd:/system.slice/a.service\n0::/system.slice/b.service\n", "a.service" },
		{ "9:name=systemd:/system.slice/a.service\n8:pids:/\n0::/system.slice/b.service\n",
		  "a.service" },
		{ "1:name=systemd:/\n0::/system.slice/b.service\n", "" },
		{ "4:memory:/system.slice/x.service\n3:cpu:/system.slice/x.service\n", "" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++)
		expect_parse(rows[i].text, rows[i].unit, NULL);
}

static void unit_length_limits(void **state)
{
	char name[300], text[400], unit[400], path[400];
	size_t n;

	(void)state;
	/* UNIT_NAME_MAX is 256 with the NUL: 255 bytes are a unit, 256 are not */
	memset(name, 'a', sizeof(name));
	memcpy(name + 255 - 8, ".service", 8);
	n = (size_t)snprintf(text, sizeof(text), "0::/system.slice/%.255s\n", name);
	assert_int_equal(parse(text, n, unit, path), 0);
	assert_int_equal(strlen(unit), 255);
	memset(name, 'a', sizeof(name));
	memcpy(name + 256 - 8, ".service", 8);
	n = (size_t)snprintf(text, sizeof(text), "0::/system.slice/%.256s\n", name);
	assert_int_equal(parse(text, n, unit, path), 0);
	assert_string_equal(unit, "");
}

static void unit_name_validity(void **state)
{
	static const char *const valid[] = {
		"a.service",	      "nginx.service",	   "getty@tty1.service", "user@1000.service",
		"session-3.scope",    "init.scope",	   "dbus.socket",	 "home.mount",
		"dev-sda2.swap",      "a\\x2db.service",   "foo:bar.service",	 "a_b-c.d.service",
		"a@b@c.service",      "A.service",
	};
	static const char *const invalid[] = {
		"",		 ".service",	   "service",	     "nginx",	       "nginx.",
		"nginx.slice",	 "nginx.target",   "nginx.device",   "nginx.timer",    "nginx.Service",
		"nginx.service.", "ngi nx.service", "@foo.service",  "foo@.service",   "nginx.service/",
		"nginx.service\n", "a\xc3\xa9.service", "a/b.service", "a*.service",  "a%.service",
	};
	char longname[300];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(valid); i++) {
		size_t n = strlen(valid[i]);
		char *b = exact(valid[i], n);

		if (!systemd_unit_name_valid(b, n))
			fail_msg("\"%s\" is a unit name", valid[i]);
		free(b);
	}
	for (i = 0; i < ARRAY_SIZE(invalid); i++) {
		size_t n = strlen(invalid[i]);
		char *b = exact(invalid[i], n);

		if (systemd_unit_name_valid(b, n))
			fail_msg("\"%s\" is not a unit name", invalid[i]);
		free(b);
	}
	/* the length is what counts */
	assert_true(systemd_unit_name_valid("nginx.serviceXYZ", 13));
	assert_false(systemd_unit_name_valid("nginx.service", 12));
	memset(longname, 'x', sizeof(longname));
	memcpy(longname + 247, ".service", 8);
	assert_true(systemd_unit_name_valid(longname, 255));
	memset(longname, 'x', sizeof(longname));
	memcpy(longname + 248, ".service", 8);
	assert_false(systemd_unit_name_valid(longname, 256));
}

/* ---- which cgroup ---------------------------------------------------------------------------- */

static void path_is_unified_else_systemd_else_memory(void **state)
{
	static const struct {
		const char *text, *path;
	} rows[] = {
		{ "0::/system.slice/nginx.service\n", "/system.slice/nginx.service" },
		{ "0::/\n", "/" },
		{ "", "-" },
		/* hybrid: the unified path when it is not the root */
		{ "9:name=systemd:/system.slice/a.service\n4:memory:/system.slice/a.service\n"
		  "0::/system.slice/a.service\n", "/system.slice/a.service" },
		{ "9:name=systemd:/a\n4:memory:/m\n0::/u\n", "/u" },
		/* else name=systemd */
		{ "9:name=systemd:/a\n4:memory:/m\n0::/\n", "/a" },
		{ "9:name=systemd:/docker/" HEX64 "\n0::/\n", "/docker/" HEX64 },
		/* else the memory controller (this machine: every hierarchy at the root but memory) */
		{ "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/c969\n1:cpu:/\n0::/\n",
		  "/process_api/c969" },
		{ "5:cpu,cpuacct:/x\n4:memory:/kubepods/burstable/pod" UID "/" HEX64 "\n",
		  "/kubepods/burstable/pod" UID "/" HEX64 },
		{ "4:memory,name=foo:/m\n", "/m" }, /* memory in a hierarchy with a name */
		/* all at the root: the unified root, else the first there is */
		{ "9:name=systemd:/\n4:memory:/\n0::/\n", "/" },
		{ "9:name=systemd:/\n4:memory:/\n", "/" },
		{ "3:cpu:/x\n", "-" }, /* neither unified, name=systemd nor memory */
		/* in a cgroup namespace: "/.." says nothing, the next hierarchy is asked */
		{ "9:name=systemd:/../x.service\n0::/..\n", "/../x.service" },
		{ "9:name=systemd:/../..\n4:memory:/../m\n0::/../..\n", "/../m" },
		{ "0::/../..\n", "/../.." },
		{ "0::/../cri-containerd-" HEX64 ".scope\n", "/../cri-containerd-" HEX64 ".scope" },
		/* kept as printed, whatever the bytes */
		{ "0::/a b/c:d/\"q\"/\\x2d/\xff\xfe/e (deleted)\n", "/a b/c:d/\"q\"/\\x2d/\xff\xfe/e (deleted)" },
		{ "0::/0::/1:name=systemd:/x\n", "/0::/1:name=systemd:/x" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++)
		expect_parse(rows[i].text, NULL, rows[i].path);
}

static void captured_files_give_the_memory_cgroup_and_no_unit(void **state)
{
	static const char *const files[] = {
		CAPTURED "mapping_kinds.cgroup",
		CAPTURED "kthreadd.cgroup",
		CAPTURED "zombie.cgroup",
	};
	char unit[4096], path[4096];
	size_t i, len;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		char *b = read_fixture(files[i], &len);

		/* "9:name=systemd:/" ... "4:memory:/process_api/c969e9..." ... "0::/"; the
		 * kernel thread and the zombie are at the root of every hierarchy */
		assert_int_equal(parse(b, len, unit, path), 0);
		assert_string_equal(unit, "");
		assert_string_equal(path, i == 0 ? "/process_api/c969e9d690b9bc84263cad51d8156168" : "/");
		free(b);
	}
}

/* ---- files the kernel would not write --------------------------------------------------------- */

static void file_refused_unless_as_the_kernel_writes_it(void **state)
{
	static const char *const refused[] = {
		/* cut short: the next line might have been forged into it */
		"0::/system.slice/nginx.service",
		"4:memory:/a\n0::/b",
		/* not "ID:CONTROLLERS:/PATH" */
		"garbage\n0::/system.slice/x.service\n",
		"no colons here\n0::/x\n",
		"5:onecolon\n0::/x\n",
		"::\n",
		"\n",
		"0::sadfdsafsda\n",
		"0::\n",
		":0::/system.slice/x.service\n",
		"-1:cpu:/\n0::/\n",
		"+1:cpu:/\n0::/\n",
		"01:cpu:/\n0::/\n",
		"00::/\n",
		"2147483648:cpu:/\n0::/\n",
		"99999999999999999999:cpu:/\n0::/\n",
		" 1:cpu:/\n0::/\n",
		/* the unified hierarchy has no controllers, a v1 one has some */
		"0:cpu:/system.slice/x.service\n",
		"1::/\n0::/\n",
		"1:CPU:/\n",
		"1:cpu,:/\n",
		"1:,cpu:/\n",
		"1:cpu,,memory:/\n",
		"1:name=:/\n",
		"1:name=a b:/\n",
		"1:name=a/b:/\n",
		"1:cpu memory:/\n",
		/* hierarchy IDs strictly decrease down the file, the unified one last */
		"0::/\n1:name=systemd:/system.slice/a.service\n",
		"0::/system.slice/b.service\n1:name=systemd:/system.slice/a.service\n",
		"3:cpu:/\n3:pids:/\n",
		"3:cpu:/\n4:pids:/\n",
		"0::/a\n0::/b\n",
		"10::/system.slice/x.service\n",
		/* name=systemd and memory each in one hierarchy */
		"9:name=systemd:/a\n5:name=systemd:/b\n0::/\n",
		"9:memory:/a\n5:cpu,memory:/b\n0::/\n",
	};
	char unit[4096], path[4096];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(refused); i++)
		if (parse(refused[i], strlen(refused[i]), unit, path) != -EBADMSG)
			fail_msg("\"%s\" is not what the kernel writes, yet accepted (unit \"%s\")",
				 refused[i], unit);
}

/* parse() with a reference file */
static int parse_ref(const char *text, const char *ref, char *unit, char *path)
{
	size_t n = strlen(text), rn = strlen(ref);
	char *b = exact(text, n), *rb = exact(ref, rn);
	struct cgroup_info info;
	int r = proc_cgroup_parse(b, n, rb, rn, &info);

	if (r == 0) {
		memcpy(unit, info.unit, info.unit_len);
		unit[info.unit_len] = '\0';
		if (info.path) {
			memcpy(path, info.path, info.path_len);
			path[info.path_len] = '\0';
		} else {
			strcpy(path, "-");
		}
	}
	free(rb);
	free(b);
	return r;
}

/* The hierarchies of a hybrid machine like this one, and of a v1 machine that never mounted
 * cgroup2 (systemd's legacy mode). */
#define HYBRID_REF "9:name=systemd:/system.slice/procmem-exporter.service\n8:pids:/\n7:memory:/\n0::/\n"
#define LEGACY_REF "3:name=systemd:/system.slice/procmem-exporter.service\n2:memory:/\n1:pids:/\n"

/* A kernel before 5.13 (or before the June 2021 stable releases) let anyone who may rename a
 * cgroup in a v1 hierarchy put a newline in its name, and /proc/PID/cgroup prints it raw. Each
 * file below is what such a process's cgroup file reads, the forged part after the newline. The
 * old parser (proc_cgroup_unit(): the last name=systemd line wins, garbage lines skipped) named
 * sshd.service for the first three; no forged file may now name a unit or a cgroup,
 * against the machine's reference. Most are refused by the rules alone; a forged line after the
 * last real one (the lowest hierarchy's cgroup renamed, no cgroup2 line) only by the reference. */
static void forged_lines_attribute_nothing(void **state)
{
	static const struct {
		const char *text, *ref;
		int without_ref; /* what the rules alone say */
	} forged[] = {
		/* the user's pids cgroup renamed "x\n1:name=systemd:" with system.slice/sshd.service
		 * made inside it: a name=systemd line after the real one */
		{ "9:name=systemd:/user.slice/user-1000.slice/user@1000.service/app.slice/a.service\n"
		  "8:pids:/user.slice/user-1000.slice/user@1000.service/x\n"
		  "1:name=systemd:/system.slice/sshd.service\n"
		  "7:memory:/user.slice/user-1000.slice/user@1000.service\n"
		  "0::/\n", HYBRID_REF, -EBADMSG },
		/* the same with an ID that does not exist on the machine */
		{ "9:name=systemd:/user.slice/user-1000.slice/user@1000.service/app.slice/a.service\n"
		  "8:pids:/user.slice/x\n"
		  "7:name=systemd:/system.slice/sshd.service\n"
		  "6:memory:/user.slice\n"
		  "0::/\n", HYBRID_REF, -EBADMSG },
		/* the continuation of a cut name, as in the kernel commit's own example */
		{ "9:name=systemd:/user.slice/a.service\n"
		  "8:pids:/test\n"
		  "test2\n"
		  "1:name=systemd:/system.slice/sshd.service\n"
		  "0::/\n", HYBRID_REF, -EBADMSG },
		/* the lowest hierarchy's cgroup renamed on a legacy machine: a unified line that
		 * claims a pod and a unit; the rules cannot tell, the reference can */
		{ "3:name=systemd:/user.slice/user-1000.slice/session-1.scope\n"
		  "2:memory:/user.slice\n"
		  "1:pids:/user.slice/x\n"
		  "0::/kubepods/burstable/pod" UID "/" HEX64 "\n", LEGACY_REF, 0 },
		/* a forged memory line (the cgroup of a v1 machine) claiming a pod */
		{ "9:name=systemd:/\n"
		  "8:pids:/user.slice/x\n"
		  "7:memory:/kubepods/burstable/pod" UID "/" HEX64 "\n"
		  "4:memory:/user.slice\n"
		  "0::/\n", HYBRID_REF, -EBADMSG },
		/* IDs made to decrease, but a controller line repeated */
		{ "9:name=systemd:/\n"
		  "8:pids:/a\n"
		  "7:memory:/kubepods/pod" UID "/" HEX64 "\n"
		  "7:memory:/user.slice\n"
		  "0::/\n", HYBRID_REF, -EBADMSG },
		/* an ID in a gap, with a controller the machine does not have */
		{ "9:name=systemd:/user.slice/a.service\n"
		  "8:pids:/user.slice/x\n"
		  "7:memory:/user.slice\n"
		  "5:rdma:/x\n"
		  "0::/\n", HYBRID_REF, 0 },
	};
	char unit[4096], path[4096];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(forged); i++) {
		int r = parse(forged[i].text, strlen(forged[i].text), unit, path);

		if (r != forged[i].without_ref)
			fail_msg("forged file %zu: the rules alone say %d, wanted %d (unit \"%s\")", i, r,
				 forged[i].without_ref, r == 0 ? unit : "");
		r = parse_ref(forged[i].text, forged[i].ref, unit, path);
		if (r != -EBADMSG && r != -ESTALE)
			fail_msg("forged file %zu accepted: unit \"%s\", cgroup \"%s\"", i, unit, path);
	}
}

/* The reference: the same "ID:CONTROLLERS:" lines in the same order; paths free. */
static void files_must_list_the_machines_hierarchies(void **state)
{
	static const struct {
		const char *text;
		int want;
	} rows[] = {
		{ "9:name=systemd:/system.slice/x.service\n8:pids:/a\n7:memory:/b\n0::/system.slice/x.service\n", 0 },
		{ "9:name=systemd:/\n8:pids:/\n7:memory:/\n0::/\n", 0 },
		{ "9:name=systemd:/\n8:pids:/\n7:memory:/\n", -ESTALE },			/* one less */
		{ "9:name=systemd:/\n8:pids:/\n7:memory:/\n0::/\n", 0 },
		{ "10:name=x:/\n9:name=systemd:/\n8:pids:/\n7:memory:/\n0::/\n", -ESTALE }, /* one more */
		{ "9:name=systemd:/\n8:pids:/\n6:memory:/\n0::/\n", -ESTALE },		/* another ID */
		{ "9:name=systemd:/\n8:cpu:/\n7:memory:/\n0::/\n", -ESTALE },		/* another controller */
		{ "9:name=systemd:/\n7:memory:/\n8:pids:/\n0::/\n", -EBADMSG },		/* out of order */
		{ "", -ESTALE },
		{ "9:name=systemd:/\n8:pids:/\n7:memory:/\n0::/", -EBADMSG },		/* cut short */
	};
	char unit[4096], path[4096];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		int r = parse_ref(rows[i].text, HYBRID_REF, unit, path);
		if (r != rows[i].want)
			fail_msg("\"%s\": %d, wanted %d", rows[i].text, r, rows[i].want);
	}
	/* an empty reference (no hierarchy at all) matches only an empty file */
	assert_int_equal(parse_ref("", "", unit, path), 0);
	assert_string_equal(path, "-");
	assert_int_equal(parse_ref("0::/\n", "", unit, path), -ESTALE);
}

/* Every prefix and random damage of a real file: accepted or -EBADMSG, inside the buffer. */
static void damaged_files_are_refused_or_parsed_within_bounds(void **state)
{
	static const char text[] =
		"12:pids:/kubepods/burstable/pod" UID "/" HEX64 "\n"
		"9:name=systemd:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
		".slice/crio-" HEX64 ".scope\n"
		"4:memory,name=x:/../lxc.payload.a/machine-b\\x2dc.scope\n"
		"0::/system.slice/docker-" HEX64 ".scope/libpod-" HEX64B "\n";
	char unit[4096], path[4096];
	size_t n = sizeof(text) - 1, k, i;

	(void)state;
	assert_int_equal(parse(text, n, unit, path), 0);
	for (k = 0; k <= n; k++) {
		int r = parse(text, k, unit, path);
		assert_true(r == 0 || r == -EBADMSG);
	}
	for (i = 0; i < 2000; i++) {
		static const char alphabet[] = "0123456789abcdef:/-_.\n\xff\0podkubesliceSCOPE";
		char *p = exact(text, n);
		struct cgroup_info info;
		struct cgroup_identity id;
		int r;

		for (k = 0; k < 1 + i % 5; k++)
			p[rng_next() % n] = alphabet[rng_next() % (sizeof(alphabet) - 1)];
		r = proc_cgroup_parse(p, n, NULL, 0, &info);
		assert_true(r == 0 || r == -EBADMSG);
		if (r == 0 && info.path) {
			cgroup_identify(info.path, info.path_len, &id);
			assert_true(id.container_end <= info.path_len && id.pod_end <= info.path_len);
			assert_true(id.container_id_len <= CGROUP_NAME_MAX);
			assert_true(id.pod_uid_len <= CGROUP_POD_UID_MAX);
		}
		/* and the path finder on the raw bytes, lines and all */
		cgroup_identify(p, n, &id);
		assert_true(id.container_end <= n && id.pod_end <= n);
		free(p);
	}
}

/* ---- containers and pods ---------------------------------------------------------------------- */

/* rows of processes in no pod leave the pod fields out */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

struct want {
	const char *path;
	const char *container_cgroup; /* the prefix; NULL: no container */
	const char *container_id;
	enum cgroup_runtime runtime;
	const char *pod_cgroup; /* NULL: no pod */
	const char *pod_uid;
};

static void check_rows(const struct want *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct cgroup_identity id = identify(rows[i].path);
		const struct want *w = &rows[i];
		size_t cl = w->container_cgroup ? strlen(w->container_cgroup) : 0;
		size_t pl = w->pod_cgroup ? strlen(w->pod_cgroup) : 0;

		if (cl)
			assert_memory_equal(w->container_cgroup, w->path, cl); /* a prefix, as written */
		if (pl)
			assert_memory_equal(w->pod_cgroup, w->path, pl);
		if (id.container_end != cl || id.pod_end != pl)
			fail_msg("%s: container cgroup %zu bytes, pod cgroup %zu; wanted %zu, %zu", w->path,
				 id.container_end, id.pod_end, cl, pl);
		if (cl) {
			if (strcmp(id.container_id, w->container_id) != 0 ||
			    id.container_id_len != strlen(w->container_id))
				fail_msg("%s: container id \"%s\", wanted \"%s\"", w->path, id.container_id,
					 w->container_id);
			if (id.runtime != w->runtime)
				fail_msg("%s: runtime %s (%d), wanted %s (%d)", w->path,
					 cgroup_runtime_name(id.runtime), id.runtime,
					 cgroup_runtime_name(w->runtime), w->runtime);
		} else {
			assert_int_equal(id.runtime, CGROUP_RUNTIME_NONE);
			assert_int_equal(id.container_id_len, 0);
			assert_string_equal(id.container_id, "");
		}
		if (pl) {
			if (strcmp(id.pod_uid, w->pod_uid) != 0 || id.pod_uid_len != strlen(w->pod_uid))
				fail_msg("%s: pod uid \"%s\", wanted \"%s\"", w->path, id.pod_uid, w->pod_uid);
		} else {
			assert_int_equal(id.pod_uid_len, 0);
			assert_string_equal(id.pod_uid, "");
		}
	}
}

#define D CGROUP_RUNTIME_DOCKER
#define CD CGROUP_RUNTIME_CONTAINERD
#define CO CGROUP_RUNTIME_CRIO
#define PM CGROUP_RUNTIME_PODMAN
#define LX CGROUP_RUNTIME_LXC
#define MA CGROUP_RUNTIME_MACHINED
#define UK CGROUP_RUNTIME_UNKNOWN
#define NO CGROUP_RUNTIME_NONE

static void runtimes_recognised_by_their_cgroup_names(void **state)
{
	static const struct want rows[] = {
		/* Docker, systemd and cgroupfs drivers */
		{ "/system.slice/docker-" HEX64 ".scope", "/system.slice/docker-" HEX64 ".scope", HEX64, D },
		{ "/docker/" HEX64, "/docker/" HEX64, HEX64, D },
		{ "/docker/" HEX64 "/", "/docker/" HEX64, HEX64, D },
		/* a container's own systemd below it: still the container */
		{ "/system.slice/docker-" HEX64 ".scope/system.slice/nginx.service",
		  "/system.slice/docker-" HEX64 ".scope", HEX64, D },
		/* containerd's CRI plugin and CRI-O outside a pod */
		{ "/system.slice/cri-containerd-" HEX64 ".scope", "/system.slice/cri-containerd-" HEX64 ".scope", HEX64, CD },
		{ "/machine.slice/crio-" HEX64 ".scope", "/machine.slice/crio-" HEX64 ".scope", HEX64, CO },
		/* Podman: systemd and cgroupfs managers, rootful and rootless */
		{ "/machine.slice/libpod-" HEX64 ".scope", "/machine.slice/libpod-" HEX64 ".scope", HEX64, PM },
		{ "/machine.slice/libpod-" HEX64 ".scope/container",
		  "/machine.slice/libpod-" HEX64 ".scope", HEX64, PM },
		{ "/libpod_parent/libpod-" HEX64, "/libpod_parent/libpod-" HEX64, HEX64, PM },
		{ "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" HEX64 ".scope",
		  "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" HEX64 ".scope", HEX64, PM },
		/* their monitors are not the containers */
		{ "/machine.slice/libpod-conmon-" HEX64 ".scope", NULL, NULL, NO },
		{ "/system.slice/crio-conmon-" HEX64 ".scope", NULL, NULL, NO },
		/* LXC 4+ (and LXD), and the older layout */
		{ "/lxc.payload.web1/system.slice/agent.service", "/lxc.payload.web1", "web1", LX },
		{ "/lxc.payload.web1", "/lxc.payload.web1", "web1", LX },
		{ "/lxc.monitor.web1", NULL, NULL, NO },
		{ "/lxc/web2/init.scope", "/lxc/web2", "web2", LX },
		{ "/lxc.payload.", NULL, NULL, NO },
		/* systemd-nspawn (machined), the name's escapes undone */
		{ "/machine.slice/machine-box.scope/payload/system.slice/x.service",
		  "/machine.slice/machine-box.scope", "box", MA },
		{ "/machine.slice/machine-my\\x2dbox.scope", "/machine.slice/machine-my\\x2dbox.scope", "my-box", MA },
		{ "/machine.slice/machine-qemu\\x2d1\\x2dvm.scope/libvirt", "/machine.slice/machine-qemu\\x2d1\\x2dvm.scope", "qemu-1-vm", MA },
		{ "/machine.slice/machine-a\\x2.scope", "/machine.slice/machine-a\\x2.scope", "a\\x2", MA },
		{ "/machine.slice/machine-\\x41\\xzz\\x4.scope", "/machine.slice/machine-\\x41\\xzz\\x4.scope", "A\\xzz\\x4", MA },
		{ "/machine.slice/machine-.scope", NULL, NULL, NO },
		/* not containers: wrong length, uppercase, bare IDs outside /docker */
		{ "/system.slice/docker-" HEX64 "0.scope", NULL, NULL, NO },
		{ "/system.slice/docker-0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef.scope", NULL, NULL, NO },
		{ "/system.slice/docker-" HEX64, NULL, NULL, NO },
		{ "/" HEX64, NULL, NULL, NO },
		{ "/system.slice/" HEX64, NULL, NULL, NO },
		{ "/system.slice/nginx.service", NULL, NULL, NO },
		{ "/", NULL, NULL, NO },
		{ "", NULL, NULL, NO },
	};

	(void)state;
	check_rows(rows, ARRAY_SIZE(rows));
}

#define KP_SYS "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_ ".slice"
#define KP_FS "/kubepods/burstable/pod" UID

static void pods_under_both_kubelet_cgroup_drivers(void **state)
{
	static const struct want rows[] = {
		/* systemd driver, each runtime, each QoS class */
		{ KP_SYS "/cri-containerd-" HEX64 ".scope", KP_SYS "/cri-containerd-" HEX64 ".scope", HEX64, CD, KP_SYS, UID },
		{ KP_SYS "/crio-" HEX64 ".scope", KP_SYS "/crio-" HEX64 ".scope", HEX64, CO, KP_SYS, UID },
		{ KP_SYS "/crio-" HEX64, KP_SYS "/crio-" HEX64, HEX64, CO, KP_SYS, UID }, /* a sandbox */
		{ KP_SYS "/docker-" HEX64 ".scope", KP_SYS "/docker-" HEX64 ".scope", HEX64, D, KP_SYS, UID },
		{ KP_SYS "/crio-conmon-" HEX64 ".scope", NULL, NULL, NO, KP_SYS, UID }, /* in the pod, no container */
		{ KP_SYS, NULL, NULL, NO, KP_SYS, UID },
		{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" HEX64 ".scope",
		  "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" HEX64 ".scope",
		  HEX64, CD, "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice", UID },
		{ "/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" HEX64 ".scope", /* Guaranteed */
		  "/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" HEX64 ".scope", HEX64, CD,
		  "/kubepods.slice/kubepods-pod" UID_ ".slice", UID },
		/* a static pod: its UID is the config hash */
		{ "/kubepods.slice/kubepods-pod" HASH32 ".slice/cri-containerd-" HEX64 ".scope",
		  "/kubepods.slice/kubepods-pod" HASH32 ".slice/cri-containerd-" HEX64 ".scope", HEX64, CD,
		  "/kubepods.slice/kubepods-pod" HASH32 ".slice", HASH32 },
		/* the kubelet's --cgroup-root: the chain spells it out */
		{ "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" HEX64 ".scope",
		  "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" HEX64 ".scope",
		  HEX64, CD, "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" UID_ ".slice", UID },
		/* cgroupfs driver */
		{ KP_FS "/" HEX64, KP_FS "/" HEX64, HEX64, UK, KP_FS, UID },
		{ KP_FS "/crio-" HEX64, KP_FS "/crio-" HEX64, HEX64, CO, KP_FS, UID },
		{ "/kubepods/besteffort/pod" UID "/" HEX64, "/kubepods/besteffort/pod" UID "/" HEX64, HEX64, UK,
		  "/kubepods/besteffort/pod" UID, UID },
		{ "/kubepods/pod" UID "/" HEX64, "/kubepods/pod" UID "/" HEX64, HEX64, UK, "/kubepods/pod" UID, UID },
		{ "/kubepods/pod" HASH32 "/" HEX64, "/kubepods/pod" HASH32 "/" HEX64, HEX64, UK, "/kubepods/pod" HASH32, HASH32 },
		{ KP_FS, NULL, NULL, NO, KP_FS, UID },
		{ KP_FS "/not-a-container", NULL, NULL, NO, KP_FS, UID },
		/* a container below the pod's container (its own cgroups): the pod's container */
		{ KP_FS "/" HEX64 "/docker/" HEX64B, KP_FS "/" HEX64, HEX64, UK, KP_FS, UID },
		/* not pods: UIDs of the wrong shape or with the other driver's separator */
		{ "/kubepods/burstable/pod" UID_ "/" HEX64, NULL, NULL, NO },
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID ".slice", NULL, NULL, NO },
		{ "/kubepods/burstable/pod0b0b0b0b-1111-2222-3333-44444444444", NULL, NULL, NO },
		{ "/kubepods/burstable/pod0B0B0B0B-1111-2222-3333-444444444444", NULL, NULL, NO },
		{ "/kubepods/burstable/pod" HASH32 "0", NULL, NULL, NO },
		{ "/kubepods/guaranteed/pod" UID, NULL, NULL, NO },
		{ "/kubepods.slice/kubepods-guaranteed.slice/kubepods-guaranteed-pod" UID_ ".slice", NULL, NULL, NO },
		/* the systemd chain must be the pod slice's own ancestors, from the root */
		{ "/kubepods.slice/kubepods-besteffort-pod" UID_ ".slice", NULL, NULL, NO },
		{ "/kubepods-burstable-pod" UID_ ".slice", NULL, NULL, NO },
		{ "/kubepods.slice/kubepods-burstable.slice/x-kubepods-burstable-pod" UID_ ".slice", NULL, NULL, NO },
		{ "/kubepods.slice/other.slice/kubepods-pod" UID_ ".slice", NULL, NULL, NO },
		{ "/kubepods.slice/kubepods--pod" UID_ ".slice", NULL, NULL, NO },
	};

	(void)state;
	check_rows(rows, ARRAY_SIZE(rows));
}

/* Whatever is made below the host's own cgroups, by a user in a delegated subtree or inside a
 * container, cannot claim a pod, nor move the processes above it into another container. */
static void lookalikes_below_cannot_claim_pods_or_containers(void **state)
{
	static const struct want rows[] = {
		/* a user's subtree: kubepods names mean nothing there; the innermost "container" is
		 * the user's own and is reported with its own cgroup, never as a real pod */
		{ "/user.slice/user-1000.slice/user@1000.service/kubepods.slice/kubepods-pod" UID_
		  ".slice/cri-containerd-" HEX64 ".scope",
		  "/user.slice/user-1000.slice/user@1000.service/kubepods.slice/kubepods-pod" UID_
		  ".slice/cri-containerd-" HEX64 ".scope", HEX64, CD },
		{ "/user.slice/user-1000.slice/user@1000.service/kubepods/pod" UID "/" HEX64, NULL, NULL, NO },
		/* inside a container: the outermost wins */
		{ "/system.slice/docker-" HEX64 ".scope/docker-" HEX64B ".scope",
		  "/system.slice/docker-" HEX64 ".scope", HEX64, D },
		{ "/docker/" HEX64 "/docker/" HEX64B, "/docker/" HEX64, HEX64, D }, /* docker in docker */
		{ "/lxc.payload.web1/kubepods/pod" UID "/" HEX64, "/lxc.payload.web1", "web1", LX },
		{ "/system.slice/docker-" HEX64 ".scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod" UID_ ".slice",
		  "/system.slice/docker-" HEX64 ".scope", HEX64, D }, /* a kind node, seen from its host */
		/* a pod's container making more below it */
		{ KP_SYS "/cri-containerd-" HEX64 ".scope/lxc.payload.x/machine-y.scope",
		  KP_SYS "/cri-containerd-" HEX64 ".scope", HEX64, CD, KP_SYS, UID },
		/* odd bytes in a name are carried, not interpreted */
		{ "/lxc.payload.a\xff\"b/x", "/lxc.payload.a\xff\"b", "a\xff\"b", LX },
		{ "/lxc/(deleted)", "/lxc/(deleted)", "(deleted)", LX },
	};

	char path[400];
	struct cgroup_identity id;

	(void)state;
	check_rows(rows, ARRAY_SIZE(rows));
	/* a component longer than a cgroup name can be is nobody's container */
	memset(path, 'x', sizeof(path));
	memcpy(path, "/lxc.payload.", 13);
	cgroup_identify(path, 1 + CGROUP_NAME_MAX, &id);
	assert_int_equal(id.container_end, 1 + CGROUP_NAME_MAX);
	assert_int_equal(id.container_id_len, CGROUP_NAME_MAX - 12);
	cgroup_identify(path, 2 + CGROUP_NAME_MAX, &id);
	assert_int_equal(id.container_end, 0);
	assert_int_equal(id.runtime, CGROUP_RUNTIME_NONE);
}

/* Paths relative to the reader's cgroup namespace (a daemon in a pod of its own on a cgroup v2
 * node): the part below the common ancestor is there, the part above is not. */
static void paths_relative_to_a_cgroup_namespace(void **state)
{
	static const struct want rows[] = {
		{ "/../../../kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" HEX64 ".scope",
		  "/../../../kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" HEX64 ".scope",
		  HEX64, CD, "/../../../kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice", UID },
		{ "/../../kubepods-burstable-pod" UID_ ".slice/crio-" HEX64 ".scope",
		  "/../../kubepods-burstable-pod" UID_ ".slice/crio-" HEX64 ".scope", HEX64, CO,
		  "/../../kubepods-burstable-pod" UID_ ".slice", UID },
		{ "/../../../kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" HEX64 ".scope",
		  "/../../../kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" HEX64 ".scope", HEX64, CD,
		  "/../../../kubepods.slice/kubepods-pod" UID_ ".slice", UID },
		{ "/../../besteffort/pod" UID "/" HEX64, "/../../besteffort/pod" UID "/" HEX64, HEX64, UK,
		  "/../../besteffort/pod" UID, UID },
		{ "/../pod" UID "/" HEX64, "/../pod" UID "/" HEX64, HEX64, UK, "/../pod" UID, UID },
		/* a sibling container of our own pod: its pod is above what we can see */
		{ "/../cri-containerd-" HEX64 ".scope", "/../cri-containerd-" HEX64 ".scope", HEX64, CD },
		/* the host's services */
		{ "/../../../../system.slice/docker-" HEX64 ".scope", "/../../../../system.slice/docker-" HEX64 ".scope", HEX64, D },
		{ "/../../../../system.slice/sshd.service", NULL, NULL, NO },
		{ "/..", NULL, NULL, NO },
		{ "/../..", NULL, NULL, NO },
		/* inside the namespace: paths look absolute */
		{ "/cri-containerd-" HEX64 ".scope", "/cri-containerd-" HEX64 ".scope", HEX64, CD },
		/* the chain still has to fit: a wrong ancestor before the pod slice */
		{ "/../../kubepods-burstable.slice/kubepods-besteffort-pod" UID_ ".slice", NULL, NULL, NO },
		{ "/../../x.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice", NULL, NULL, NO },
	};

	(void)state;
	check_rows(rows, ARRAY_SIZE(rows));
}

static void runtime_names_are_the_label_values(void **state)
{
	(void)state;
	assert_string_equal(cgroup_runtime_name(CGROUP_RUNTIME_NONE), "");
	assert_string_equal(cgroup_runtime_name(CGROUP_RUNTIME_UNKNOWN), "");
	assert_string_equal(cgroup_runtime_name(CGROUP_RUNTIME_DOCKER), "docker");
	assert_string_equal(cgroup_runtime_name(CGROUP_RUNTIME_CONTAINERD), "containerd");
	assert_string_equal(cgroup_runtime_name(CGROUP_RUNTIME_CRIO), "crio");
	assert_string_equal(cgroup_runtime_name(CGROUP_RUNTIME_PODMAN), "podman");
	assert_string_equal(cgroup_runtime_name(CGROUP_RUNTIME_LXC), "lxc");
	assert_string_equal(cgroup_runtime_name(CGROUP_RUNTIME_MACHINED), "machined");
	assert_string_equal(cgroup_runtime_name(CGROUP_RUNTIME_COUNT), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unit_as_systemd_tells_it),
		cmocka_unit_test(unit_length_limits),
		cmocka_unit_test(unit_name_validity),
		cmocka_unit_test(path_is_unified_else_systemd_else_memory),
		cmocka_unit_test(captured_files_give_the_memory_cgroup_and_no_unit),
		cmocka_unit_test(file_refused_unless_as_the_kernel_writes_it),
		cmocka_unit_test(forged_lines_attribute_nothing),
		cmocka_unit_test(files_must_list_the_machines_hierarchies),
		cmocka_unit_test(damaged_files_are_refused_or_parsed_within_bounds),
		cmocka_unit_test(runtimes_recognised_by_their_cgroup_names),
		cmocka_unit_test(pods_under_both_kubelet_cgroup_drivers),
		cmocka_unit_test(lookalikes_below_cannot_claim_pods_or_containers),
		cmocka_unit_test(paths_relative_to_a_cgroup_namespace),
		cmocka_unit_test(runtime_names_are_the_label_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
