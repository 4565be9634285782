/* notify.h — what systemd needs from the daemon, through libsystemd's sd-daemon.
 *
 * Readiness (READY=1 once the first cycle is published and the socket listens), a STATUS= line
 * for `systemctl status`, RELOADING=1/READY=1 around a reload, STOPPING=1, watchdog pings,
 * and the listening socket of socket activation. Outside systemd (no $NOTIFY_SOCKET, no
 * $LISTEN_FDS) every call is a harmless no-op.
 */
#ifndef PROCMEM_NOTIFY_H
#define PROCMEM_NOTIFY_H

#include <stdint.h>

/* The socket systemd passed: 1 and *ret_fd when there is exactly one listening stream socket,
 * 0 when none was passed, -EINVAL when there are several or it is not a listening stream
 * socket. Unsets $LISTEN_FDS so children do not inherit it. */
int notify_listen_fd(int *ret_fd);
/* The watchdog interval systemd asks for (WatchdogSec=), in ns; 0 when there is none. */
uint64_t notify_watchdog_ns(void);

void notify_ready(void);
void notify_reloading(void);
void notify_stopping(void);
void notify_watchdog(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
