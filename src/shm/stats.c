/*-------------------------------------------------------------------------
 *
 * stats.c
 *	  Counting what the pools do.
 *
 * Every counter of a pool is bumped here and nowhere else, and one reset
 * zeroes them all and records when (pg_stat_statements' stats_reset).
 * The views read a copy of the pool entry taken under the pool lock.
 *
 * Locking: the caller holds the lock of the pool that owns the PoolStats,
 * exclusively (see stats.h).
 *
 * src/shm/stats.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/timestamp.h"

#include "shm/stats.h"

/*
 * StatsCount
 *		Add one to a counter.  Caller holds the pool lock exclusively.
 */
void
StatsCount(PoolStats *stats, PoolCounter counter)
{
	Assert(counter >= 0 && counter < PGPOOL_NCOUNTERS);
	stats->counters[counter]++;
}

/*
 * StatsReset
 *		Zero every counter and record the time.  Caller holds the pool lock
 *		exclusively.
 */
void
StatsReset(PoolStats *stats)
{
	memset(stats->counters, 0, sizeof(stats->counters));
	stats->stats_reset = GetCurrentTimestamp();
}
