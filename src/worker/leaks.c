/*-------------------------------------------------------------------------
 *
 * leaks.c
 *	  The pool worker's leak detection: report and reclaim handles held
 *	  too long.
 *
 * The janitor calls LeaksCheck at every turn of the loop; it looks at the
 * held slots only when the earliest deadline it knows of is due (a handle
 * reaching its pool's leak threshold, or a reported one reaching the
 * threshold plus leak_reclaim_after under leak_action 'reclaim'), and at
 * least every maintenance_interval and every shortest threshold, so that a
 * handle acquired after a look is not found late.  LeaksTimeout keeps the
 * worker from sleeping past that.  A pool's threshold is its option
 * leak_threshold, or pgpool_ext.leak_threshold (shm/leaks.c).
 *
 * A handle held past its threshold is reported once (LeakSlot.reported):
 * a WARNING naming pool, handle, holder pid, role, application_name and
 * the acquire site (backend/leak_site.c), and an event in the leak
 * history.  While it stays held, each look publishes whether its remote
 * connection is inside a transaction, for the leaks view.  Its release by
 * the holder is logged by the holder (LeakReleased, from handle.c).
 *
 * Reclaim takes the slot from its holder the way a release does: one with
 * nothing in flight goes back to the pool with a reset pending
 * (PoolHandOver); one with a request in flight becomes RESETTING and the
 * request fails with 08003 (ConnFailRequest: a query still running on the
 * remote is cancelled and drained first), then the connection is reset and
 * handed over; a broken one is closed.  A request submitted but not yet
 * taken by the worker is left for the next turn of the loop, when it is
 * being served.  The holder's later calls on the handle get 08003 with a
 * detail saying it was reclaimed (handle.c, LeakWasReclaimed).
 *
 * Locking: each held slot is looked at under its pool lock, exclusive, and
 * the leak history lock is taken inside it (order in shm/leaks.h).  The
 * backend status snapshot, logging and the connection's work happen with
 * no lock held.
 *
 * src/worker/leaks.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/backend_status.h"
#include "utils/timestamp.h"

#include "common/compat.h"
#include "common/guc.h"
#include "common/interval.h"
#include "common/pgpool_errors.h"
#include "shm/channel.h"
#include "shm/leaks.h"
#include "shm/pool.h"
#include "worker/conn.h"
#include "worker/leaks.h"

/* What reclaim did with a slot. */
typedef enum LeakTake
{
	TAKE_NONE = 0,				/* not due, or not reclaiming */
	TAKE_LATER,					/* a request is on its way: next turn */
	TAKE_DONE,					/* back in the pool (or closing) */
	TAKE_FAIL_REQUEST			/* RESETTING: fail the request in flight */
} LeakTake;

/* What one look at a held slot found, acted on after the lock. */
typedef struct LeakFound
{
	bool		report;			/* first detection: WARNING */
	LeakTake	take;
	int64		handle;
	int64		held_ms;
	int			threshold_ms;
	int			holder_pid;
	char		pool_name[PGPOOL_NAME_LEN];
	LeakEvent	event;			/* filled when report */
} LeakFound;

/* A backend's status, as the snapshot shows it. */
typedef struct LeakHolder
{
	bool		found;
	Oid			userid;
	char		appname[NAMEDATALEN];
} LeakHolder;

static TimestampTz leaks_next_check = 0;

static void leaks_check_slot(int slotno, TimestampTz now, TimestampTz *next);
static void leaks_look(int slotno, TimestampTz now, int threshold_ms,
					   const LeakHolder *holder, LeakFound *f,
					   TimestampTz *next);
static void leaks_event(int slotno, TimestampTz now, const LeakHolder *holder,
						LeakEvent *ev);
static LeakTake leaks_take_back(int slotno, TimestampTz now, int64 held_ms);
static void leaks_act(int slotno, LeakFound *f);
static void leaks_warn(const LeakFound *f);
static void leaks_holder(int pid, LeakHolder *holder);

/*
 * LeaksCheck
 *		The janitor's turn: look at the held slots if a deadline is due.
 */
void
LeaksCheck(TimestampTz now)
{
	TimestampTz next;
	int			i;

	if (now < leaks_next_check)
		return;
	next = TimestampTzPlusMilliseconds(now, pgpool_maintenance_interval);
	for (i = 0; i < PoolShared->npools; i++)
	{
		PoolEntry  *pool = &PoolShared->pools[i];
		int			threshold;

		if (!pool->in_use)
			continue;
		threshold = LeakThresholdMs(&pool->def);
		if (threshold > 0)
			next = Min(next, TimestampTzPlusMilliseconds(now, threshold));
	}
	for (i = 0; i < PoolShared->nslots; i++)
		leaks_check_slot(i, now, &next);
	leaks_next_check = next;
}

/*
 * LeaksTimeout
 *		How long the worker may sleep before LeaksCheck is due (ms).
 */
long
LeaksTimeout(void)
{
	long		secs;
	int			usecs;

	if (leaks_next_check == 0)
		return pgpool_maintenance_interval;	/* not looked yet */
	TimestampDifference(GetCurrentTimestamp(), leaks_next_check, &secs, &usecs);
	return Min(secs, (long) (PG_INT32_MAX / 1000)) * 1000 + usecs / 1000;
}

/*
 * leaks_check_slot
 *		Look at slotno if it is held past its pool's threshold.  The first
 *		tests are unlocked peeks, made again under the lock.
 */
static void
leaks_check_slot(int slotno, TimestampTz now, TimestampTz *next)
{
	SlotEntry  *slot = &PoolShared->slots[slotno];
	int			pool = slot->pool;
	int			threshold;
	TimestampTz deadline;
	LeakHolder	holder;
	LeakFound	f;

	if (pool < 0 || slot->holder_procno < 0)
		return;
	threshold = LeakThresholdMs(&PoolShared->pools[pool].def);
	if (threshold <= 0)
		return;
	deadline = TimestampTzPlusMilliseconds(slot->acquired_at, threshold);
	if (now < deadline)
	{
		*next = Min(*next, deadline);
		return;
	}
	/* the holder's application_name, only for a first report */
	memset(&holder, 0, sizeof(holder));
	if (LeakShared->slots[slotno].reported != slot->handle)
		leaks_holder(slot->holder_pid, &holder);

	memset(&f, 0, sizeof(f));
	LWLockAcquire(PoolLock(pool), LW_EXCLUSIVE);
	if (slot->pool == pool && slot->holder_procno >= 0 &&
		now >= TimestampTzPlusMilliseconds(slot->acquired_at, threshold))
		leaks_look(slotno, now, threshold, &holder, &f, next);
	LWLockRelease(PoolLock(pool));
	leaks_act(slotno, &f);
}

/*
 * leaks_look
 *		slotno is held past its threshold: report it the first time,
 *		publish its remote transaction status, reclaim it when due.
 *
 * Caller holds the slot's pool lock exclusively.
 */
static void
leaks_look(int slotno, TimestampTz now, int threshold_ms,
		   const LeakHolder *holder, LeakFound *f, TimestampTz *next)
{
	SlotEntry  *slot = &PoolShared->slots[slotno];
	PoolEntry  *pool = &PoolShared->pools[slot->pool];
	LeakSlot   *ls = &LeakShared->slots[slotno];
	TimestampTz reclaim_at;
	int			xact;

	f->handle = slot->handle;
	f->holder_pid = slot->holder_pid;
	strlcpy(f->pool_name, pool->name, sizeof(f->pool_name));
	f->threshold_ms = threshold_ms;
	f->held_ms = (now - slot->acquired_at) / 1000;
	if (ls->reported != slot->handle)
	{
		leaks_event(slotno, now, holder, &f->event);
		ls->reported = slot->handle;
		ls->event_seq = LeakHistoryAdd(&f->event);
		ls->remote_xact = -1;
		f->report = true;
	}
	xact = ConnRemoteInTransaction(slotno);
	if (xact >= 0)
		ls->remote_xact = xact;

	if (!LeakReclaims(&pool->def) || pool->dropping)
		return;
	reclaim_at = slot->acquired_at +
		((int64) threshold_ms + pool->def.leak_reclaim_after_ms) * 1000;
	if (now < reclaim_at)
	{
		*next = Min(*next, reclaim_at);
		return;
	}
	f->take = leaks_take_back(slotno, now, f->held_ms);
	if (f->take == TAKE_LATER)
		*next = now;
}

/*
 * leaks_event
 *		The leak_history event of slotno's handle, detected now.
 *
 * Caller holds the slot's pool lock.
 */
static void
leaks_event(int slotno, TimestampTz now, const LeakHolder *holder,
			LeakEvent *ev)
{
	SlotEntry  *slot = &PoolShared->slots[slotno];
	LeakSlot   *ls = &LeakShared->slots[slotno];
	bool		site = ls->handle == slot->handle && ls->has_site;

	ev->detected_at = now;
	ev->handle = slot->handle;
	strlcpy(ev->pool_name, PoolShared->pools[slot->pool].name,
			sizeof(ev->pool_name));
	strlcpy(ev->partition, PoolShared->partitions[slot->partition].key,
			sizeof(ev->partition));
	ev->holder_pid = slot->holder_pid;
	ev->role_oid = slot->holder_role;
	ev->acquired_at = slot->acquired_at;
	ev->released_at = 0;
	ev->reclaimed = false;
	ev->has_site = site;
	ev->session_user = site ? ls->session_user :
		holder->found ? holder->userid : slot->holder_role;
	strlcpy(ev->application_name, holder->appname,
			sizeof(ev->application_name));
	if (site)
	{
		strlcpy(ev->role, ls->role, sizeof(ev->role));
		strlcpy(ev->query, ls->query, sizeof(ev->query));
		strlcpy(ev->context, ls->context, sizeof(ev->context));
	}
}

/*
 * leaks_take_back
 *		Reclaim slotno from its holder (see the file header).
 *
 * Caller holds the slot's pool lock exclusively.
 */
static LeakTake
leaks_take_back(int slotno, TimestampTz now, int64 held_ms)
{
	SlotEntry  *slot = &PoolShared->slots[slotno];
	LeakSlot   *ls = &LeakShared->slots[slotno];
	int			procno = slot->holder_procno;

	if (ChannelRequestOn(procno, slotno, false))
		return TAKE_LATER;
	LeakNoteReclaimed(procno, slot->holder_pid, slot->handle, held_ms);
	LeakHistoryEnd(ls->event_seq, slot->handle, now, true);
	ls->reported = 0;
	slot->last_used_at = PoolSlotClock();
	/* the hold ends here: the holder's release will be refused */
	StatsRecordHold(PoolPartitionStats(slot->partition), slot->acquired_at,
					slot->last_used_at);
	if (slot->state == SLOT_ACQUIRED && !ChannelRequestOn(procno, slotno, true))
	{
		/* reset it, whatever the holder did with it */
		slot->dirty = false;
		slot->reset_pending = true;
		PoolHandOver(slotno);
		return TAKE_DONE;
	}
	slot->handle = 0;
	slot->holder_procno = -1;
	slot->holder_pid = 0;
	if (slot->state == SLOT_BROKEN)
	{
		PoolSetSlotState(slotno, SLOT_CLOSING);
		return TAKE_DONE;
	}
	PoolSetSlotState(slotno, SLOT_RESETTING);
	return TAKE_FAIL_REQUEST;
}

/*
 * leaks_act
 *		After the lock: log what leaks_look found and let the connection
 *		code fail a reclaimed handle's request.
 */
static void
leaks_act(int slotno, LeakFound *f)
{
	if (f->report)
		leaks_warn(f);
	if (f->take == TAKE_NONE)
		return;
	/* run the loop again at once: resets, handovers, a request to take */
	SetLatch(MyLatch);
	if (f->take == TAKE_LATER)
		return;
	if (f->take == TAKE_FAIL_REQUEST)
		ConnFailRequest(slotno, PGPOOL_SQLSTATE_BAD_HANDLE,
						PoolErrorReclaimedMessage(f->handle),
						PoolErrorReclaimedDetail(IntervalFormatMs(f->held_ms)));
	ereport(LOG,
			(errmsg("pgpool_ext: reclaimed leaked handle " INT64_FORMAT " of pool \"%s\" from pid %d after %s",
					f->handle, f->pool_name, f->holder_pid,
					IntervalFormatMs(f->held_ms)),
			 errdetail("The connection is reset and returned to the pool (leak_action is reclaim).")));
}

/*
 * leaks_warn
 *		The one WARNING of a leaked handle.
 */
static void
leaks_warn(const LeakFound *f)
{
	const LeakEvent *ev = &f->event;
	StringInfoData detail;

	initStringInfo(&detail);
	if (ev->role[0])
		appendStringInfo(&detail, "Role \"%s\", ", ev->role);
	else
		appendStringInfo(&detail, "Role with OID %u, ", ev->role_oid);
	appendStringInfo(&detail, "application_name \"%s\".", ev->application_name);
	if (ev->has_site)
	{
		appendStringInfo(&detail, "\nAcquired by: %s", ev->query);
		if (ev->context[0])
			appendStringInfo(&detail, "\nAcquire context: %s", ev->context);
	}
	else
		appendStringInfoString(&detail,
							   "\nThe acquire site was not recorded: leak detection was off when the handle was acquired.");
	ereport(WARNING,
			(errmsg("pgpool_ext: possible leak: handle " INT64_FORMAT " of pool \"%s\" held by pid %d for %s, longer than leak_threshold %s",
					f->handle, ev->pool_name, f->holder_pid,
					IntervalFormatMs(f->held_ms),
					IntervalFormatMs(f->threshold_ms)),
			 errdetail_internal("%s", detail.data)));
	pfree(detail.data);
}

/*
 * leaks_holder
 *		The session user and application_name of backend pid, from a fresh
 *		snapshot of the backends' status (freed again: the worker runs no
 *		transaction that would).
 */
static void
leaks_holder(int pid, LeakHolder *holder)
{
	int			n;
	int			i;

	pgstat_clear_backend_activity_snapshot();
	n = pgstat_fetch_stat_numbackends();
	for (i = 1; i <= n; i++)
	{
		LocalPgBackendStatus *local = PGPOOL_LOCAL_BEENTRY(i);

		if (local == NULL || local->backendStatus.st_procpid != pid)
			continue;
		holder->found = true;
		holder->userid = local->backendStatus.st_userid;
		strlcpy(holder->appname, local->backendStatus.st_appname,
				sizeof(holder->appname));
		break;
	}
	pgstat_clear_backend_activity_snapshot();
}
