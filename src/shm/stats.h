/*-------------------------------------------------------------------------
 *
 * stats.h
 *	  Every statistic pgpool_ext keeps: one set per pool, one increment
 *	  function, one reset.
 *
 * A new counter is a PoolCounter value here and a StatsCount() call where
 * it happens; views read it from their copy of the pool entry.
 *
 * Locking: a PoolStats lives in its PoolEntry and is protected by that
 * pool's lock, held exclusively to count or reset and at least shared to
 * read.
 *
 * src/shm/stats.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_STATS_H
#define PGPOOL_STATS_H

#include "datatype/timestamp.h"

typedef enum PoolCounter
{
	STAT_ACQUIRES = 0,			/* handles granted */
	STAT_WAITS,					/* acquires that had to queue */
	STAT_TIMEOUTS,				/* acquires that gave up waiting */
	STAT_CONNECTS,				/* connections established */
	STAT_CONNECT_FAILURES,		/* connection attempts that failed */
	STAT_CLOSES					/* connections closed, for any reason */
} PoolCounter;

#define PGPOOL_NCOUNTERS	(STAT_CLOSES + 1)

typedef struct PoolStats
{
	uint64		counters[PGPOOL_NCOUNTERS];
	TimestampTz stats_reset;	/* when the counters last started at 0 */
} PoolStats;

extern void StatsCount(PoolStats *stats, PoolCounter counter);
extern void StatsReset(PoolStats *stats);

#endif							/* PGPOOL_STATS_H */
