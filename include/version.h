/* version.h — the program's version: the Makefile's VERSION, passed as -DPROCMEM_VERSION;
 * "unknown" when built some other way. The one place the fallback is defined. */
#ifndef PROCMEM_VERSION_H
#define PROCMEM_VERSION_H

#ifndef PROCMEM_VERSION
#define PROCMEM_VERSION "unknown"
#endif

#endif
