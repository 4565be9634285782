/* workq.h — one worker thread and a bounded FIFO of jobs.
 *
 * For work too slow for the caller's thread: the caller hands a job over and goes on, the
 * worker runs the jobs one at a time in the order they came. The queue is bounded, so a flood of
 * work is refused at once (-EAGAIN) instead of piling up. Its one user is the basic auth verifier
 * (auth.h), which keeps bcrypt off the HTTP server's thread.
 *
 * Every job queued is called back exactly once: on the worker (cancelled false), or, if it is
 * still waiting when the queue is freed, on the thread that frees it (cancelled true).
 */
#ifndef PROCMEM_WORKQ_H
#define PROCMEM_WORKQ_H

#include <stdbool.h>

struct workq;

/* A job's function; arg is the job's, which it owns from the call on. */
typedef void (*workq_fn)(void *arg, bool cancelled);

/* Starts the worker; at most max jobs wait at once (the one running not counted). 0, -ENOMEM,
 * or pthread_create()'s error, negated. */
int workq_new(unsigned max, struct workq **ret);
/* Queues fn(arg, ...). 0: it will be called exactly once (see above). -EAGAIN: max jobs wait
 * already; -ESHUTDOWN: the queue is being freed; -ENOMEM. fn is not called when this fails. */
int workq_submit(struct workq *q, workq_fn fn, void *arg);
/* Stops the worker: the job running completes, the waiting ones are called with cancelled true,
 * in order, on this thread; then frees. Accepts NULL. */
void workq_free(struct workq *q);

#endif
