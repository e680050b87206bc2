/*-------------------------------------------------------------------------
 *
 * clock.h
 *	  The coarse clock of slot and usage bookkeeping.
 *
 * CoarseClock() is the kernel's coarse real-time clock, up to one clock
 * tick (4 ms here, 10 ms at HZ=100) behind and several times cheaper to
 * read than GetCurrentTimestamp(), which acquire and release would
 * otherwise each pay for.  Every slot time (created_at, acquired_at,
 * last_used_at, through PoolSlotClock) and every usage time (shm/usage.c)
 * comes from it, so they stay ordered among themselves; against other
 * clocks they may be a tick early.
 *
 * Locking: none.
 *
 * src/common/clock.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_CLOCK_H
#define PGPOOL_CLOCK_H

#include <time.h>

#include "datatype/timestamp.h"
#include "utils/timestamp.h"

/* Now, by the coarse clock (GetCurrentTimestamp() where there is none). */
static inline TimestampTz
CoarseClock(void)
{
#ifdef CLOCK_REALTIME_COARSE
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME_COARSE, &ts) == 0)
		return (TimestampTz) (ts.tv_sec -
							  (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY) *
			USECS_PER_SEC + ts.tv_nsec / 1000;
#endif
	return GetCurrentTimestamp();
}

#endif							/* PGPOOL_CLOCK_H */
