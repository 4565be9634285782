/* clock.h — the time readings the daemon takes, one definition each.
 *
 * Monotonic time (cycle durations, intervals, the watchdog, the last publication's age) and
 * wall-clock time (timestamps, process ages against btime) in nanoseconds; the process's CPU
 * time (process_cpu_seconds_total) in microseconds, user plus system as getrusage(2) counts them.
 * clock_gettime() cannot fail for these clocks on Linux; getrusage(RUSAGE_SELF) neither, and
 * 0 is what the CPU time reads if it ever did.
 */
#ifndef PROCMEM_CLOCK_H
#define PROCMEM_CLOCK_H

#include <stdint.h>
#include <sys/resource.h>
#include <time.h>

static inline uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CLOCK_MONOTONIC, ns */
static inline uint64_t clock_monotonic_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* CLOCK_REALTIME, ns since the epoch */
static inline uint64_t clock_realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

/* This process's user + system CPU time, µs. */
static inline uint64_t clock_cpu_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
	       (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
}

#endif
