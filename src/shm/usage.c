/*-------------------------------------------------------------------------
 *
 * usage.c
 *	  Time-weighting the pools' gauges and counting their events, per
 *	  partition and per pool, over time (the model is in usage.h).
 *
 * Every hook first "advances" the windows it writes to now: the time since
 * the last advance is added to each window's elapsed time, and the current
 * gauge values times that time to its areas, split at minute boundaries
 * for the partition's minute ring and at interval boundaries for the pool's
 * interval ring (a slot that the span enters is begun, zeroed, on the way).
 * Then the hook applies its change (new gauge values and peaks, an event,
 * a wait).  The pool keeps its own current values, the sum of its
 * partitions' (USAGE_SATURATED: whether any backend of the pool waits), and
 * its own windows, so that its areas, peaks and saturation are the pool's
 * own, not sums or maxima of its partitions'.  Readers advance a copy.
 *
 * An interval slot is floor(epoch seconds / width) with the width
 * (pgpool_ext.usage_interval) published by the janitor into each pool's
 * PoolUsage (UsageRotate); a new width begins a new slot at once, whose
 * start is its own boundary (so it may begin before the end of the slot
 * before it) while its elapsed time counts from the change.
 *
 * Locking: see usage.h.  Hooks run under the pool lock held exclusively;
 * UsageRotate and the readers of a pool also need the global lock (shared)
 * for partition membership, since partition entries are put into use
 * under the global lock alone.
 *
 * src/shm/usage.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "common/clock.h"
#include "common/guc.h"
#include "shm/shmem.h"
#include "shm/usage.h"

/* Microseconds from the Unix epoch to PostgreSQL's (2000-01-01). */
#define USAGE_EPOCH_SHIFT \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * USECS_PER_SEC)

#if SIZEOF_VOID_P == 8
StaticAssertDecl(sizeof(PartitionUsage) == 1208, "the size stated in usage.h");
StaticAssertDecl(sizeof(UsageWindows) == 1168, "the size stated in usage.h");
StaticAssertDecl(sizeof(PoolUsage) == 327808, "the size stated in usage.h");
#endif

static Size usage_shmem_size(void);
static TimestampTz usage_slot_start(TimestampTz ts, int32 width_s);
static void usage_tally_begin(UsageTally *t, TimestampTz start,
							  const int32 *cur);
static void usage_tally_add(UsageTally *t, const int32 *cur, uint64 us);
static void usage_tally_peaks(UsageTally *t, const int32 *cur);
static UsageTally *usage_minute_slot(UsageWindows *w, const int32 *cur,
									 uint64 minute);
static void usage_windows_advance(UsageWindows *w, const int32 *cur,
								  TimestampTz from, TimestampTz now);
static void usage_windows_read(const UsageWindows *w, const int32 *cur,
							   TimestampTz last, StatsWindow window,
							   TimestampTz now, UsageTally *out);
static void usage_partition_advance(PartitionUsage *pu, TimestampTz now);
static void usage_pool_sum(int pool_idx, int32 *cur);
static UsageInterval *usage_interval_open(PoolUsage *pu, TimestampTz at);
static void usage_pool_advance(PoolUsage *pu, TimestampTz now);
static void usage_advance(int part_idx, TimestampTz now);
static void usage_gauges(const PartitionEntry *part, int32 *g);
static void usage_rotate_pool(int p, int32 width_s, TimestampTz now);

/*
 * UsageShmemSize
 *		Bytes of the usage of every pool and partition entry.
 */
static Size
usage_shmem_size(void)
{
	return add_size(mul_size(pgpool_max_pools, MAXALIGN(sizeof(PoolUsage))),
					mul_size(pgpool_max_partitions + pgpool_max_pools,
							 MAXALIGN(sizeof(PartitionUsage))));
}

/*
 * UsageShmemRequest
 *		shmem_request_hook: ask for the memory (a segment of its own, so
 *		that shmem.c need not know these structs).
 */
void
UsageShmemRequest(void)
{
	RequestAddinShmemSpace(usage_shmem_size());
}

/*
 * UsageShmemStartup
 *		shmem_startup_hook, after PoolShmemStartup: attach to (and in the
 *		postmaster, build and zero) the arrays, and point
 *		PoolShared->pool_usage and partition_usage at them.
 */
void
UsageShmemStartup(void)
{
	bool		found;
	char	   *base;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	base = ShmemInitStruct("pgpool_ext usage", usage_shmem_size(), &found);
	if (!found)
	{
		memset(base, 0, usage_shmem_size());
		PoolShared->pool_usage = (PoolUsage *) base;
		PoolShared->partition_usage = (PartitionUsage *)
			(base + mul_size(pgpool_max_pools, MAXALIGN(sizeof(PoolUsage))));
	}
	LWLockRelease(AddinShmemInitLock);
}

/* The boundary of the width_s-second slot that ts falls in. */
static TimestampTz
usage_slot_start(TimestampTz ts, int32 width_s)
{
	int64		w = (int64) width_s * USECS_PER_SEC;
	int64		u = ts + USAGE_EPOCH_SHIFT;
	int64		n = u / w;

	if (u % w < 0)
		n--;
	return n * w - USAGE_EPOCH_SHIFT;
}

/* An empty window from start, its peaks the values current then. */
static void
usage_tally_begin(UsageTally *t, TimestampTz start, const int32 *cur)
{
	memset(t, 0, sizeof(UsageTally));
	t->start = start;
	memcpy(t->peak, cur, sizeof(t->peak));
}

/* us microseconds more, at the values cur. */
static void
usage_tally_add(UsageTally *t, const int32 *cur, uint64 us)
{
	int			g;

	t->elapsed_us += us;
	for (g = 0; g < USAGE_NGAUGES; g++)
		t->area[g] += (uint64) Max(cur[g], 0) * us;
}

/* The values cur were reached: raise the peaks. */
static void
usage_tally_peaks(UsageTally *t, const int32 *cur)
{
	int			g;

	for (g = 0; g < USAGE_NGAUGES; g++)
		t->peak[g] = Max(t->peak[g], cur[g]);
}

/*
 * The minute ring's slot of minute, begun (zeroed, its peaks the values
 * cur) if it held another.
 */
static UsageTally *
usage_minute_slot(UsageWindows *w, const int32 *cur, uint64 minute)
{
	int			s = minute % USAGE_MINUTE_SLOTS;

	if (w->minute[s] != minute)
	{
		w->minute[s] = minute;
		usage_tally_begin(&w->recent[s],
						  (TimestampTz) minute * USECS_PER_MINUTE, cur);
	}
	return &w->recent[s];
}

/*
 * usage_windows_advance
 *		Account windows from from (exclusive of a never-reset 0) up to now
 *		at the values cur.  Caller checked now > from.
 */
static void
usage_windows_advance(UsageWindows *w, const int32 *cur, TimestampTz from,
					  TimestampTz now)
{
	TimestampTz t = from;
	TimestampTz first;

	if (t == 0)
		return;					/* never reset: nothing to account */
	usage_tally_add(&w->total, cur, now - t);
	/* minutes older than the ring are not kept: start at its oldest */
	first = (TimestampTz) (HistMinuteOf(now) - (USAGE_MINUTE_SLOTS - 1)) *
		USECS_PER_MINUTE;
	t = Max(t, first);
	while (t < now)
	{
		uint64		minute = HistMinuteOf(t);
		TimestampTz end = Min(now, (TimestampTz) (minute + 1) * USECS_PER_MINUTE);

		usage_tally_add(usage_minute_slot(w, cur, minute), cur, end - t);
		t = end;
	}
}

/*
 * usage_partition_advance
 *		Account a partition's windows up to now at its current values.  A
 *		clock that went back accounts nothing.
 */
static void
usage_partition_advance(PartitionUsage *pu, TimestampTz now)
{
	if (now <= pu->last)
		return;
	usage_windows_advance(&pu->win, pu->cur, pu->last, now);
	pu->last = now;
}

/* Begin the next interval of the ring, the one at covers. */
static UsageInterval *
usage_interval_open(PoolUsage *pu, TimestampTz at)
{
	UsageInterval *iv;

	pu->head = (pu->head + 1) % USAGE_NINTERVALS;
	iv = &pu->ring[pu->head];
	iv->start = usage_slot_start(at, pu->width_s);
	iv->width_s = pu->width_s;
	usage_tally_begin(&iv->tally, iv->start, pu->cur);
	HistSnapInit(&iv->wait);
	return iv;
}

/*
 * usage_pool_advance
 *		Account a pool's windows and interval ring up to now at its current
 *		values, beginning the intervals the time enters.  When more than
 *		the whole ring has passed, only the ring's worth before now is
 *		walked.
 */
static void
usage_pool_advance(PoolUsage *pu, TimestampTz now)
{
	TimestampTz t = pu->last;
	int64		w = (int64) pu->width_s * USECS_PER_SEC;

	if (now <= t || pu->width_s <= 0)
		return;
	usage_windows_advance(&pu->win, pu->cur, t, now);
	if (t == 0)
		t = now;				/* never reset: begin now */
	if (now - t > w * USAGE_NINTERVALS)
		t = usage_slot_start(now, pu->width_s) - w * (USAGE_NINTERVALS - 1);
	while (t < now)
	{
		UsageInterval *iv = &pu->ring[pu->head];
		TimestampTz end = iv->start + (int64) iv->width_s * USECS_PER_SEC;
		TimestampTz upto;

		if (iv->width_s <= 0 || t >= end)
		{
			iv = usage_interval_open(pu, t);
			end = iv->start + w;
		}
		upto = Min(now, end);
		usage_tally_add(&iv->tally, pu->cur, upto - t);
		t = upto;
	}
	pu->last = now;
}

/* Advance a partition's windows and its pool's to now. */
static void
usage_advance(int part_idx, TimestampTz now)
{
	/* every writer of the windows holds the pool lock exclusively */
	Assert(LWLockHeldByMeInMode(&PoolShared->pools[PoolShared->partitions[part_idx].pool].lock,
								LW_EXCLUSIVE));
	usage_partition_advance(PoolPartitionUsage(part_idx), now);
	usage_pool_advance(PoolPoolUsage(PoolShared->partitions[part_idx].pool),
					   now);
}

/* The gauges' values from a partition's slot counts and queue. */
static void
usage_gauges(const PartitionEntry *part, int32 *g)
{
	const int  *c = part->count;

	g[USAGE_OPEN] = c[SLOT_IDLE] + c[SLOT_ACQUIRED] + c[SLOT_BUSY] +
		c[SLOT_RESETTING] + c[SLOT_CLOSING];
	g[USAGE_IN_USE] = c[SLOT_ACQUIRED] + c[SLOT_BUSY] + c[SLOT_BROKEN];
	g[USAGE_BUSY] = c[SLOT_BUSY];
	g[USAGE_RESETTING] = c[SLOT_RESETTING];
	g[USAGE_IDLE] = c[SLOT_IDLE];
	g[USAGE_WAITING] = part->nwaiting;
	g[USAGE_SATURATED] = part->nwaiting > 0 ? 1 : 0;
}

/*
 * usage_pool_sum
 *		A pool's current values from its partitions' (their cur[]): sums,
 *		and USAGE_SATURATED 1 when any backend of the pool waits.  Caller
 *		holds the global lock at least shared.
 */
static void
usage_pool_sum(int pool_idx, int32 *cur)
{
	int			i;
	int			g;

	memset(cur, 0, sizeof(int32) * USAGE_NGAUGES);
	for (i = 0; i < PoolShared->npartitions; i++)
	{
		if (!PoolShared->partitions[i].in_use ||
			PoolShared->partitions[i].pool != pool_idx)
			continue;
		for (g = 0; g < USAGE_NGAUGES; g++)
			cur[g] += PoolPartitionUsage(i)->cur[g];
	}
	cur[USAGE_SATURATED] = cur[USAGE_WAITING] > 0 ? 1 : 0;
}

/*
 * UsageSync
 *		A partition's slot counts or queue just changed: account the time
 *		before at the old values, take the new ones and raise the peaks.
 *		Caller holds the pool lock exclusively.
 */
void
UsageSync(int part_idx)
{
	PartitionEntry *part = &PoolShared->partitions[part_idx];
	PartitionUsage *pu = PoolPartitionUsage(part_idx);
	PoolUsage  *pl = PoolPoolUsage(part->pool);
	TimestampTz now = CoarseClock();
	int32		g[USAGE_NGAUGES];
	int			i;

	usage_advance(part_idx, now);
	usage_gauges(part, g);
	for (i = 0; i < USAGE_NGAUGES; i++)
	{
		pl->cur[i] += g[i] - pu->cur[i];
		pu->cur[i] = g[i];
	}
	/* the pool's saturation is "someone waits", not a count of partitions */
	pl->cur[USAGE_SATURATED] = pl->cur[USAGE_WAITING] > 0 ? 1 : 0;
	usage_tally_peaks(&pu->win.total, pu->cur);
	usage_tally_peaks(usage_minute_slot(&pu->win, pu->cur,
										HistMinuteOf(pu->last)), pu->cur);
	if (pl->width_s > 0)
	{
		usage_tally_peaks(&pl->win.total, pl->cur);
		usage_tally_peaks(usage_minute_slot(&pl->win, pl->cur,
											HistMinuteOf(pl->last)), pl->cur);
		usage_tally_peaks(&pl->ring[pl->head].tally, pl->cur);
	}
}

/*
 * UsageCount
 *		One event in a partition.  Caller holds the pool lock exclusively.
 */
void
UsageCount(int part_idx, UsageEvent event)
{
	PartitionUsage *pu = PoolPartitionUsage(part_idx);
	PoolUsage  *pl = PoolPoolUsage(PoolShared->partitions[part_idx].pool);

	usage_advance(part_idx, CoarseClock());
	pu->win.total.events[event]++;
	usage_minute_slot(&pu->win, pu->cur,
					  HistMinuteOf(pu->last))->events[event]++;
	if (pl->width_s > 0)
	{
		pl->win.total.events[event]++;
		usage_minute_slot(&pl->win, pl->cur,
						  HistMinuteOf(pl->last))->events[event]++;
		pl->ring[pl->head].tally.events[event]++;
	}
}

/*
 * UsageRecordWait
 *		A wait of a partition ended, granted or not, and lasted us
 *		microseconds (what StatsRecordWait or StatsRecordNoWait recorded;
 *		-1: not timed, pgpool_ext.track_timing off): into the wait histogram
 *		of the pool's current interval.  Reads no clock: the interval is
 *		the one the pool's last sync opened (the grant's slot state change
 *		just did, for a wait granted at once; the janitor's rotation keeps
 *		it at most a maintenance interval old otherwise, so a wait ending
 *		just after a boundary may count in the interval before).  Caller
 *		holds the pool lock exclusively.
 */
void
UsageRecordWait(int part_idx, int64 us)
{
	PoolUsage  *pl = PoolPoolUsage(PoolShared->partitions[part_idx].pool);
	HistSnapshot *snap;

	if (us < 0 || pl->width_s <= 0)
		return;
	snap = &pl->ring[pl->head].wait;
	snap->buckets[HistBucketIndex((uint64) us)]++;
	snap->count++;
	snap->sum += (uint64) us;
	snap->max = Max(snap->max, (uint64) us);
}

/*
 * UsageCountError
 *		A remote request on a slot of partition part_idx ended in an error.
 *		Takes the global lock (shared) and the pool lock itself (errors are
 *		rare; the query path holds no lock): a partition entry is put into
 *		use, and reset, under the global lock alone.  The partition is read
 *		without a lock, as by the caller: an entry reused meanwhile may be
 *		charged, never one out of the table, nor one while it is reset.
 */
void
UsageCountError(int part_idx)
{
	volatile PartitionEntry *part = &PoolShared->partitions[part_idx];
	int			pool = part->pool;

	if (pool < 0 || pool >= PoolShared->npools)
		return;
	/* the global lock too: an entry being put into use is reset under it */
	LWLockAcquire(&PoolShared->lock, LW_SHARED);
	LWLockAcquire(&PoolShared->pools[pool].lock, LW_EXCLUSIVE);
	if (part->in_use && part->pool == pool)
		UsageCount(part_idx, USAGE_ERRORS);
	LWLockRelease(&PoolShared->pools[pool].lock);
	LWLockRelease(&PoolShared->lock);
}

/*
 * UsageResetPartition
 *		Empty every window of a partition entry, from now: at reset_stats,
 *		and when the entry is put into use.  The current values stay what
 *		the partition's counts say.  Caller holds the pool lock exclusively,
 *		or the global lock exclusively when the entry is put into use.
 */
void
UsageResetPartition(int part_idx)
{
	PartitionUsage *pu = PoolPartitionUsage(part_idx);
	TimestampTz now = CoarseClock();

	memset(pu, 0, sizeof(PartitionUsage));
	usage_gauges(&PoolShared->partitions[part_idx], pu->cur);
	pu->last = now;
	usage_tally_begin(&pu->win.total, now, pu->cur);
}

/*
 * UsageResetPool
 *		Empty a pool entry's interval ring and begin an interval now: at
 *		reset_stats and when the entry is (re)created.  The width stays the
 *		one published (pgpool_ext.usage_interval on first use).  Caller
 *		holds the pool lock exclusively and the global lock at least shared.
 */
void
UsageResetPool(int pool_idx)
{
	PoolUsage  *pu = PoolPoolUsage(pool_idx);
	int32		width_s = pu->width_s > 0 ? pu->width_s : pgpool_usage_interval;

	memset(pu, 0, sizeof(PoolUsage));
	usage_pool_sum(pool_idx, pu->cur);
	pu->width_s = width_s;
	pu->last = CoarseClock();
	usage_tally_begin(&pu->win.total, pu->last, pu->cur);
	pu->head = USAGE_NINTERVALS - 1;
	(void) usage_interval_open(pu, pu->last);
}

/*
 * UsageResume
 *		The windows of a pool entry and of its partitions were written from
 *		elsewhere (loaded by persistence): take the current values from the
 *		live counts and account from now on, so the time in between counts
 *		in no window.  Caller holds the global lock (shared at least) and
 *		the pool lock exclusively.
 */
void
UsageResume(int pool_idx)
{
	PoolUsage  *pu = PoolPoolUsage(pool_idx);
	TimestampTz now = CoarseClock();
	int			i;

	for (i = 0; i < PoolShared->npartitions; i++)
	{
		PartitionUsage *part = PoolPartitionUsage(i);

		if (!PoolShared->partitions[i].in_use ||
			PoolShared->partitions[i].pool != pool_idx)
			continue;
		usage_gauges(&PoolShared->partitions[i], part->cur);
		part->last = now;
	}
	usage_pool_sum(pool_idx, pu->cur);
	pu->last = now;
}

/*
 * usage_rotate_pool
 *		Advance pool p and its partitions to now; a new width begins a new
 *		interval now.  Takes the pool lock; caller holds the global lock.
 */
static void
usage_rotate_pool(int p, int32 width_s, TimestampTz now)
{
	PoolUsage  *pu = PoolPoolUsage(p);
	int			i;

	LWLockAcquire(&PoolShared->pools[p].lock, LW_EXCLUSIVE);
	for (i = 0; i < PoolShared->npartitions; i++)
		if (PoolShared->partitions[i].in_use &&
			PoolShared->partitions[i].pool == p)
			usage_partition_advance(PoolPartitionUsage(i), now);
	usage_pool_advance(pu, now);
	if (pu->width_s != width_s)
	{
		pu->width_s = width_s;
		(void) usage_interval_open(pu, Max(now, pu->last));
	}
	LWLockRelease(&PoolShared->pools[p].lock);
}

/*
 * UsageRotate
 *		Janitor: publish pgpool_ext.usage_interval to every pool and, when
 *		the minute or the interval changed since the last call, advance
 *		every pool's windows (idle pools' slots are begun even though no
 *		hook runs).  Cheap otherwise.  Pool worker only; takes the global
 *		lock and each pool's lock.
 */
void
UsageRotate(TimestampTz now)
{
	static int64 rotated = -1;
	static int32 published = 0;
	int32		width_s = pgpool_usage_interval;
	int64		tick = now / ((int64) Min(width_s, 60) * USECS_PER_SEC);
	int			p;

	if (tick == rotated && width_s == published)
		return;
	now = Max(now, CoarseClock());
	LWLockAcquire(&PoolShared->lock, LW_SHARED);
	for (p = 0; p < PoolShared->npools; p++)
		if (PoolShared->pools[p].in_use)
			usage_rotate_pool(p, width_s, now);
	LWLockRelease(&PoolShared->lock);
	rotated = tick;
	published = width_s;
}

/*
 * UsageTallyMerge
 *		Add src's window to dst's (zeroed to begin): areas, events and
 *		elapsed add, peaks are the highest, start the earliest.
 */
void
UsageTallyMerge(UsageTally *dst, const UsageTally *src)
{
	int			i;

	if (dst->start == 0 || (src->start != 0 && src->start < dst->start))
		dst->start = src->start;
	dst->elapsed_us += src->elapsed_us;
	for (i = 0; i < USAGE_NGAUGES; i++)
	{
		dst->area[i] += src->area[i];
		dst->peak[i] = Max(dst->peak[i], src->peak[i]);
	}
	for (i = 0; i < USAGE_NEVENTS; i++)
		dst->events[i] += src->events[i];
}

/*
 * usage_windows_read
 *		A window of w (advanced up to last, at the values cur) up to now:
 *		STATS_TOTAL since the last reset; STATS_RECENT the last 5 minutes,
 *		the current one included.
 */
static void
usage_windows_read(const UsageWindows *w, const int32 *cur, TimestampTz last,
				   StatsWindow window, TimestampTz now, UsageTally *out)
{
	uint64		minute;
	int			s;

	if (window == STATS_TOTAL)
	{
		*out = w->total;
		return;
	}
	minute = HistMinuteOf(Max(now, last));
	memset(out, 0, sizeof(UsageTally));
	for (s = 0; s < USAGE_MINUTE_SLOTS; s++)
	{
		uint64		tag = w->minute[s];

		if (tag == 0 || tag > minute || minute - tag >= HIST_RING_MINUTES)
			continue;
		UsageTallyMerge(out, &w->recent[s]);
	}
	usage_tally_peaks(out, cur);
}

/*
 * UsageReadPartition
 *		A partition's window (STATS_TOTAL: since the last reset;
 *		STATS_RECENT: the last 5 minutes, the current one included) up to
 *		now.  Caller holds the pool lock at least shared.
 */
void
UsageReadPartition(int part_idx, StatsWindow window, TimestampTz now,
				   UsageTally *out)
{
	PartitionUsage copy = *PoolPartitionUsage(part_idx);

	usage_partition_advance(&copy, now);
	usage_windows_read(&copy.win, copy.cur, copy.last, window, now, out);
}

/*
 * UsageReadPool
 *		A pool's window up to now, from the pool's own windows: its areas
 *		and events are its partitions' together, its saturation the time
 *		with at least one of its backends waiting, its peaks the peaks of
 *		the pool's values.  Copies only the windows (1.2 kB), not the
 *		interval ring.  Caller holds the pool lock at least shared.
 */
void
UsageReadPool(int pool_idx, StatsWindow window, TimestampTz now,
			  UsageTally *out)
{
	const PoolUsage *pl = PoolPoolUsage(pool_idx);
	UsageWindows copy = pl->win;

	if (now > pl->last && pl->width_s > 0)
		usage_windows_advance(&copy, pl->cur, pl->last, now);
	usage_windows_read(&copy, pl->cur, pl->last, window, now, out);
}

/*
 * UsageReadIntervals
 *		Copy a pool's interval ring, oldest first, the current interval
 *		accounted up to now, into out: the newest max intervals when there
 *		are more; returns how many.  scratch (room for a PoolUsage, 320 kB)
 *		is the caller's, allocated before it took the lock: nothing here
 *		allocates.  Caller holds the pool lock at least shared.
 */
int
UsageReadIntervals(int pool_idx, TimestampTz now, PoolUsage *scratch,
				   UsageInterval *out, int max)
{
	int			skip = -max;
	int			n = 0;
	int			k;

	memcpy(scratch, PoolPoolUsage(pool_idx), sizeof(PoolUsage));
	usage_pool_advance(scratch, now);
	for (k = 0; k < USAGE_NINTERVALS; k++)
		skip += (int) (scratch->ring[k].width_s > 0);
	for (k = 1; k <= USAGE_NINTERVALS && n < max; k++)
	{
		UsageInterval *iv = &scratch->ring[(scratch->head + k) % USAGE_NINTERVALS];

		if (iv->width_s > 0 && skip-- <= 0)
			out[n++] = *iv;
	}
	return n;
}

/*
 * UsageIntervalShown
 *		Whether an interval is a row of usage_hourly (and of the dashboard's
 *		usage): time passed in it, or something happened.
 */
bool
UsageIntervalShown(const UsageInterval *iv)
{
	int			e;

	if (iv->tally.elapsed_us > 0 || iv->wait.count > 0)
		return true;
	for (e = 0; e < USAGE_NEVENTS; e++)
		if (iv->tally.events[e] > 0)
			return true;
	return false;
}

/*
 * UsageIntervalWaitP95
 *		The 95th percentile of an interval's waits in seconds; -1 when none
 *		was recorded.
 */
double
UsageIntervalWaitP95(const UsageInterval *iv)
{
	if (iv->wait.count == 0)
		return -1;
	return HistSnapPercentile(&iv->wait, 0.95) / 1e6;
}
