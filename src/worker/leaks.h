/*-------------------------------------------------------------------------
 *
 * leaks.h
 *	  The pool worker's leak detection: report and reclaim handles held
 *	  too long.
 *
 * src/worker/leaks.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_WORKER_LEAKS_H
#define PGPOOL_WORKER_LEAKS_H

#include "datatype/timestamp.h"

extern void LeaksCheck(TimestampTz now);
extern long LeaksTimeout(void);

#endif							/* PGPOOL_WORKER_LEAKS_H */
