/* test_workq.c — the worker queue (workq.h): jobs run on the worker, one at a time, in the
 * order queued; the bound refuses with -EAGAIN and calls nothing back; freeing with jobs
 * waiting calls each of them back once, cancelled, on the freeing thread; every job is called
 * exactly once.
 *
 * The worker is held on a gate (a job that waits for the test to open it), so what is queued
 * and what is running at each step is known, not raced for. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "workq.h"

#define NJOBS 8

struct log {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool gate_open, gate_entered;
	int order[64];	      /* job numbers, in the order called */
	bool cancelled[64];   /* by job number */
	pthread_t thread[64]; /* by job number: which thread called it back */
	int calls[64];	      /* by job number */
	int n;
};

struct job {
	struct log *log;
	int number;
};

static void record(void *arg, bool cancelled)
{
	struct job *j = arg;
	struct log *l = j->log;

	pthread_mutex_lock(&l->lock);
	l->order[l->n++] = j->number;
	l->cancelled[j->number] = cancelled;
	l->thread[j->number] = pthread_self();
	l->calls[j->number]++;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
}

/* Job 0: says it runs, then waits until the test opens the gate. */
static void gate(void *arg, bool cancelled)
{
	struct job *j = arg;
	struct log *l = j->log;

	pthread_mutex_lock(&l->lock);
	l->gate_entered = true;
	pthread_cond_broadcast(&l->cond);
	while (!l->gate_open)
		pthread_cond_wait(&l->cond, &l->lock);
	pthread_mutex_unlock(&l->lock);
	record(arg, cancelled);
}

static void wait_gate_entered(struct log *l)
{
	pthread_mutex_lock(&l->lock);
	while (!l->gate_entered)
		pthread_cond_wait(&l->cond, &l->lock);
	pthread_mutex_unlock(&l->lock);
}

static void open_gate(struct log *l)
{
	pthread_mutex_lock(&l->lock);
	l->gate_open = true;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
}

static void wait_calls(struct log *l, int n)
{
	pthread_mutex_lock(&l->lock);
	while (l->n < n)
		pthread_cond_wait(&l->cond, &l->lock);
	pthread_mutex_unlock(&l->lock);
}

static void init_log(struct log *l, struct job *jobs, int n)
{
	*l = (struct log){ .n = 0 };
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->cond, NULL);
	for (int i = 0; i < n; i++)
		jobs[i] = (struct job){ l, i };
}

static void done_log(struct log *l)
{
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->lock);
}

static void test_jobs_run_on_the_worker_in_order_and_the_bound_refuses(void **state)
{
	struct job jobs[NJOBS + 2];
	struct workq *q;
	struct log l;

	(void)state;
	init_log(&l, jobs, NJOBS + 2);
	assert_int_equal(workq_new(NJOBS, &q), 0);
	assert_int_equal(workq_submit(q, gate, &jobs[0]), 0);
	wait_gate_entered(&l); /* job 0 is running: it does not count against the bound */
	for (int i = 1; i <= NJOBS; i++)
		assert_int_equal(workq_submit(q, record, &jobs[i]), 0);
	assert_int_equal(workq_submit(q, record, &jobs[NJOBS + 1]), -EAGAIN);
	open_gate(&l);
	wait_calls(&l, NJOBS + 1);
	for (int i = 0; i <= NJOBS; i++) {
		assert_int_equal(l.order[i], i);
		assert_int_equal(l.calls[i], 1);
		assert_false(l.cancelled[i]);
		assert_false(pthread_equal(l.thread[i], pthread_self()));
	}
	/* the refused one was never called; room again once the queue drained */
	assert_int_equal(l.calls[NJOBS + 1], 0);
	assert_int_equal(workq_submit(q, record, &jobs[NJOBS + 1]), 0);
	wait_calls(&l, NJOBS + 2);
	assert_false(l.cancelled[NJOBS + 1]);
	workq_free(q);
	assert_int_equal(l.n, NJOBS + 2);
	done_log(&l);
}

static void *free_queue(void *arg)
{
	workq_free(arg);
	return NULL;
}

static void test_free_completes_the_running_job_and_cancels_the_waiting_ones(void **state)
{
	struct job jobs[6];
	struct workq *q;
	pthread_t freer;
	struct log l;
	int r;

	(void)state;
	init_log(&l, jobs, 6);
	assert_int_equal(workq_new(4, &q), 0);
	assert_int_equal(workq_submit(q, gate, &jobs[0]), 0);
	wait_gate_entered(&l);
	for (int i = 1; i <= 4; i++)
		assert_int_equal(workq_submit(q, record, &jobs[i]), 0);
	/* another thread frees the queue; it waits for job 0, held on the gate, so q stays valid
	 * here until the gate opens. The queue is full: a submit says -EAGAIN until the stop is
	 * under way, then -ESHUTDOWN, and queues nothing either way */
	assert_int_equal(pthread_create(&freer, NULL, free_queue, q), 0);
	while ((r = workq_submit(q, record, &jobs[5])) == -EAGAIN)
		sched_yield();
	assert_int_equal(r, -ESHUTDOWN);
	open_gate(&l);
	assert_int_equal(pthread_join(freer, NULL), 0);
	/* job 0 completed on the worker; 1 to 4 were cancelled, in order, on the freeing thread */
	assert_int_equal(l.n, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(l.order[i], i);
		assert_int_equal(l.calls[i], 1);
		assert_int_equal(l.cancelled[i], i > 0);
		if (i > 0)
			assert_true(pthread_equal(l.thread[i], freer));
	}
	assert_int_equal(l.calls[5], 0);
	assert_false(pthread_equal(l.thread[0], freer));
	assert_false(pthread_equal(l.thread[0], pthread_self()));
	done_log(&l);
}

static void test_free_accepts_null_and_an_idle_queue(void **state)
{
	struct workq *q;

	(void)state;
	workq_free(NULL);
	assert_int_equal(workq_new(1, &q), 0);
	workq_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobs_run_on_the_worker_in_order_and_the_bound_refuses),
		cmocka_unit_test(test_free_completes_the_running_job_and_cancels_the_waiting_ones),
		cmocka_unit_test(test_free_accepts_null_and_an_idle_queue),
	};

	return cmocka_run_group_tests_name("workq", tests, NULL, NULL);
}
