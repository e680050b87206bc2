/*-------------------------------------------------------------------------
 *
 * leaks.c
 *	  Leak detection's shared state: acquire sites, leak events, reclaimed
 *	  handles.
 *
 * A handle held longer than its pool's leak_threshold is a possible leak.
 * The acquiring backend records where it was acquired (backend/leak_site.c)
 * in the slot's LeakSlot and counts its requests there; the pool worker's
 * janitor (worker/leaks.c) reports it once, adds an event to the ring of
 * the last PGPOOL_LEAK_HISTORY events and, with leak_action 'reclaim',
 * takes it back and remembers that in the holder's list of reclaimed
 * handles, so that the holder's next call says why its handle is gone.
 * The release of a reported handle (LeakReleased, in the releasing
 * backend) ends its event and logs it.  The views (sql/leaks.c) read all
 * of it.
 *
 * Memory: about 2.2 kB per slot (pgpool_ext.max_connections), 2.4 kB per
 * event (100 events) and 96 bytes per backend: about 0.4 MB at the
 * default settings.
 *
 * Locking: see leaks.h.  LeakShared->lock is taken last, after any pool
 * lock, and held for copies only.
 *
 * src/shm/leaks.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "common/compat.h"
#include "common/guc.h"
#include "common/interval.h"
#include "shm/leaks.h"

#define LEAKS_TRANCHE	"pgpool_ext leaks"

LeakSharedState *LeakShared = NULL;

static int	leaks_nbackends(void);

/* Backends (and auxiliary processes) with an entry, as in shmem.c. */
static int
leaks_nbackends(void)
{
	return MaxBackends + NUM_AUXILIARY_PROCS;
}

/*
 * LeaksShmemSize
 *		Bytes of leak detection's shared state.
 */
Size
LeaksShmemSize(void)
{
	Size		size = MAXALIGN(sizeof(LeakSharedState));

	size = add_size(size, mul_size(pgpool_max_connections,
								   MAXALIGN(sizeof(LeakSlot))));
	size = add_size(size, mul_size(leaks_nbackends(),
								   sizeof(LeakReclaimed) *
								   PGPOOL_LEAK_RECLAIMED));
	return size;
}

/*
 * LeaksShmemRequest
 *		shmem_request_hook: ask for the memory and the lock.
 */
void
LeaksShmemRequest(void)
{
	RequestAddinShmemSpace(LeaksShmemSize());
	RequestNamedLWLockTranche(LEAKS_TRANCHE, 1);
}

/*
 * LeaksShmemStartup
 *		shmem_startup_hook: attach to (and in the postmaster, build) the
 *		state.
 */
void
LeaksShmemStartup(void)
{
	bool		found;
	char	   *ptr;
	int			i;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	LeakShared = ShmemInitStruct("pgpool_ext leaks", LeaksShmemSize(), &found);
	if (!found)
	{
		memset(LeakShared, 0, LeaksShmemSize());
		LeakShared->lock = &(GetNamedLWLockTranche(LEAKS_TRANCHE))->lock;
		LeakShared->next_seq = 1;
		ptr = (char *) LeakShared + MAXALIGN(sizeof(LeakSharedState));
		LeakShared->slots = (LeakSlot *) ptr;
		ptr += mul_size(pgpool_max_connections, MAXALIGN(sizeof(LeakSlot)));
		LeakShared->reclaimed = (LeakReclaimed *) ptr;
		for (i = 0; i < pgpool_max_connections; i++)
			LeakShared->slots[i].remote_xact = -1;
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * LeakThresholdMs
 *		The leak threshold of a pool in milliseconds: its own option, or
 *		pgpool_ext.leak_threshold; 0 when leak detection is off.
 */
int
LeakThresholdMs(const PoolDefinition *def)
{
	return def->leak_threshold_ms >= 0 ? def->leak_threshold_ms :
		pgpool_leak_threshold;
}

/*
 * LeakReclaims
 *		Does a pool take leaked handles back (leak_action 'reclaim'), rather
 *		than only report them ('report', the default)?
 */
bool
LeakReclaims(const PoolDefinition *def)
{
	return strcmp(def->leak_action, "reclaim") == 0;
}

/*
 * LeakNoteRequest
 *		A request is being sent on slotno: count it for its handle.
 *
 * Caller holds the slot's pool lock exclusively and holds the slot.
 */
void
LeakNoteRequest(int slotno)
{
	LeakSlot   *ls = &LeakShared->slots[slotno];
	int64		handle = PoolShared->slots[slotno].handle;

	if (ls->handle != handle)
	{
		/* no site was captured for this handle (detection was off) */
		ls->handle = handle;
		ls->has_site = false;
		ls->requests = 0;
	}
	ls->requests++;
}

/*
 * The LOG line of a reported leak's release, kept by LeakReleased under
 * the pool lock and written by LeakReleasedLog once it is let go: writing
 * to the log may block (a full log pipe), and must not do so while every
 * backend of the pool waits for the lock.  Backend-local; one release per
 * pool lock hold (handle.c).
 */
static struct
{
	bool		pending;
	int64		handle;
	char		pool[PGPOOL_NAME_LEN];
	int64		held_ms;
	int			holder_pid;
} leak_released;

/*
 * LeakReleased
 *		slotno is being released by its holder: if its handle was reported
 *		leaked, end its event and keep its LOG line for LeakReleasedLog(),
 *		which the caller calls once it has let the pool lock go.  Costs one
 *		compare for any other handle.
 *
 * Caller holds the slot's pool lock exclusively; the slot is still held.
 */
void
LeakReleased(int slotno)
{
	LeakSlot   *ls = &LeakShared->slots[slotno];
	SlotEntry  *slot = &PoolShared->slots[slotno];
	TimestampTz now;

	if (ls->reported == 0 || ls->reported != slot->handle)
		return;
	ls->reported = 0;
	now = GetCurrentTimestamp();
	LeakHistoryEnd(ls->event_seq, slot->handle, now, false);
	leak_released.handle = slot->handle;
	strlcpy(leak_released.pool, PoolShared->pools[slot->pool].name,
			sizeof(leak_released.pool));
	leak_released.held_ms = (now - slot->acquired_at) / 1000;
	leak_released.holder_pid = slot->holder_pid;
	leak_released.pending = true;
}

/*
 * LeakReleasedLog
 *		Log the release LeakReleased kept, if any ("previously reported
 *		leaked handle ... was released after ...").  Called with no pool
 *		lock held, also on the abort and exit paths.
 */
void
LeakReleasedLog(void)
{
	if (!leak_released.pending)
		return;
	leak_released.pending = false;
	ereport(LOG,
			(errmsg("pgpool_ext: previously reported leaked handle " INT64_FORMAT " of pool \"%s\" was released after %s",
					leak_released.handle, leak_released.pool,
					IntervalFormatMs(leak_released.held_ms)),
			 errdetail("Holder pid %d.", leak_released.holder_pid)));
}

/*
 * LeakHistoryAdd
 *		Append a leak event to the ring (the oldest goes); returns its
 *		sequence number.
 */
uint64
LeakHistoryAdd(const LeakEvent *event)
{
	LeakEvent  *e;
	uint64		seq;

	LWLockAcquire(LeakShared->lock, LW_EXCLUSIVE);
	seq = LeakShared->next_seq++;
	e = &LeakShared->history[seq % PGPOOL_LEAK_HISTORY];
	memcpy(e, event, sizeof(LeakEvent));
	e->seq = seq;
	LWLockRelease(LeakShared->lock);
	return seq;
}

/*
 * LeakHistoryEnd
 *		The leaked handle of event seq was released (or reclaimed) at at.
 *		An event already pushed out of the ring is left alone.
 */
void
LeakHistoryEnd(uint64 seq, int64 handle, TimestampTz at, bool reclaimed)
{
	LeakEvent  *e;

	LWLockAcquire(LeakShared->lock, LW_EXCLUSIVE);
	e = &LeakShared->history[seq % PGPOOL_LEAK_HISTORY];
	if (e->seq == seq && e->handle == handle)
	{
		e->released_at = at;
		e->reclaimed = reclaimed;
	}
	LWLockRelease(LeakShared->lock);
}

/*
 * LeakNoteReclaimed
 *		The worker took handle back from backend procno (pid) after
 *		held_ms: remember it for that backend's next call (the last
 *		PGPOOL_LEAK_RECLAIMED of each backend are kept).
 */
void
LeakNoteReclaimed(int procno, int pid, int64 handle, int64 held_ms)
{
	LeakReclaimed *r = &LeakShared->reclaimed[procno * PGPOOL_LEAK_RECLAIMED];

	LWLockAcquire(LeakShared->lock, LW_EXCLUSIVE);
	memmove(&r[1], &r[0], sizeof(LeakReclaimed) * (PGPOOL_LEAK_RECLAIMED - 1));
	r[0].handle = handle;
	r[0].pid = pid;
	r[0].held_ms = held_ms;
	LWLockRelease(LeakShared->lock);
}

/*
 * LeakWasReclaimed
 *		Was handle, held by this backend, reclaimed as leaked?  If so, sets
 *		how long it had been held.
 */
bool
LeakWasReclaimed(int64 handle, int64 *held_ms)
{
	LeakReclaimed *r;
	bool		found = false;
	int			i;

	if (LeakShared == NULL || handle <= 0)
		return false;
	r = &LeakShared->reclaimed[PGPOOL_MY_PROCNO * PGPOOL_LEAK_RECLAIMED];
	LWLockAcquire(LeakShared->lock, LW_SHARED);
	for (i = 0; i < PGPOOL_LEAK_RECLAIMED && !found; i++)
	{
		if (r[i].handle == handle && r[i].pid == MyProcPid)
		{
			*held_ms = r[i].held_ms;
			found = true;
		}
	}
	LWLockRelease(LeakShared->lock);
	return found;
}
