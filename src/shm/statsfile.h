/*-------------------------------------------------------------------------
 *
 * statsfile.h
 *	  Statistics kept across a clean restart: saved by the postmaster at
 *	  shutdown, applied by the pool worker's first load of the pools.
 *
 * What is saved: every live pool's PoolStats (counters, stats_reset) and
 * PoolUsage (the usage_interval ring), and the PartitionStats (latency
 * histograms and outcome counts) and PartitionUsage (time-weighted gauges
 * and events) of each of its partitions, keyed by pool name, the
 * definition's created_at and the partition key.  The leak history is not saved (statsfile.c says why).
 *
 * The call sites, in the order they run:
 *
 *	 StatsFileStartup	postmaster, shmem_startup_hook: a file left by a
 *						clean shutdown is pending; after a crash or an
 *						immediate shutdown it is removed.  Registers the
 *						save at postmaster exit.
 *	 StatsFileLoad		pool worker, before ApplyDefinitions takes its
 *						locks: reads and checks a pending file into local
 *						memory.
 *	 StatsFileApplyLocked	pool worker, at the end of ApplyDefinitions:
 *						copies what matches into the pool and partition
 *						entries just put into use, once per shared-memory
 *						lifetime.
 *	 StatsFileDone		pool worker, after ApplyDefinitions: removes the
 *						applied file and frees the local copy.
 *
 * Locking: see statsfile.c.
 *
 * src/shm/statsfile.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_STATSFILE_H
#define PGPOOL_STATSFILE_H

/* The file, relative to the data directory (pg_stat_statements' place). */
#define PGPOOL_STATS_FILE		"pg_stat/pgpool_ext.stat"
#define PGPOOL_STATS_FILE_TMP	PGPOOL_STATS_FILE ".tmp"

extern void StatsFileStartup(void);
extern void StatsFileLoad(void);
extern void StatsFileApplyLocked(void);
extern void StatsFileDone(void);

#endif							/* PGPOOL_STATSFILE_H */
