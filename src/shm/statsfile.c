/*-------------------------------------------------------------------------
 *
 * statsfile.c
 *	  Statistics kept across a clean restart, as pg_stat_statements keeps
 *	  its own: written at shutdown, read back at the next start.
 *
 * Saving.  The postmaster registers statsfile_shutdown with on_shmem_exit;
 * at its exit every other process is gone, so it reads the pool and
 * partition entries without locks.  It saves nothing when it exits with a
 * nonzero code (a crash, or the crash-restart cycle's shmem_exit(1)), nor
 * when the control file does not say "shut down" (an immediate stop: the
 * shutdown checkpoint never ran), nor while a saved file was never applied
 * (the worker never loaded the pools: that file stays as it is).  The
 * control file matters: after "pg_ctl stop -m immediate" the PostgreSQL 15
 * postmaster exits with code 0 too (TAP 490 sees the LOG line), so the
 * exit code alone, pg_stat_statements' test, would save then.  The file is
 * written to a temporary name, then durable_rename()d into place.
 *
 * Discarding.  PostgreSQL 15 drops its own statistics when the startup
 * process finds that the server did not shut down cleanly
 * (pgstat_discard_stats instead of pgstat_restore_stats).  We make the
 * same decision from the same fact: at shared-memory creation the
 * postmaster reads the control file; unless its state is "shut down" (or
 * "shut down in recovery") the file is removed and a LOG line says so.
 * The crash-restart cycle creates shared memory again, finds the state "in
 * production", and so never loads a file either.
 *
 * Loading.  The pools are put into use by the pool worker's first load of
 * the definitions (worker/apply.c), not at postmaster start, so the
 * postmaster only marks the file pending (PoolShared->stats_pending).  The
 * worker reads and checks it into its own memory before ApplyDefinitions
 * takes the global lock, and at the end of that first ApplyDefinitions
 * copies each record into the entry it matches: a pool by name and
 * PoolDefinition.created_at (a pool dropped and created again under the
 * same name is another pool and starts from zero), a partition by its
 * pool and key; the partitions are made there and then
 * (PoolCreatePartitionLocked), as a backend would make them on first use.
 * Records that match nothing (a pool since dropped, a pool over
 * max_pools, a partition table now too small) are counted in a LOG line
 * and dropped.  stats_pending goes false in the same lock hold, so a
 * restarted worker, which finds the entries still in use, never applies
 * anything twice; then the file is removed.
 *
 * The file: a header (magic, format version, the size of each saved
 * struct and the histogram scheme, so that a file of another build is
 * refused), the pool records (key, PoolStats, PoolUsage), the partition
 * records (key, PartitionStats, PartitionUsage), and a CRC-32C of
 * everything before it.  A short, garbled or foreign file is ignored with
 * a LOG line and removed: the statistics start from zero and the server
 * runs on.  A change to the meaning of a saved struct that keeps its size
 * must raise STATSFILE_VERSION.  The structs are
 * written as they lie in memory (native byte order, as pg_stat_statements
 * does): the file belongs to this server only.  The recent-window rings
 * are tagged with absolute minutes and the usage intervals carry their
 * start, so what was saved ages out of the 5min window and of the 168
 * intervals by itself.  Of the usage, the run-time state (current gauge
 * values, the instant accounted up to) is the new entry's, not the saved
 * one: the time the server was down is in no window
 * (statsfile_pool_usage).  At about 330 kB a pool and 38 kB a partition,
 * the file is about 8 MB at the default max_pools and max_partitions when
 * every entry is in use.
 *
 * Not saved: the leak history (shm/leaks.h).  Its events describe handles,
 * holder pids and statements of processes that no longer exist, an open
 * event could never be closed, and the acquiring statements would be
 * written to disk; the server log keeps every leak WARNING and its
 * "released" LOG line.
 *
 * XXX With 64-bit atomics emulated (PG_HAVE_ATOMIC_U64_SIMULATION) a
 * pg_atomic_uint64 holds a lock as well as its value, and cannot be
 * copied as bytes: nothing is saved then.
 *
 * Locking: the postmaster reads shared memory at exit without locks (no
 * other process is left).  The worker applies under the global lock held
 * exclusively (by ApplyDefinitions), taking each pool's lock exclusively
 * to write its entries; no backend can see a pool or partition entry made
 * in that lock hold before the copy is complete.  stats_pending is set by
 * the postmaster at creation and cleared by the worker under the global
 * lock.
 *
 * src/shm/statsfile.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "catalog/pg_control.h"
#include "common/controldata_utils.h"
#include "miscadmin.h"
#include "port/pg_crc32c.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "shm/pool.h"
#include "shm/statsfile.h"
#include "shm/usage.h"

#define STATSFILE_MAGIC		0x50505354	/* "PPST" */
#define STATSFILE_VERSION	1

/* The sizes a file must have been written with (StatsFileHeader.sizes). */
typedef enum StatsFileSize
{
	SF_SIZE_KEY = 0,
	SF_SIZE_POOL_STATS,
	SF_SIZE_PARTITION_STATS,
	SF_SIZE_POOL_USAGE,
	SF_SIZE_PARTITION_USAGE,
	SF_SIZE_HIST_BUCKETS,
	SF_SIZE_RING_SLOTS
} StatsFileSize;

#define SF_NSIZES	(SF_SIZE_RING_SLOTS + 1)

typedef struct StatsFileHeader
{
	uint32		magic;
	uint32		version;
	uint32		sizes[SF_NSIZES];	/* of this build; see statsfile_header */
	uint32		npools;			/* pool records that follow */
	uint32		nparts;			/* partition records after them */
	TimestampTz saved_at;
} StatsFileHeader;

/* What a record belongs to. */
typedef struct StatsFileKey
{
	char		pool[PGPOOL_NAME_LEN];
	int64		created_at;		/* PoolDefinition.created_at */
	char		partition[PGPOOL_NAME_LEN]; /* "" in a pool record */
} StatsFileKey;

/* Record sizes: a key, then the saved structs, byte for byte. */
#define SF_POOL_RECORD \
	(sizeof(StatsFileKey) + sizeof(PoolStats) + sizeof(PoolUsage))
#define SF_PART_RECORD \
	(sizeof(StatsFileKey) + sizeof(PartitionStats) + sizeof(PartitionUsage))

/* A file being written, and the CRC of what was written so far. */
typedef struct StatsFileWriter
{
	FILE	   *file;
	pg_crc32c	crc;
	bool		ok;
} StatsFileWriter;

/* The pool worker's copy of a pending file (TopMemoryContext). */
static char *loaded = NULL;
static bool read_done = false;	/* read (or refused) by this process */
static bool applied = false;	/* stats_pending was cleared by this process */

static bool statsfile_clean_shutdown(void);
static void statsfile_shutdown(int code, Datum arg);
static void statsfile_header(StatsFileHeader *hdr);
static bool statsfile_pool_saved(int pool);
static void statsfile_write(void);
static void statsfile_put(StatsFileWriter *w, const void *data, Size len);
static void statsfile_put_key(StatsFileWriter *w, int pool, const char *part);
static char *statsfile_read(void);
static const char *statsfile_check(const char *buf, Size len);
static int	statsfile_match(const char *rec, StatsFileKey *key);
static bool statsfile_pool_usage(PoolUsage *dst, const char *saved);
static void statsfile_partition_usage(PartitionUsage *dst, const char *saved);
static void statsfile_apply(const char *buf, int *npools, int *nparts,
							int *dropped);

/*
 * statsfile_clean_shutdown
 *		Did the server last stop cleanly?  What the control file says (the
 *		test of StartupXLOG before pgstat_restore_stats).
 */
static bool
statsfile_clean_shutdown(void)
{
	ControlFileData *cf;
	bool		crc_ok;
	bool		clean;

	cf = get_controlfile(DataDir, &crc_ok);
	clean = crc_ok && (cf->state == DB_SHUTDOWNED ||
					   cf->state == DB_SHUTDOWNED_IN_RECOVERY);
	pfree(cf);
	return clean;
}

/*
 * StatsFileStartup
 *		Postmaster (and single-user mode), at shared-memory creation: mark
 *		a file left by a clean shutdown pending, remove one left otherwise,
 *		and register the save at exit.  Nothing in other processes.
 */
void
StatsFileStartup(void)
{
	struct stat st;

	if (IsUnderPostmaster)
		return;
	/* the crash-restart cycle ran the old registration with code 1 */
	on_shmem_exit(statsfile_shutdown, (Datum) 0);
	PoolShared->stats_pending = false;
	if (stat(PGPOOL_STATS_FILE, &st) != 0)
		return;
	if (statsfile_clean_shutdown())
	{
		PoolShared->stats_pending = true;
		return;
	}
	ereport(LOG,
			(errmsg("pgpool_ext: discarding the saved pool statistics"),
			 errdetail("The server did not shut down cleanly.")));
	if (unlink(PGPOOL_STATS_FILE) != 0)
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not remove file \"%s\": %m", PGPOOL_STATS_FILE)));
}

/*
 * statsfile_shutdown
 *		on_shmem_exit of the postmaster: save, after a clean shutdown only.
 */
static void
statsfile_shutdown(int code, Datum arg)
{
	if (code != 0 || PoolShared == NULL)
		return;
	if (PoolShared->stats_pending)
		return;					/* never applied: the old file stays */
#ifdef PG_HAVE_ATOMIC_U64_SIMULATION
	return;
#endif
	if (!statsfile_clean_shutdown())
	{
		ereport(LOG,
				(errmsg("pgpool_ext: pool statistics not saved"),
				 errdetail("The server did not shut down cleanly.")));
		return;
	}
	statsfile_write();
}

/* The header of a file of this build, counts left at zero. */
static void
statsfile_header(StatsFileHeader *hdr)
{
	memset(hdr, 0, sizeof(StatsFileHeader));
	hdr->magic = STATSFILE_MAGIC;
	hdr->version = STATSFILE_VERSION;
	hdr->sizes[SF_SIZE_KEY] = sizeof(StatsFileKey);
	hdr->sizes[SF_SIZE_POOL_STATS] = sizeof(PoolStats);
	hdr->sizes[SF_SIZE_PARTITION_STATS] = sizeof(PartitionStats);
	hdr->sizes[SF_SIZE_POOL_USAGE] = sizeof(PoolUsage);
	hdr->sizes[SF_SIZE_PARTITION_USAGE] = sizeof(PartitionUsage);
	hdr->sizes[SF_SIZE_HIST_BUCKETS] = HIST_NBUCKETS;
	hdr->sizes[SF_SIZE_RING_SLOTS] = HIST_RING_SLOTS;
}

/* Is pool entry p saved (a live pool)? */
static bool
statsfile_pool_saved(int pool)
{
	return pool >= 0 && pool < PoolShared->npools &&
		PoolShared->pools[pool].in_use && !PoolShared->pools[pool].dropping;
}

/* Append data to the file and to its CRC; a failure is remembered. */
static void
statsfile_put(StatsFileWriter *w, const void *data, Size len)
{
	if (!w->ok)
		return;
	COMP_CRC32C(w->crc, data, len);
	if (fwrite(data, 1, len, w->file) != len)
		w->ok = false;
}

/* Append the key of pool entry p and partition key part ("" for none). */
static void
statsfile_put_key(StatsFileWriter *w, int pool, const char *part)
{
	StatsFileKey key;

	memset(&key, 0, sizeof(key));
	strlcpy(key.pool, PoolShared->pools[pool].name, PGPOOL_NAME_LEN);
	key.created_at = PoolShared->pools[pool].def.created_at;
	strlcpy(key.partition, part, PGPOOL_NAME_LEN);
	statsfile_put(w, &key, sizeof(key));
}

/*
 * statsfile_write
 *		Write every live pool's statistics and its partitions', then move
 *		the file into place; nothing when no pool is live.  Failures are
 *		logged, never raised.
 */
static void
statsfile_write(void)
{
	StatsFileWriter w;
	StatsFileHeader hdr;
	int			i;

	statsfile_header(&hdr);
	hdr.saved_at = GetCurrentTimestamp();
	for (i = 0; i < PoolShared->npools; i++)
		hdr.npools += statsfile_pool_saved(i);
	for (i = 0; i < PoolShared->npartitions; i++)
		hdr.nparts += (PoolShared->partitions[i].in_use &&
					   statsfile_pool_saved(PoolShared->partitions[i].pool));
	if (hdr.npools == 0)
		return;					/* no pool (single-user mode, say): no file */

	w.file = AllocateFile(PGPOOL_STATS_FILE_TMP, PG_BINARY_W);
	if (w.file == NULL)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for writing: %m",
						PGPOOL_STATS_FILE_TMP)));
		return;
	}
	INIT_CRC32C(w.crc);
	w.ok = true;
	statsfile_put(&w, &hdr, sizeof(hdr));
	for (i = 0; i < PoolShared->npools; i++)
	{
		if (!statsfile_pool_saved(i))
			continue;
		statsfile_put_key(&w, i, "");
		statsfile_put(&w, &PoolShared->pools[i].stats, sizeof(PoolStats));
		statsfile_put(&w, PoolPoolUsage(i), sizeof(PoolUsage));
	}
	for (i = 0; i < PoolShared->npartitions; i++)
	{
		PartitionEntry *part = &PoolShared->partitions[i];

		if (!part->in_use || !statsfile_pool_saved(part->pool))
			continue;
		statsfile_put_key(&w, part->pool, part->key);
		statsfile_put(&w, PoolPartitionStats(i), sizeof(PartitionStats));
		statsfile_put(&w, PoolPartitionUsage(i), sizeof(PartitionUsage));
	}
	FIN_CRC32C(w.crc);
	if (w.ok && fwrite(&w.crc, 1, sizeof(w.crc), w.file) != sizeof(w.crc))
		w.ok = false;
	if (FreeFile(w.file) != 0)
		w.ok = false;
	if (!w.ok)
	{
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not write file \"%s\": %m", PGPOOL_STATS_FILE_TMP)));
		(void) unlink(PGPOOL_STATS_FILE_TMP);
		return;
	}
	if (durable_rename(PGPOOL_STATS_FILE_TMP, PGPOOL_STATS_FILE, LOG) != 0)
		(void) unlink(PGPOOL_STATS_FILE_TMP);
}

/*
 * StatsFileLoad
 *		Pool worker, before ApplyDefinitions takes its locks: while a file
 *		is pending, read and check it into local memory, once (a load put
 *		off or failed before the file is applied keeps the copy, or the
 *		refusal, for the next try).
 */
void
StatsFileLoad(void)
{
	if (!PoolShared->stats_pending || read_done)
		return;
	loaded = statsfile_read();
	read_done = true;
}

/*
 * statsfile_read
 *		The whole file, checked, in TopMemoryContext; NULL when there is
 *		none or it is refused (with a LOG line saying why).
 */
static char *
statsfile_read(void)
{
	FILE	   *file;
	struct stat st;
	char	   *buf = NULL;
	const char *problem = NULL;

	file = AllocateFile(PGPOOL_STATS_FILE, PG_BINARY_R);
	if (file == NULL)
	{
		if (errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not open file \"%s\": %m", PGPOOL_STATS_FILE)));
		return NULL;
	}
	if (fstat(fileno(file), &st) != 0)
		problem = "The file could not be examined.";
	else
	{
		buf = MemoryContextAllocExtended(TopMemoryContext,
										 Max(st.st_size, 1),
										 MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
		if (buf == NULL)
			problem = "There is not enough memory to read it.";
		else if (fread(buf, 1, st.st_size, file) != (size_t) st.st_size)
			problem = "The file could not be read.";
		else
			problem = statsfile_check(buf, st.st_size);
	}
	FreeFile(file);
	if (problem == NULL)
		return buf;
	ereport(LOG,
			(errmsg("pgpool_ext: ignoring the saved pool statistics in \"%s\"",
					PGPOOL_STATS_FILE),
			 errdetail_internal("%s", problem)));
	if (buf)
		pfree(buf);
	return NULL;
}

/*
 * statsfile_check
 *		What is wrong with a file's contents, or NULL if nothing is.
 */
static const char *
statsfile_check(const char *buf, Size len)
{
	StatsFileHeader hdr;
	StatsFileHeader mine;
	pg_crc32c	crc;
	pg_crc32c	stored;
	uint64		want;

	if (len < sizeof(hdr) + sizeof(crc))
		return "The file is too short.";
	memcpy(&hdr, buf, sizeof(hdr));
	statsfile_header(&mine);
	if (hdr.magic != mine.magic)
		return "It is not a pgpool_ext statistics file.";
	if (hdr.version != mine.version ||
		memcmp(hdr.sizes, mine.sizes, sizeof(mine.sizes)) != 0)
		return "It was written by another version or build of pgpool_ext.";
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, buf, len - sizeof(crc));
	FIN_CRC32C(crc);
	memcpy(&stored, buf + len - sizeof(crc), sizeof(crc));
	if (!EQ_CRC32C(crc, stored))
		return "Its checksum does not match its contents.";
	want = sizeof(hdr) + (uint64) hdr.npools * SF_POOL_RECORD +
		(uint64) hdr.nparts * SF_PART_RECORD + sizeof(crc);
	if (want != len)
		return "Its length does not match its header.";
	return NULL;
}

/*
 * statsfile_match
 *		Copy the key of the record at rec into *key; the index of the live
 *		pool it belongs to (same name, same created_at), or -1.  Caller
 *		holds the global lock.
 */
static int
statsfile_match(const char *rec, StatsFileKey *key)
{
	int			pool;

	memcpy(key, rec, sizeof(StatsFileKey));
	key->pool[PGPOOL_NAME_LEN - 1] = '\0';
	key->partition[PGPOOL_NAME_LEN - 1] = '\0';
	pool = PoolFindByName(key->pool);
	if (pool >= 0 && PoolShared->pools[pool].def.created_at != key->created_at)
		pool = -1;
	return pool;
}

/*
 * statsfile_pool_usage / statsfile_partition_usage
 *		Copy a saved PoolUsage (PartitionUsage) over the one of an entry just
 *		put into use, keeping what the entry's present says: the current
 *		gauge values (cur) and the instant the areas are accounted up to
 *		(last).  The windows (totals, peaks, the minute ring, the interval
 *		ring and its wait histograms) are the saved ones, so the time the
 *		server was down is in none of them: an interval that spans the
 *		restart has only its time tracked in its elapsed, and no interval
 *		is begun for the time in between.  A pool keeps its saved interval
 *		width: if pgpool_ext.usage_interval is now another, the janitor's
 *		next UsageRotate begins a new interval, as after a reload.  A saved
 *		pool whose ring head or interval width is out of range (memory
 *		damaged before the save: the CRC cannot tell) is refused: false,
 *		and the entry is left as it was.  Caller holds the pool lock
 *		exclusively.
 */
static bool
statsfile_pool_usage(PoolUsage *dst, const char *saved)
{
	TimestampTz last = dst->last;
	int32		cur[USAGE_NGAUGES];
	int32		head;
	int32		width_s;

	/* what is used as an index or a divisor must be in range */
	memcpy(&head, saved + offsetof(PoolUsage, head), sizeof(head));
	memcpy(&width_s, saved + offsetof(PoolUsage, width_s), sizeof(width_s));
	if (head < 0 || head >= USAGE_NINTERVALS || width_s < 0 ||
		width_s > SECS_PER_DAY)
		return false;
	memcpy(cur, dst->cur, sizeof(cur));
	memcpy(dst, saved, sizeof(PoolUsage));
	dst->last = last;
	memcpy(dst->cur, cur, sizeof(cur));
	return true;
}

static void
statsfile_partition_usage(PartitionUsage *dst, const char *saved)
{
	TimestampTz last = dst->last;
	int32		cur[USAGE_NGAUGES];

	memcpy(cur, dst->cur, sizeof(cur));
	memcpy(dst, saved, sizeof(PartitionUsage));
	dst->last = last;
	memcpy(dst->cur, cur, sizeof(cur));
}

/*
 * statsfile_apply
 *		Copy every record of a checked file into the entry it matches,
 *		making partitions as needed; count the pool and partition records
 *		applied and those that match nothing.  Caller holds the global lock
 *		exclusively.
 */
static void
statsfile_apply(const char *buf, int *npools, int *nparts, int *dropped)
{
	StatsFileHeader hdr;
	const char *rec = buf + sizeof(hdr);
	StatsFileKey key;
	uint32		i;

	memcpy(&hdr, buf, sizeof(hdr));
	for (i = 0; i < hdr.npools; i++, rec += SF_POOL_RECORD)
	{
		int			pool = statsfile_match(rec, &key);

		if (pool < 0)
		{
			(*dropped)++;
			continue;
		}
		LWLockAcquire(PoolLock(pool), LW_EXCLUSIVE);
		if (!statsfile_pool_usage(PoolPoolUsage(pool),
								  rec + sizeof(key) + sizeof(PoolStats)))
		{
			LWLockRelease(PoolLock(pool));
			(*dropped)++;
			continue;
		}
		memcpy(&PoolShared->pools[pool].stats, rec + sizeof(key),
			   sizeof(PoolStats));
		LWLockRelease(PoolLock(pool));
		(*npools)++;
	}
	for (i = 0; i < hdr.nparts; i++, rec += SF_PART_RECORD)
	{
		int			pool = statsfile_match(rec, &key);
		int			part = -1;

		if (pool >= 0)
			part = PoolCreatePartitionLocked(pool, key.partition);
		if (part < 0)
		{
			(*dropped)++;
			continue;
		}
		LWLockAcquire(PoolLock(pool), LW_EXCLUSIVE);
		memcpy(PoolPartitionStats(part), rec + sizeof(key),
			   sizeof(PartitionStats));
		statsfile_partition_usage(PoolPartitionUsage(part),
								  rec + sizeof(key) + sizeof(PartitionStats));
		LWLockRelease(PoolLock(pool));
		(*nparts)++;
	}
}

/*
 * StatsFileApplyLocked
 *		Pool worker, at the end of its first ApplyDefinitions in this
 *		shared-memory lifetime: apply the file read by StatsFileLoad, if
 *		any, and clear stats_pending.  Caller holds the global lock
 *		exclusively.
 */
void
StatsFileApplyLocked(void)
{
	StatsFileHeader hdr;
	int			npools = 0;
	int			nparts = 0;
	int			dropped = 0;

	Assert(LWLockHeldByMeInMode(&PoolShared->lock, LW_EXCLUSIVE));
	if (!PoolShared->stats_pending)
		return;
	PoolShared->stats_pending = false;
	applied = true;
	if (loaded == NULL)
		return;
	statsfile_apply(loaded, &npools, &nparts, &dropped);
	memcpy(&hdr, loaded, sizeof(hdr));
	ereport(LOG,
			(errmsg_plural("pgpool_ext: restored the statistics of %d pool saved at %s",
						   "pgpool_ext: restored the statistics of %d pools saved at %s",
						   npools, npools, timestamptz_to_str(hdr.saved_at)),
			 errdetail("Partitions restored: %d.  Saved entries that matched no pool or partition, discarded: %d.",
					   nparts, dropped)));
}

/*
 * StatsFileDone
 *		Pool worker, after ApplyDefinitions released its locks: once the
 *		file was applied (or found unusable), remove it and free the copy.
 */
void
StatsFileDone(void)
{
	if (!applied)
		return;
	applied = false;
	if (loaded != NULL)
		pfree(loaded);
	loaded = NULL;
	read_done = false;
	if (unlink(PGPOOL_STATS_FILE) != 0 && errno != ENOENT)
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("could not remove file \"%s\": %m", PGPOOL_STATS_FILE)));
}
