/* test_publish.c — publications: reference counting (a held publication stays valid and
 * unchanged while newer ones are published), the lazily made renderings (plain text and
 * OpenMetrics exactly as the renderer writes them, gzip variants that inflate to the same text
 * once framed), and concurrent readers. ASan (make check-asan) sees a publication freed while
 * held, or never freed. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <zlib.h>

#include "clock.h"
#include "expo.h"
#include "gz.h"
#include "publish.h"
#include "snapshot.h"

/* A small snapshot with one process, pid `pid`, whose resident size is `rss` bytes. */
static struct snapshot *small_snapshot(uint32_t pid, uint64_t rss)
{
	struct snapshot *s = snapshot_new(SMAPS_ROLLUP);
	struct select_opts sel = { 0 };
	struct proc_sample *p;
	char comm[16];

	assert_non_null(s);
	s->btime = 1700000000;
	s->hz = 100;
	p = snapshot_add_proc(s);
	assert_non_null(p);
	p->pid = pid;
	p->ppid = 1;
	p->start_ticks = 250;
	snprintf(comm, sizeof(comm), "proc%u", pid);
	assert_int_equal(snapshot_str(s, comm, strlen(comm), &p->comm), 0);
	assert_int_equal(snapshot_str(s, "root", 4, &p->user), 0);
	p->status.have = PROC_STATUS_VMRSS | PROC_STATUS_VMSIZE;
	p->status.vm_rss = rss;
	p->status.vm_size = 2 * rss;
	p->flags = SAMPLE_ROLLUP;
	p->rollup.have = ROLLUP_PSS;
	p->rollup.pss = rss / 2;
	s->cycles_total = pid;
	assert_int_equal(snapshot_finish(s, &sel), 0);
	return s;
}

/* The renderer's own output for s, for comparison with the cached renderings. */
static void render(const struct snapshot *s, enum expo_format f, struct buf *out)
{
	buf_reset(out);
	expo_render(s, f, out);
	assert_false(buf_failed(out));
}

static void inflate_member(const struct buf *member, struct buf *out)
{
	z_stream z = { 0 };
	int r;

	assert_int_equal(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
	z.next_in = (Bytef *)member->buf;
	z.avail_in = (uInt)member->len;
	do {
		assert_int_equal(buf_grow(out, 65536), 0);
		z.next_out = (Bytef *)buf_tail(out);
		z.avail_out = (uInt)buf_avail(out);
		r = inflate(&z, Z_NO_FLUSH);
		buf_advance(out, buf_avail(out) - z.avail_out);
	} while (r == Z_OK);
	assert_int_equal(r, Z_STREAM_END);
	assert_int_equal(z.avail_in, 0);
	inflateEnd(&z);
}

/* Checks every variant of pub against the renderer's output for its snapshot. */
static void check_variants(struct publication *pub)
{
	const struct snapshot *s = publication_snapshot(pub);
	static const char tail_text[] = "tail_metric 1\n";
	struct buf want = BUF_INIT, member = BUF_INIT, plain = BUF_INIT;
	enum expo_format f;

	for (f = 0; f < EXPO_FORMAT_COUNT; f++) {
		struct rendering r, again, gz;

		render(s, f, &want);
		assert_int_equal(publication_body(pub, f, false, &r), 0);
		assert_int_equal(r.len, want.len);
		assert_memory_equal(r.data, want.buf, want.len);
		assert_int_equal(r.raw_len, want.len);
		/* made once, then served from the cache */
		assert_int_equal(publication_body(pub, f, false, &again), 0);
		assert_ptr_equal(again.data, r.data);

		/* gzip: the raw deflate part, framed as http.c frames it, inflates to the text */
		assert_int_equal(publication_body(pub, f, true, &gz), 0);
		assert_int_equal(gz.raw_len, want.len);
		assert_int_equal(gz.crc, (uint32_t)crc32(crc32(0, Z_NULL, 0), (const Bytef *)want.buf, (uInt)want.len));
		buf_reset(&member);
		buf_add(&member, gz_member_header, GZ_HEADER_LEN);
		buf_add(&member, gz.data, gz.len);
		gz_finish(&member, tail_text, strlen(tail_text), gz.crc, gz.raw_len);
		buf_reset(&plain);
		inflate_member(&member, &plain);
		assert_int_equal(plain.len, want.len + strlen(tail_text));
		assert_memory_equal(plain.buf, want.buf, want.len);
		assert_memory_equal(plain.buf + want.len, tail_text, strlen(tail_text));
		assert_int_equal(publication_body(pub, f, true, &again), 0);
		assert_ptr_equal(again.data, gz.data);
	}
	buf_done(&want);
	buf_done(&member);
	buf_done(&plain);
}

static void test_acquire_before_first_publish_is_null(void **state)
{
	struct publisher *p = publisher_new(1);

	(void)state;
	assert_non_null(p);
	assert_null(publisher_acquire(p));
	assert_int_equal(publisher_last_ns(p), 0);
	publisher_free(p);
	publisher_free(NULL);
	publication_release(NULL);
}

static void test_publish_then_acquire(void **state)
{
	struct publisher *p = publisher_new(1);
	struct snapshot *s = small_snapshot(11, 4096);
	struct publication *a, *b;

	(void)state;
	assert_int_equal(publisher_publish(p, s), 0);
	assert_true(publisher_last_ns(p) > 0);
	a = publisher_acquire(p);
	b = publisher_acquire(p);
	assert_non_null(a);
	assert_ptr_equal(a, b); /* the same publication, two references */
	assert_ptr_equal(publication_snapshot(a), s);
	publication_release(a);
	/* still held through b */
	assert_int_equal(publication_snapshot(b)->procs[0].pid, 11);
	check_variants(b);
	publication_release(b);
	publisher_free(p);
}

/* A publication acquired before a newer publish stays valid and unchanged until released. */
static void test_held_publication_survives_newer_publishes(void **state)
{
	struct publisher *p = publisher_new(6);
	struct publication *old, *cur;
	struct rendering before, after;
	struct buf copy = BUF_INIT;
	uint32_t pid;

	(void)state;
	assert_int_equal(publisher_publish(p, small_snapshot(11, 4096)), 0);
	old = publisher_acquire(p);
	assert_non_null(old);
	assert_int_equal(publication_body(old, EXPO_TEXT, false, &before), 0);
	buf_add(&copy, before.data, before.len);
	assert_non_null(strstr(copy.buf, "pid=\"11\""));

	for (pid = 100; pid < 110; pid++)
		assert_int_equal(publisher_publish(p, small_snapshot(pid, pid * 4096)), 0);

	/* the old one: same snapshot, same bytes; its other variants render from it */
	assert_int_equal(publication_snapshot(old)->procs[0].pid, 11);
	assert_int_equal(publication_snapshot(old)->cycles_total, 11);
	assert_int_equal(publication_body(old, EXPO_TEXT, false, &after), 0);
	assert_ptr_equal(after.data, before.data);
	assert_int_equal(after.len, copy.len);
	assert_memory_equal(after.data, copy.buf, copy.len);
	check_variants(old);

	/* the current one is the last published */
	cur = publisher_acquire(p);
	assert_ptr_not_equal(cur, old);
	assert_int_equal(publication_snapshot(cur)->procs[0].pid, 109);
	check_variants(cur);

	publication_release(old); /* its last reference: freed here (ASan) */
	publication_release(cur); /* the publisher still holds this one */
	cur = publisher_acquire(p);
	assert_int_equal(publication_snapshot(cur)->procs[0].pid, 109);
	publication_release(cur);
	buf_done(&copy);
	publisher_free(p);
}

/* Variants asked for once are rendered by the collector before the next publication goes out;
 * whichever way a variant was made, it is the renderer's output. */
static void test_wanted_variants_are_ready_in_later_publications(void **state)
{
	struct publisher *p = publisher_new(1);
	struct publication *pub;
	struct rendering r;
	uint32_t pid;

	(void)state;
	assert_int_equal(publisher_publish(p, small_snapshot(1, 8192)), 0);
	pub = publisher_acquire(p);
	/* ask for every variant once */
	assert_int_equal(publication_body(pub, EXPO_TEXT, false, &r), 0);
	assert_int_equal(publication_body(pub, EXPO_TEXT, true, &r), 0);
	assert_int_equal(publication_body(pub, EXPO_OPENMETRICS, false, &r), 0);
	assert_int_equal(publication_body(pub, EXPO_OPENMETRICS, true, &r), 0);
	publication_release(pub);
	for (pid = 2; pid < 5; pid++) {
		assert_int_equal(publisher_publish(p, small_snapshot(pid, 8192 * pid)), 0);
		pub = publisher_acquire(p);
		check_variants(pub);
		publication_release(pub);
	}
	publisher_free(p);
}

/* publisher_last_ns is the monotonic time of the latest publish: read between the clock before
 * and after that publish, every time (a stale or made-up time falls outside). */
static void test_last_ns_is_the_time_of_the_latest_publish(void **state)
{
	struct publisher *p = publisher_new(1);
	uint32_t pid;

	(void)state;
	assert_int_equal(publisher_last_ns(p), 0);
	for (pid = 1; pid <= 3; pid++) {
		struct snapshot *s = small_snapshot(pid, 4096);
		uint64_t before, after, t;

		before = clock_monotonic_ns();
		assert_int_equal(publisher_publish(p, s), 0);
		after = clock_monotonic_ns();
		t = publisher_last_ns(p);
		assert_in_range(t, before, after);
		/* the next publish is at least a microsecond later, so a time kept from this one
		 * cannot pass as the next one's */
		while (clock_monotonic_ns() - after < 1000)
			;
	}
	publisher_free(p);
}

/* A publication may be released after its publisher is gone (its snapshot stays readable). */
static void test_release_after_publisher_free(void **state)
{
	struct publisher *p = publisher_new(1);
	struct publication *pub;

	(void)state;
	assert_int_equal(publisher_publish(p, small_snapshot(5, 4096)), 0);
	pub = publisher_acquire(p);
	publisher_free(p);
	assert_int_equal(publication_snapshot(pub)->procs[0].pid, 5);
	publication_release(pub);
}

/* 50 µs asleep. Not sched_yield(): under valgrind, which runs one thread at a time, a thread
 * that yields may take the CPU straight back, and spinning readers starved the publisher (21 of
 * 40 publications in 20 s once, under load). */
static void pause_briefly(void)
{
	nanosleep(&(struct timespec){ 0, 50000 }, NULL);
}

/* Readers acquire, read every variant and release while the collector publishes. The publisher
 * waits after each publish until every reader has read that publication (at most a few seconds
 * in all), so each reader is seen to read each of them while the next ones are published. */
enum { READERS = 3, PUBLISHES = 40, FIRST_PID = 1000 };

struct reader {
	struct publisher *p;
	atomic_bool *stop;
	atomic_uint last_pid; /* of the last publication read */
	unsigned distinct; /* how many different publications it read */
	bool bad;
};

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	unsigned i = 0, last = 0, pid;

	while (!atomic_load(rd->stop)) {
		struct publication *pub = publisher_acquire(rd->p);
		struct rendering r;
		const struct snapshot *s;
		char needle[32];

		if (!pub)
			continue;
		s = publication_snapshot(pub);
		snprintf(needle, sizeof(needle), "pid=\"%u\"", s->procs[0].pid);
		if (publication_body(pub, (enum expo_format)(i % 2), i % 4 >= 2, &r) < 0 || r.len == 0)
			rd->bad = true;
		/* the plain text names the snapshot's own process */
		if (publication_body(pub, EXPO_TEXT, false, &r) < 0 || !memmem(r.data, r.len, needle, strlen(needle)))
			rd->bad = true;
		pid = s->procs[0].pid;
		publication_release(pub);
		i++;
		if (pid != last) {
			last = pid;
			rd->distinct++;
			atomic_store(&rd->last_pid, last);
		} else {
			pause_briefly(); /* nothing new: let the publisher run */
		}
	}
	return NULL;
}

/* Waits until every reader has read the publication of `pid`, or until `deadline`. */
static bool readers_reached(struct reader *rd, uint32_t pid, uint64_t deadline)
{
	int i;

	for (i = 0; i < READERS; i++)
		while (atomic_load(&rd[i].last_pid) != pid) {
			if (clock_monotonic_ns() > deadline)
				return false;
			pause_briefly();
		}
	return true;
}

static void test_concurrent_readers_and_publisher(void **state)
{
	struct publisher *p = publisher_new(1);
	struct reader rd[READERS];
	pthread_t th[READERS];
	atomic_bool stop = false;
	uint64_t deadline = clock_monotonic_ns() + 30000000000u; /* 30 s: TSan and valgrind are slow */
	uint32_t pid;
	int i;

	(void)state;
	assert_int_equal(publisher_publish(p, small_snapshot(FIRST_PID, 4096)), 0);
	for (i = 0; i < READERS; i++) {
		rd[i] = (struct reader){ .p = p, .stop = &stop };
		atomic_init(&rd[i].last_pid, 0);
		assert_int_equal(pthread_create(&th[i], NULL, reader_main, &rd[i]), 0);
	}
	for (pid = FIRST_PID; pid < FIRST_PID + PUBLISHES; pid++) {
		if (pid > FIRST_PID)
			assert_int_equal(publisher_publish(p, small_snapshot(pid, 4096 * pid)), 0);
		if (!readers_reached(rd, pid, deadline))
			break;
	}
	atomic_store(&stop, true);
	for (i = 0; i < READERS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_false(rd[i].bad);
		/* each reader read every publication, the last one included */
		assert_int_equal(rd[i].distinct, PUBLISHES);
		assert_int_equal(atomic_load(&rd[i].last_pid), FIRST_PID + PUBLISHES - 1);
	}
	publisher_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acquire_before_first_publish_is_null),
		cmocka_unit_test(test_publish_then_acquire),
		cmocka_unit_test(test_held_publication_survives_newer_publishes),
		cmocka_unit_test(test_wanted_variants_are_ready_in_later_publications),
		cmocka_unit_test(test_last_ns_is_the_time_of_the_latest_publish),
		cmocka_unit_test(test_release_after_publisher_free),
		cmocka_unit_test(test_concurrent_readers_and_publisher),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
