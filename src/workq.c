/* workq.c — one worker thread and a bounded FIFO of jobs; see workq.h.
 *
 * A singly linked list with a tail pointer, one mutex and one condition variable. The worker
 * holds the mutex only to take a job off the list, never while it runs one, so a submit waits
 * for no job.
 */
#include "workq.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct workq_job {
	struct workq_job *next;
	workq_fn fn;
	void *arg;
};

struct workq {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct workq_job *head, **tail; /* guarded by lock */
	unsigned queued, max;
	bool stopping;
};

/* The first waiting job, off the list; NULL when there is none. Called with q->lock held. */
static struct workq_job *take(struct workq *q)
{
	struct workq_job *j = q->head;

	if (!j)
		return NULL;
	q->head = j->next;
	if (!q->head)
		q->tail = &q->head;
	q->queued--;
	return j;
}

static void *worker_main(void *arg)
{
	struct workq *q = arg;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		struct workq_job *j;

		while (!q->head && !q->stopping)
			pthread_cond_wait(&q->wake, &q->lock);
		if (q->stopping)
			break;
		j = take(q);
		pthread_mutex_unlock(&q->lock);
		j->fn(j->arg, false);
		free(j);
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

int workq_new(unsigned max, struct workq **ret)
{
	struct workq *q;
	int r;

	assert(max > 0 && ret);
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->max = max;
	q->tail = &q->head;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->wake, NULL);
	r = pthread_create(&q->thread, NULL, worker_main, q);
	if (r != 0) {
		pthread_cond_destroy(&q->wake);
		pthread_mutex_destroy(&q->lock);
		free(q);
		return -r;
	}
	*ret = q;
	return 0;
}

int workq_submit(struct workq *q, workq_fn fn, void *arg)
{
	struct workq_job *j;
	int r = 0;

	assert(q && fn);
	j = malloc(sizeof(*j));
	if (!j)
		return -ENOMEM;
	*j = (struct workq_job){ .fn = fn, .arg = arg };
	pthread_mutex_lock(&q->lock);
	if (q->stopping)
		r = -ESHUTDOWN;
	else if (q->queued >= q->max)
		r = -EAGAIN;
	else {
		*q->tail = j;
		q->tail = &j->next;
		q->queued++;
		pthread_cond_signal(&q->wake);
	}
	pthread_mutex_unlock(&q->lock);
	if (r < 0)
		free(j);
	return r;
}

void workq_free(struct workq *q)
{
	struct workq_job *j;

	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	/* the worker is gone: nobody else touches the list */
	while ((j = take(q))) {
		j->fn(j->arg, true);
		free(j);
	}
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->lock);
	free(q);
}
