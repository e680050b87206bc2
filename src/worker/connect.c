/*-------------------------------------------------------------------------
 *
 * connect.c
 *	  A new remote connection: host names resolved, libpq's non-blocking
 *	  connect, the forced session settings, backoff after a failure.
 *
 * A connect starts with the pool's current conninfo; host names are looked
 * up first without blocking (resolve.c, CONN_RESOLVING), then
 * PQconnectPoll runs from the loop (CONN_CONNECTING).  A connection that is
 * up is handed over (PoolHandOver), or runs the request that waited for a
 * replacement.  A failure is remembered in the pool (last_error) and backs
 * the pool off.
 *
 * Locking: the pool lock, exclusive, around the slot's and pool's fields
 * written at connect or failure; never around libpq calls.
 *
 * src/worker/connect.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "worker/cancel.h"
#include "worker/conn.h"
#include "worker/conn_int.h"
#include "common/guc.h"
#include "common/pgpool_errors.h"
#include "shm/policy.h"
#include "shm/pool.h"
#include "shm/usage.h"
#include "worker/resolve.h"

#define PGPOOL_CONNECT_NPARAMS 5

static void conn_connect_notice_receiver(void *arg, const PGresult *res);
static void conn_connect_params(const char *conninfo, const char **keys,
								const char **values);
static bool conn_connect_resolve_start(int slotno);

/* Remote notices and warnings are not for the worker's stderr: drop them. */
static void
conn_connect_notice_receiver(void *arg, const PGresult *res)
{
}

/*
 * ConnConnectStart
 *		Open a new connection for pool/partition; false if no slot is free.
 */
bool
ConnConnectStart(int pool, int partition)
{
	int			slotno = PoolAllocSlot(pool, partition);

	if (slotno < 0)
		return false;
	conn_connect_open(slotno, pool);
	return true;
}

/*
 * conn_connect_params
 *		The libpq keywords of a new connection to conninfo (expanded from
 *		dbname).  The options after it override the conninfo's: every
 *		connection talks UTF8 and prints values in the formats the backends
 *		read (PGPOOL_REMOTE_OPTIONS appended to the conninfo's own
 *		"options"), whatever the remote role's or database's settings.
 *		keys and values have room for PGPOOL_CONNECT_NPARAMS entries; the
 *		strings are palloc'd in the current context.
 */
static void
conn_connect_params(const char *conninfo, const char **keys,
					const char **values)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	PQconninfoOption *o;
	const char *user_options = NULL;

	for (o = opts; o != NULL && o->keyword != NULL; o++)
	{
		if (strcmp(o->keyword, "options") == 0 && o->val != NULL)
			user_options = o->val;
	}
	keys[0] = "dbname";
	values[0] = conninfo;
	keys[1] = "options";
	values[1] = user_options && user_options[0] != '\0' ?
		psprintf("%s %s", user_options, PGPOOL_REMOTE_OPTIONS) :
		PGPOOL_REMOTE_OPTIONS;
	keys[2] = "client_encoding";
	values[2] = "UTF8";
	keys[3] = "fallback_application_name";
	values[3] = "pgpool_ext";
	keys[4] = NULL;
	values[4] = NULL;
	if (opts)
		PQconninfoFree(opts);
}

/*
 * conn_connect_open
 *		Start connecting slotno (new, or held by a backend whose request
 *		waits for a replacement) with pool's current conninfo.
 */
void
conn_connect_open(int slotno, int pool)
{
	const char *keys[PGPOOL_CONNECT_NPARAMS];
	const char *values[PGPOOL_CONNECT_NPARAMS];
	WorkerConn *wc = &WorkerConns[slotno];

	/* called again once the host names are resolved: same conninfo */
	if (wc->phase != CONN_RESOLVING)
	{
		LWLockAcquire(PoolLock(pool), LW_SHARED);
		strlcpy(wc->conninfo, PoolShared->pools[pool].def.conninfo, PGPOOL_CONNINFO_LEN);
		LWLockRelease(PoolLock(pool));
	}

	conn_connect_params(wc->conninfo, keys, values);
	wc->pool = pool;
	if (wc->phase != CONN_RESOLVING && conn_connect_resolve_start(slotno))
		return;
	wc->phase = CONN_CONNECTING;
	wc->phase_start = GetCurrentTimestamp();
	wc->poll = PGRES_POLLING_WRITING;
	wc->want_write = false;
	wc->max_message = 0;
	wc->conn = ResolveConnectStart(slotno, keys, values);
	wc->serial++;
	if (wc->conn != NULL)
		PQsetNoticeReceiver(wc->conn, conn_connect_notice_receiver, NULL);
	if (wc->conn == NULL || PQstatus(wc->conn) == CONNECTION_BAD)
		conn_connect_failed(slotno, NULL);
}

/*
 * Host names in the conninfo are looked up first, without blocking
 * (resolve.c): true if the slot now waits for that (CONN_RESOLVING), or
 * failed at once.
 */
static bool
conn_connect_resolve_start(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];
	char	   *msg = NULL;
	ResolveStatus rs = ResolveStart(slotno, wc->conninfo, &msg);

	if (rs == RESOLVE_NONE)
		return false;
	wc->phase = CONN_RESOLVING;
	wc->phase_start = GetCurrentTimestamp();
	wc->serial++;
	if (rs == RESOLVE_FAILED)
		conn_connect_failed(slotno, msg);
	return true;
}

/* RESOLVING: are the lookups done?  Then connect to what they found. */
void
conn_connect_resolve_step(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];
	char	   *msg = NULL;

	switch (ResolvePoll(slotno, &msg))
	{
		case RESOLVE_RUNNING:
			break;
		case RESOLVE_FAILED:
			conn_connect_failed(slotno, msg);
			break;
		default:
			conn_connect_open(slotno, wc->pool);
			break;
	}
}

/* CONNECTING: one PQconnectPoll. */
void
conn_connect_step(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];

	wc->poll = PQconnectPoll(wc->conn);
	/* libpq may have moved to another socket (next host or address) */
	wc->serial++;
	if (wc->poll == PGRES_POLLING_OK)
		conn_connect_done(slotno);
	else if (wc->poll == PGRES_POLLING_FAILED)
		conn_connect_failed(slotno, NULL);
}

/*
 * The connection is up: record it and hand it over; or, if it replaces
 * one that could not be reset, run the request that waits for it.
 */
void
conn_connect_done(int slotno)
{
	WorkerConn *wc = &WorkerConns[slotno];
	SlotEntry  *slot = &PoolShared->slots[slotno];
	PoolEntry  *pool = &PoolShared->pools[wc->pool];
	bool		closing;
	bool		password_refused;

	if (PQsetnonblocking(wc->conn, 1) != 0)
	{
		conn_connect_failed(slotno, NULL);
		return;
	}
	wc->phase = CONN_READY;
	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	slot->remote_pid = PQbackendPID(wc->conn);
	slot->used_password = PQconnectionUsedPassword(wc->conn) != 0;
	slot->created_at = PoolSlotClock();
	slot->last_used_at = slot->created_at;
	StatsCount(&pool->stats, STAT_CONNECTS);
	UsageCount(slot->partition, USAGE_CONNECTS);
	pool->backoff_ms = 0;
	pool->next_connect_at = 0;
	slot->reset_pending = false;	/* a new connection has nothing to reset */

	/* a replacement for a held connection (conn_settle) */
	password_refused = PolicyPasswordRefused(pool, slot);
	/* a new one, or a replacement whose holder let go of it meanwhile */
	if (slot->state == SLOT_CONNECTING || slot->state == SLOT_RESETTING)
		PoolHandOver(slotno);
	closing = slot->state == SLOT_CLOSING;
	LWLockRelease(&pool->lock);

	if (password_refused)
	{
		conn_close_libpq(wc, CLOSE_NO_PASSWORD);
		wc->phase = CONN_NONE;
		if (wc->pending_procno >= 0)
			conn_request_reject_pending(slotno, "connection to the remote server was lost",
										"Its replacement did not authenticate with a password.");
		conn_settle(slotno, -1);
	}
	else if (closing)
		conn_settle(slotno, -1);
	else if (wc->pending_procno >= 0)
		conn_request_start_pending(slotno);
}

/* A connect failed: remember why, back off, free the slot. */
void
conn_connect_failed(int slotno, const char *why)
{
	WorkerConn *wc = &WorkerConns[slotno];
	PoolEntry  *pool = &PoolShared->pools[wc->pool];
	char	   *msg = why ? pstrdup(why) : conn_error(wc);
	int			backoff_ms;
	TimestampTz next_at;

	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	StatsCount(&pool->stats, STAT_CONNECT_FAILURES);
	UsageCount(PoolShared->slots[slotno].partition, USAGE_CONNECT_FAILURES);
	strlcpy(pool->last_error, msg, PGPOOL_ERROR_LEN);

	/* back off once per round of attempts */
	if (PolicyBackoff(pool, wc->phase_start, GetCurrentTimestamp(),
					  &backoff_ms, &next_at))
	{
		pool->backoff_ms = backoff_ms;
		pool->next_connect_at = next_at;
	}
	LWLockRelease(&pool->lock);
	ereport(LOG,
			(errmsg("pgpool_ext: could not connect for pool \"%s\"", pool->name),
			 errdetail_internal("%s", msg)));
	conn_close_libpq(wc, CLOSE_CONNECT_FAILED);
	wc->phase = CONN_NONE;
	if (wc->pending_procno >= 0)
		conn_request_reject_pending(slotno, "could not connect to the remote server", msg);
	/* only the worker moves a slot out of CONNECTING */
	if (PoolShared->slots[slotno].state == SLOT_CONNECTING)
		PoolFreeSlot(slotno);
	else
		conn_settle(slotno, -1);	/* a replacement: the holder's is broken */
	pfree(msg);
}
