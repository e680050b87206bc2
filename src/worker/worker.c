/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The pool worker: one event loop over its latch and every remote
 *	  socket.
 *
 * The worker connects to pgpool_ext.database, loads the pool definitions
 * from the extension's tables there whenever a committed change asks for
 * it, and owns every physical connection.  Each turn of the loop it
 * reloads definitions if asked, picks up requests backends submitted,
 * advances every connection by one non-blocking step (conn.c), resets or
 * closes what backends released, runs the janitor (janitor.c), and then
 * sleeps in one WaitEventSet on its latch and the sockets that want
 * something.  Backends set the latch; sockets wake it when remote data or
 * buffer room arrives.
 *
 * Errors: an ERROR raised while the worker serves one request (out of
 * memory on a huge row, a cancel of the worker, a failing helper) is
 * caught at the top of the loop, as PostgreSQL's own auxiliary processes
 * do (sigsetjmp): locks are released, the request being served fails with
 * that error's SQLSTATE (its connection is drained and stays usable), and
 * the loop goes on; nobody else's handle notices.  An error while
 * recovering, or too many in a row, is FATAL; SIGTERM still stops the
 * worker (FATAL is never caught).
 *
 * Restarts: when the worker exits (pg_terminate_backend, error) the
 * postmaster starts it again after a second.  Its sockets died with it, so
 * both on the way out and on the way back in it reconciles shared memory:
 * held connections become SLOT_BROKEN (their holders get 08006), the rest
 * are freed, open requests fail; waiters keep waiting and are served by
 * the new worker's fresh connections.
 *
 * src/worker/worker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <setjmp.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "worker/cancel.h"
#include "backend/channel.h"
#include "common/compat.h"
#include "worker/conn.h"
#include "common/guc.h"
#include "common/interval.h"
#include "common/pgpool_errors.h"
#include "shm/pool.h"
#include "shm/waitq.h"
#include "worker/worker.h"

/* Sockets registered in the wait set, per slot. */
typedef struct Registered
{
	pgsocket	fd;
	uint32		serial;
	uint32		events;
} Registered;

/*
 * Loading definitions (worker_load_config and the functions it calls).  The
 * load runs as a superuser, in its own transaction, with search_path pinned
 * to pg_catalog, pg_temp, and reads every column by name in binary form: no
 * operator, function or cast another role could create is involved.
 * Intervals go through IntervalToMs(), as the SQL functions validate
 * them.  Roles are looked up by name (schema 0.2) or by OID (schema 0.1).
 * Nothing is cut: a row the worker cannot hold whole is refused with a
 * WARNING (LoadVerdict).  The load never waits for a lock on the definition
 * tables (it tries again after PGPOOL_LOAD_RETRY_MS, and the loop meanwhile
 * serves held handles) and waits at most PGPOOL_LOAD_LOCK_TIMEOUT for any
 * other lock.
 */
#define PGPOOL_LOAD_RETRY_MS		200
#define PGPOOL_LOAD_LOCK_TIMEOUT	"50ms"

/* What becomes of a definition read from the table. */
typedef enum LoadVerdict
{
	LOAD_OK = 0,				/* applied */
	LOAD_KEEP,					/* cannot be held whole: the pool keeps its
								 * previous definition, or is not loaded */
	LOAD_SKIP					/* not loaded (dropped if it was): its name
								 * is unusable or its owner does not exist */
} LoadVerdict;

/* One row of pgpool_ext.pool_definition, as read, with its grants. */
typedef struct LoadedDefinition
{
	char		name[PGPOOL_NAME_LEN];	/* "" if unusable */
	PoolDefinition def;
	LoadVerdict verdict;
	Oid		   *grants;			/* every grant read, even beyond
								 * PGPOOL_MAX_GRANTS */
	int			ngrants;
} LoadedDefinition;

/* Column numbers of pool_definition in the load query, found by name. */
typedef struct DefColumns
{
	int			pool_name;
	int			conninfo;
	int			min_size;
	int			max_size;
	int			initial_size;
	int			idle_timeout;
	int			connect_timeout;
	int			reset_query;
	int			password_required;
	int			owner;
	int			created_at;
} DefColumns;

static WaitEventSet *wait_set = NULL;
static Registered *registered = NULL;
static uint32 *slot_events = NULL;
static WaitEvent *occurred = NULL;
static MemoryContext loop_cxt = NULL;

/* What the loop is doing, for error recovery: a slot, a backend, or -1. */
static int	serving_slot = -1;
static int	serving_procno = -1;
static int	errors_in_a_row = 0;

/* More consecutive loop turns ending in ERROR than this is FATAL. */
#define PGPOOL_WORKER_MAX_ERRORS	100

static void worker_reconcile(void);
static void worker_exit(int code, Datum arg);
static void worker_load_config(void);
static bool worker_read_config(void);
static void worker_drop_pool(int idx);
static void worker_apply_definitions(LoadedDefinition *lds, int n);
static void worker_accept_requests(void);
static void worker_handle_released(void);
static void worker_unbusy(int slotno);
static void worker_wait(void);
static void worker_recover(void);
static void worker_step_all(void);
static void worker_read_definition(HeapTuple tup, TupleDesc desc,
								   const DefColumns *c, LoadedDefinition *ld);
static bool worker_copy_text(Datum value, char *dst, int dstlen, int *len);
static int	worker_column(TupleDesc desc, const char *name);
static bool worker_resolve_role(Datum value, Oid type, bool allow_public,
								Oid *roleid, char **label);
static void worker_refuse(LoadedDefinition *ld, LoadVerdict verdict);
static void worker_read_text(HeapTuple tup, TupleDesc desc, int fnum,
							 bool null_ok, LoadedDefinition *ld, char *dst,
							 int dstlen);
static void worker_read_interval(HeapTuple tup, TupleDesc desc, int fnum,
								 LoadedDefinition *ld, int *ms);
static int	worker_read_int(HeapTuple tup, TupleDesc desc, int fnum, int dflt);
static void worker_read_grants(LoadedDefinition *lds, int n);
static void worker_keep_revocations(int idx, const LoadedDefinition *ld);
static bool worker_lock_tables(bool *present);
static void worker_read_leak_options(HeapTuple tup, TupleDesc desc,
									 PoolDefinition *def);

/*
 * PoolRegisterWorker
 *		_PG_init: register the one static pool worker.
 */
void
PoolRegisterWorker(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 1;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pgpool_ext");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "pgpool_ext_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pgpool_ext worker");
	snprintf(worker.bgw_type, BGW_MAXLEN, "pgpool_ext worker");
	RegisterBackgroundWorker(&worker);
}

/*
 * worker_reconcile
 *		No connection survives a worker: mark held slots broken, free the
 *		rest, fail open requests.  Runs at worker exit and start.
 */
static void
worker_reconcile(void)
{
	int			i;

	for (i = 0; i < PoolShared->nslots; i++)
	{
		SlotEntry  *slot = &PoolShared->slots[i];
		int			pool = slot->pool;
		bool		free_it = false;

		if (pool < 0)
			continue;
		LWLockAcquire(PoolLock(pool), LW_EXCLUSIVE);
		if (slot->pool == pool)
		{
			if (slot->holder_procno >= 0 &&
				(slot->state == SLOT_ACQUIRED || slot->state == SLOT_BUSY ||
				 slot->state == SLOT_BROKEN))
				PoolSetSlotState(i, SLOT_BROKEN);
			else
			{
				/* off the idle list now: nobody may take it before it is freed */
				PoolSetSlotState(i, SLOT_CLOSING);
				free_it = true;
			}
		}
		LWLockRelease(PoolLock(pool));
		if (free_it)
			PoolFreeSlot(i);
	}
	ChannelFailAll();
}

/* before_shmem_exit: close sockets, reconcile, unregister. */
static void
worker_exit(int code, Datum arg)
{
	LWLockReleaseAll();
	ConnCloseAll();
	LWLockAcquire(&PoolShared->lock, LW_EXCLUSIVE);
	PoolShared->worker_pid = 0;
	PoolShared->worker_latch = NULL;
	LWLockRelease(&PoolShared->lock);
	worker_reconcile();
	ConditionVariableBroadcast(&PoolShared->config_cv);
}

/*
 * pgpool_ext_worker_main
 *		Entry point of the pool worker.
 */
void
pgpool_ext_worker_main(Datum arg)
{
	sigjmp_buf	local_sigjmp_buf;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(pgpool_database, NULL, 0);
	pgstat_report_appname("pgpool_ext worker");

	ConnInitAll();
	registered = MemoryContextAllocZero(TopMemoryContext,
										sizeof(Registered) * PoolShared->nslots);
	slot_events = MemoryContextAllocZero(TopMemoryContext,
										 sizeof(uint32) * PoolShared->nslots);
	occurred = MemoryContextAllocZero(TopMemoryContext,
									  sizeof(WaitEvent) * (PoolShared->nslots + 2));

	worker_reconcile();
	before_shmem_exit(worker_exit, (Datum) 0);
	LWLockAcquire(&PoolShared->lock, LW_EXCLUSIVE);
	PoolShared->worker_pid = MyProcPid;
	PoolShared->worker_procno = PGPOOL_MY_PROCNO;
	PoolShared->worker_epoch++;
	PoolShared->worker_latch = MyLatch;
	LWLockRelease(&PoolShared->lock);
	ereport(LOG, (errmsg("pgpool_ext worker started in database \"%s\"",
						 pgpool_database)));

	loop_cxt = AllocSetContextCreate(TopMemoryContext, "pgpool_ext worker loop",
									 ALLOCSET_DEFAULT_SIZES);

	/* an ERROR comes back here (FATAL exits); see worker_recover() */
	if (sigsetjmp(local_sigjmp_buf, 1) != 0)
		worker_recover();
	PG_exception_stack = &local_sigjmp_buf;

	for (;;)
	{
		/* everything allocated during one turn is freed at the next */
		MemoryContextReset(loop_cxt);
		MemoryContextSwitchTo(loop_cxt);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (pg_atomic_read_u64(&PoolShared->config_loaded) <
			pg_atomic_read_u64(&PoolShared->config_requested))
		{
			worker_load_config();
			MemoryContextSwitchTo(loop_cxt);
		}
		worker_accept_requests();
		worker_step_all();
		worker_handle_released();
		JanitorRun();
		errors_in_a_row = 0;
		worker_wait();
	}
}

/* Advance every connection by one step. */
static void
worker_step_all(void)
{
	int			i;

	for (i = 0; i < PoolShared->nslots; i++)
	{
		uint32		events = slot_events[i];

		/* an error in a step must not repeat it on the same events */
		slot_events[i] = 0;
		if (WorkerConns[i].phase == CONN_NONE)
			continue;
		serving_slot = i;
		ConnStep(i, events);
	}
	serving_slot = -1;
}

/*
 * worker_recover
 *		Back from an ERROR raised in the loop: clean up like an auxiliary
 *		process does after an error (locks, condition variable, wait event,
 *		transaction, memory, error state), report it, and fail only the
 *		request being served when it happened.  The loop then goes on.
 */
static void
worker_recover(void)
{
	ErrorData  *edata;
	int			slotno = serving_slot;
	int			procno = serving_procno;

	/* an ERROR from here on is FATAL: the postmaster restarts the worker */
	PG_exception_stack = NULL;
	error_context_stack = NULL;
	HOLD_INTERRUPTS();
	serving_slot = -1;
	serving_procno = -1;
	LWLockReleaseAll();
	ConditionVariableCancelSleep();
	pgstat_report_wait_end();
	AbortCurrentTransaction();
	MemoryContextSwitchTo(loop_cxt);
	edata = CopyErrorData();
	EmitErrorReport();
	FlushErrorState();
	MemoryContextSwitchTo(loop_cxt);
	if (++errors_in_a_row > PGPOOL_WORKER_MAX_ERRORS)
		ereport(FATAL,
				(errmsg("pgpool_ext worker: %d errors in a row, restarting",
						errors_in_a_row - 1)));

	/*
	 * The request being served fails with this error; the rest go on.  (While
	 * accepting a request, the slot's connection is that request's only once
	 * it is attached to it.)
	 */
	if (slotno >= 0 && (procno < 0 || WorkerConns[slotno].procno == procno))
		ConnRecoverError(slotno, edata);
	else
		slotno = -1;
	if (procno >= 0 && !ConnServing(procno) && ChannelWorkerClaimed(procno))
		ChannelWorkerRejectCode(procno, unpack_sql_state(edata->sqlerrcode),
								edata->message, edata->detail);
	ereport(LOG,
			(errmsg("pgpool_ext worker recovered from an error"),
			 slotno >= 0 ?
			 errdetail("The request on connection %d failed with it.", slotno) :
			 errdetail("No request was being served.")));
	RESUME_INTERRUPTS();
}

/* Start work on every request backends submitted. */
static void
worker_accept_requests(void)
{
	int			i;

	for (i = 0; i < PoolShared->nbackends; i++)
	{
		int			slotno;
		uint32		epoch;

		/* unlocked peek; the claim rechecks under the spinlock */
		if (PoolShared->backends[i].chan_state != CHAN_SUBMITTED)
			continue;
		if (!ChannelWorkerClaim(i, &slotno, &epoch))
			continue;
		serving_procno = i;
		serving_slot = slotno >= 0 && slotno < PoolShared->nslots ? slotno : -1;
		ConnAcceptRequest(i, slotno, epoch);
	}
	serving_procno = -1;
	serving_slot = -1;
}

/* Reset what was released after use; close what was marked closing. */
static void
worker_handle_released(void)
{
	int			i;

	for (i = 0; i < PoolShared->nslots; i++)
	{
		SlotEntry  *slot = &PoolShared->slots[i];
		WorkerConn *wc = &WorkerConns[i];

		if (slot->pool < 0 || wc->procno >= 0)
			continue;
		/*
		 * Unlocked peeks: a backend sets the state or reset_pending before
		 * the latch that wakes us; the worker sets reset_pending itself
		 * after run().
		 */
		serving_slot = i;
		if (slot->state == SLOT_CLOSING &&
			(wc->phase == CONN_READY || wc->phase == CONN_NONE))
			ConnCloseSlot(i, "closed");
		else if ((slot->state == SLOT_RESETTING || slot->reset_pending) &&
				 wc->phase == CONN_READY)
			ConnStartReset(i);
		else if (slot->state == SLOT_BUSY && wc->phase == CONN_READY &&
				 wc->pending_procno < 0)
			worker_unbusy(i);
	}
	serving_slot = -1;
}

/*
 * worker_unbusy
 *		A held slot is BUSY while nothing is in flight on it: its holder
 *		withdrew a request submitted on it while the worker still drained an
 *		earlier one, or gave up a request that waited for a replacement.
 *		Show it ACQUIRED again.  A backend marks a slot BUSY and submits on
 *		it under the pool lock, so what is seen here under that lock holds.
 */
static void
worker_unbusy(int slotno)
{
	SlotEntry  *slot = &PoolShared->slots[slotno];
	int			pool = slot->pool;

	LWLockAcquire(PoolLock(pool), LW_EXCLUSIVE);
	if (slot->pool == pool && slot->state == SLOT_BUSY &&
		slot->holder_procno >= 0 &&
		!ChannelRequestOn(slot->holder_procno, slotno))
		PoolSetSlotState(slotno, SLOT_ACQUIRED);
	LWLockRelease(PoolLock(pool));
}

/* Rebuild the wait set if the sockets of interest changed, then wait. */
static void
worker_wait(void)
{
	bool		changed = (wait_set == NULL);
	int			nsockets = 0;
	int			i;
	int			n;

	for (i = 0; i < PoolShared->nslots; i++)
	{
		WorkerConn *wc = &WorkerConns[i];
		uint32		ev = ConnWantedEvents(i);
		pgsocket	fd = ev ? PQsocket(wc->conn) : PGINVALID_SOCKET;

		if (ev)
			nsockets++;
		if (registered[i].events != ev || registered[i].fd != fd ||
			registered[i].serial != wc->serial)
			changed = true;
		registered[i].events = ev;
		registered[i].fd = fd;
		registered[i].serial = wc->serial;
	}
	/* cancel requests being connected (cancel.c) wait here too */
	if (CancelSocketsChanged())
		changed = true;
	if (changed)
	{
		if (wait_set)
			FreeWaitEventSet(wait_set);
		wait_set = NULL;		/* if creating the next one fails */
		wait_set = CreateWaitEventSet(TopMemoryContext,
									  nsockets + CancelCount() + 2);
		AddWaitEventToSet(wait_set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
		AddWaitEventToSet(wait_set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
		for (i = 0; i < PoolShared->nslots; i++)
			if (registered[i].events)
				AddWaitEventToSet(wait_set, registered[i].events, registered[i].fd,
								  NULL, (void *) (intptr_t) (i + 1));
		CancelAddToWaitSet(wait_set, PoolShared->nslots);
	}

	memset(slot_events, 0, sizeof(uint32) * PoolShared->nslots);
	n = WaitEventSetWait(wait_set, JanitorTimeout(), occurred, nsockets + 2,
						 PGPOOL_WAIT_WORKER);
	for (i = 0; i < n; i++)
	{
		if (occurred[i].events & WL_LATCH_SET)
			ResetLatch(MyLatch);
		else if ((intptr_t) occurred[i].user_data > PoolShared->nslots)
			CancelSocketReady((intptr_t) occurred[i].user_data - PoolShared->nslots - 1);
		else if (occurred[i].user_data != NULL)
			slot_events[(intptr_t) occurred[i].user_data - 1] |= occurred[i].events;
	}
}

/*
 * worker_copy_text
 *		Copy a text datum into dst (size dstlen, with its terminating zero);
 *		false, leaving dst empty, if it does not fit whole.  *len is its
 *		length in bytes.
 */
static bool
worker_copy_text(Datum value, char *dst, int dstlen, int *len)
{
	text	   *t = DatumGetTextPP(value);

	*len = VARSIZE_ANY_EXHDR(t);
	dst[0] = '\0';
	if (*len >= dstlen)
		return false;
	memcpy(dst, VARDATA_ANY(t), *len);
	dst[*len] = '\0';
	return true;
}

/*
 * worker_column
 *		Number of the column called name in a result; an error (the load is
 *		abandoned, the previous definitions stay) if there is none.
 */
static int
worker_column(TupleDesc desc, const char *name)
{
	int			fnum = SPI_fnumber(desc, name);

	if (fnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("pgpool_ext: column \"%s\" is missing from the pool definitions",
						name)));
	return fnum;
}

/*
 * worker_resolve_role
 *		The role a stored owner or grantee names: a role name ('public' for
 *		PUBLIC when allow_public), as schema 0.2 stores it, or an OID (0 for
 *		PUBLIC), as schema 0.1's regrole columns did.  *roleid is
 *		InvalidOid for PUBLIC.  Returns false if no such role exists;
 *		*label is what to call the role in a message either way.
 */
static bool
worker_resolve_role(Datum value, Oid type, bool allow_public, Oid *roleid,
					char **label)
{
	if (type == TEXTOID)
	{
		char	   *name = TextDatumGetCString(value);

		*label = name;
		*roleid = InvalidOid;
		if (allow_public && strcmp(name, "public") == 0)
			return true;
		if (strlen(name) >= NAMEDATALEN)
			return false;
		*roleid = get_role_oid(name, true);
		return OidIsValid(*roleid);
	}

	/* schema 0.1: regrole, read as its OID */
	if (type != REGROLEOID && type != OIDOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("pgpool_ext: a role column of the pool definitions has type %s",
						format_type_be(type))));
	*roleid = DatumGetObjectId(value);
	if (allow_public && *roleid == InvalidOid)
	{
		*label = "public";
		return true;
	}
	if (OidIsValid(*roleid) &&
		SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(*roleid)))
	{
		*label = GetUserNameFromId(*roleid, false);
		return true;
	}
	*label = psprintf("OID %u", *roleid);
	return false;
}

/*
 * worker_refuse
 *		Record that a definition cannot be used as read (the caller logged
 *		why); the worse verdict wins.
 */
static void
worker_refuse(LoadedDefinition *ld, LoadVerdict verdict)
{
	if (verdict > ld->verdict)
		ld->verdict = verdict;
}

/*
 * worker_read_text
 *		One text column of a definition into dst: it must fit whole in
 *		shared memory (a cut conninfo could lose, say, a trailing
 *		sslmode=verify-full), or the row is refused.  NULL is refused unless
 *		null_ok (dst then stays empty).
 */
static void
worker_read_text(HeapTuple tup, TupleDesc desc, int fnum, bool null_ok,
				 LoadedDefinition *ld, char *dst, int dstlen)
{
	const char *column = NameStr(TupleDescAttr(desc, fnum - 1)->attname);
	bool		isnull;
	Datum		v = SPI_getbinval(tup, desc, fnum, &isnull);
	int			len = 0;

	if (isnull ? null_ok : worker_copy_text(v, dst, dstlen, &len))
		return;
	ereport(WARNING,
			(errcode(PGPOOL_ERRCODE_LIMIT),
			 errmsg("pgpool_ext: definition of pool \"%s\" ignored: its %s is %s",
					ld->name, column,
					isnull ? "null" : psprintf("%d bytes long", len)),
			 errdetail("A %s must be shorter than %d bytes; it is never cut.",
					   column, dstlen),
			 errhint("The pool keeps its previous definition, if it had one.")));
	worker_refuse(ld, LOAD_KEEP);
}

/*
 * worker_read_interval
 *		An interval column in milliseconds, converted as the SQL functions
 *		convert the arguments they validate (IntervalToMs); the row is
 *		refused if the value is null, negative or out of range.
 */
static void
worker_read_interval(HeapTuple tup, TupleDesc desc, int fnum,
					 LoadedDefinition *ld, int *ms)
{
	bool		isnull;
	Datum		v = SPI_getbinval(tup, desc, fnum, &isnull);

	*ms = 0;
	if (!isnull && IntervalToMs(DatumGetIntervalP(v), ms))
		return;
	ereport(WARNING,
			(errcode(PGPOOL_ERRCODE_BAD_ARGUMENT),
			 errmsg("pgpool_ext: definition of pool \"%s\" ignored: %s is %s",
					ld->name, NameStr(TupleDescAttr(desc, fnum - 1)->attname),
					isnull ? "null" :
					DatumGetCString(DirectFunctionCall1(interval_out, v))),
			 errdetail("A timeout must be between 0 and %d milliseconds.",
					   PG_INT32_MAX),
			 errhint("The pool keeps its previous definition, if it had one.")));
	worker_refuse(ld, LOAD_KEEP);
}

/*
 * worker_read_int
 *		An integer column; NULL reads as dflt.
 */
static int
worker_read_int(HeapTuple tup, TupleDesc desc, int fnum, int dflt)
{
	bool		isnull;
	Datum		v = SPI_getbinval(tup, desc, fnum, &isnull);

	return isnull ? dflt : DatumGetInt32(v);
}

/*
 * worker_read_leak_options
 *		The leak detection options (schema 0.3; before ALTER EXTENSION
 *		UPDATE their columns are missing and the defaults apply): NULL or
 *		out-of-range leak_threshold follows pgpool_ext.leak_threshold.
 *		XXX: to be replaced by rows of the option table (branch lay-opts).
 */
static void
worker_read_leak_options(HeapTuple tup, TupleDesc desc, PoolDefinition *def)
{
	int			f;
	bool		isnull;
	Datum		v;
	int			len;

	def->leak_threshold_ms = -1;
	f = SPI_fnumber(desc, "leak_threshold");
	v = f > 0 ? SPI_getbinval(tup, desc, f, &isnull) : (Datum) 0;
	if (f > 0 && !isnull &&
		!IntervalToMs(DatumGetIntervalP(v), &def->leak_threshold_ms))
		def->leak_threshold_ms = -1;
	f = SPI_fnumber(desc, "leak_action");
	v = f > 0 ? SPI_getbinval(tup, desc, f, &isnull) : (Datum) 0;
	if (f <= 0 || isnull ||
		!worker_copy_text(v, def->leak_action, PGPOOL_LEAK_ACTION_LEN, &len))
		strlcpy(def->leak_action, "report", PGPOOL_LEAK_ACTION_LEN);
	f = SPI_fnumber(desc, "leak_reclaim_after");
	v = f > 0 ? SPI_getbinval(tup, desc, f, &isnull) : (Datum) 0;
	if (f <= 0 || isnull ||
		!IntervalToMs(DatumGetIntervalP(v), &def->leak_reclaim_after_ms))
		def->leak_reclaim_after_ms = 0;
}

/*
 * worker_read_definition
 *		Read one row of pool_definition, by column name and in binary form
 *		(no operator, no text conversion), into ld, refusing what cannot be
 *		held whole or names a missing owner.
 */
static void
worker_read_definition(HeapTuple tup, TupleDesc desc, const DefColumns *c,
					   LoadedDefinition *ld)
{
	PoolDefinition *def = &ld->def;
	bool		isnull;
	Datum		v;
	int			len;
	char	   *label;

	memset(ld, 0, sizeof(LoadedDefinition));
	ld->verdict = LOAD_OK;
	v = SPI_getbinval(tup, desc, c->pool_name, &isnull);
	if (isnull || !worker_copy_text(v, ld->name, PGPOOL_NAME_LEN, &len) || len == 0)
	{
		ereport(WARNING,
				(errcode(PGPOOL_ERRCODE_LIMIT),
				 errmsg("pgpool_ext: a pool definition was not loaded: its name is %d bytes long",
						isnull ? 0 : len),
				 errdetail("A pool name must be 1 to %d bytes long.",
						   PGPOOL_NAME_LEN - 1)));
		ld->name[0] = '\0';
		worker_refuse(ld, LOAD_SKIP);
		return;
	}
	worker_read_text(tup, desc, c->conninfo, false, ld, def->conninfo,
					 PGPOOL_CONNINFO_LEN);
	worker_read_text(tup, desc, c->reset_query, true, ld, def->reset_query,
					 PGPOOL_RESET_LEN);
	def->min_size = worker_read_int(tup, desc, c->min_size, 0);
	def->max_size = worker_read_int(tup, desc, c->max_size, 0);
	def->initial_size = worker_read_int(tup, desc, c->initial_size,
										def->min_size);
	worker_read_interval(tup, desc, c->idle_timeout, ld, &def->idle_timeout_ms);
	worker_read_interval(tup, desc, c->connect_timeout, ld,
						 &def->connect_timeout_ms);
	v = SPI_getbinval(tup, desc, c->password_required, &isnull);
	def->password_required = isnull || DatumGetBool(v);
	v = SPI_getbinval(tup, desc, c->created_at, &isnull);
	def->created_at = isnull ? 0 : DatumGetTimestampTz(v);
	worker_read_leak_options(tup, desc, def);

	v = SPI_getbinval(tup, desc, c->owner, &isnull);
	if (isnull ||
		!worker_resolve_role(v, SPI_gettypeid(desc, c->owner), false,
							 &def->owner, &label))
	{
		ereport(WARNING,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("pgpool_ext: pool \"%s\" not loaded: its owner role \"%s\" does not exist",
						ld->name, isnull ? "" : label),
				 errhint("Create the role, or drop the pool and create it again; pgpool_ext.missing_roles lists such definitions.")));
		worker_refuse(ld, LOAD_SKIP);
	}
}

/*
 * worker_read_grants
 *		Read pool_usage and attach each grant to its definition.  A grant to
 *		a role that does not exist is skipped; a pool with more grants than
 *		shared memory holds is refused whole.
 */
static void
worker_read_grants(LoadedDefinition *lds, int n)
{
	TupleDesc	desc;
	int			c_pool;
	int			c_role;
	uint64		r;
	int			i;

	if (SPI_execute("SELECT pool_name, role FROM pgpool_ext.pool_usage",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "pgpool_ext: could not read pgpool_ext.pool_usage");
	desc = SPI_tuptable->tupdesc;
	c_pool = worker_column(desc, "pool_name");
	c_role = worker_column(desc, "role");
	for (i = 0; i < n; i++)
		lds[i].grants = palloc(sizeof(Oid) * Max(SPI_processed, 1));
	for (r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		bool		isnull;
		Datum		v = SPI_getbinval(tup, desc, c_pool, &isnull);
		char	   *pool = isnull ? "" : TextDatumGetCString(v);
		LoadedDefinition *ld = NULL;
		Oid			roleid;
		char	   *label;

		for (i = 0; i < n && ld == NULL; i++)
			if (lds[i].name[0] != '\0' && strcmp(lds[i].name, pool) == 0)
				ld = &lds[i];
		if (ld == NULL)
			continue;			/* its definition was refused */
		v = SPI_getbinval(tup, desc, c_role, &isnull);
		if (isnull ||
			!worker_resolve_role(v, SPI_gettypeid(desc, c_role), true,
								 &roleid, &label))
		{
			ereport(WARNING,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("pgpool_ext: usage of pool \"%s\" by role \"%s\" skipped: the role does not exist",
							ld->name, isnull ? "" : label),
					 errhint("Create the role, or revoke the usage; pgpool_ext.missing_roles lists such grants.")));
			continue;
		}
		ld->grants[ld->ngrants++] = roleid;
	}
	for (i = 0; i < n; i++)
	{
		LoadedDefinition *ld = &lds[i];

		if (ld->ngrants <= PGPOOL_MAX_GRANTS)
		{
			memcpy(ld->def.grants, ld->grants, sizeof(Oid) * ld->ngrants);
			ld->def.ngrants = ld->ngrants;
			continue;
		}
		ereport(WARNING,
				(errcode(PGPOOL_ERRCODE_LIMIT),
				 errmsg("pgpool_ext: definition of pool \"%s\" ignored: it has %d usage grants, more than %d",
						ld->name, ld->ngrants, PGPOOL_MAX_GRANTS),
				 errhint("The pool keeps its previous definition, if it had one. Grant usage to a group role instead.")));
		worker_refuse(ld, LOAD_KEEP);
	}
}

/*
 * worker_load_config
 *		Read every pool definition in a fresh transaction and apply it.  A
 *		failure (say, tables of an older version) is logged and the old
 *		definitions stay; backends waiting for the load are released.  If a
 *		definition table is locked (LOCK TABLE, VACUUM FULL...), nothing is
 *		loaded and the load is tried again on a later turn, at most every
 *		PGPOOL_LOAD_RETRY_MS: the loop never waits for that lock, and
 *		backends waiting for the load keep waiting.
 */
static void
worker_load_config(void)
{
	static TimestampTz retry_at = 0;
	uint64		target = pg_atomic_read_u64(&PoolShared->config_requested);
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool loaded = false;

	if (retry_at != 0 && GetCurrentTimestamp() < retry_at)
		return;
	retry_at = 0;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		loaded = worker_read_config();
		if (loaded)
			CommitTransactionCommand();
		else
			AbortCurrentTransaction();
	}
	PG_CATCH();
	{
		bool		busy;

		MemoryContextSwitchTo(cxt);
		/*
		 * A locked table, or a cancel of the worker while it loads
		 * (pg_cancel_backend): try again later rather than mark the
		 * committed change as loaded.
		 */
		busy = (geterrcode() == ERRCODE_LOCK_NOT_AVAILABLE ||
				geterrcode() == ERRCODE_QUERY_CANCELED);
		if (!busy)
			EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		if (!busy)
		{
			ereport(WARNING,
					(errmsg("pgpool_ext: could not load pool definitions; keeping the previous ones")));
			loaded = true;		/* nothing to retry: release the waiters */
		}
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	pgstat_report_activity(STATE_IDLE, NULL);
	if (!loaded)
	{
		elog(DEBUG1, "pgpool_ext: pool definitions are locked; loading them later");
		retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											   PGPOOL_LOAD_RETRY_MS);
		/* requests on held handles need not wait for it (handle.c) */
		pg_atomic_write_u64(&PoolShared->config_deferred, target);
		ConditionVariableBroadcast(&PoolShared->config_cv);
		return;
	}

	pg_atomic_write_u32(&PoolShared->janitor_wanted, 1);
	pg_atomic_write_u64(&PoolShared->config_loaded, target);
	ConditionVariableBroadcast(&PoolShared->config_cv);
}

/*
 * worker_lock_tables
 *		Inside the load transaction: pin search_path, bound every lock wait,
 *		and take the definition tables' locks without waiting.  *present is
 *		false if the extension is not installed (no pools at all).  Returns
 *		false if a table is locked by someone else.
 */
static bool
worker_lock_tables(bool *present)
{
	Oid			nsp;
	Oid			def_rel;
	Oid			usage_rel;

	/*
	 * The worker runs as a superuser: no name in what it runs may resolve
	 * to an object some other role created (an operator in public, say).
	 */
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
							 true, 0, false);
	(void) set_config_option("lock_timeout", PGPOOL_LOAD_LOCK_TIMEOUT,
							 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
							 true, 0, false);
	*present = false;
	if (!OidIsValid(get_extension_oid("pgpool_ext", true)))
		return true;
	nsp = get_namespace_oid("pgpool_ext", false);
	def_rel = get_relname_relid("pool_definition", nsp);
	usage_rel = get_relname_relid("pool_usage", nsp);
	if (!OidIsValid(def_rel) || !OidIsValid(usage_rel))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("pgpool_ext: the pool definition tables are missing")));
	if (!ConditionalLockRelationOid(def_rel, AccessShareLock) ||
		!ConditionalLockRelationOid(usage_rel, AccessShareLock))
		return false;
	*present = true;
	return true;
}

/*
 * worker_read_config
 *		Inside a transaction: read the definitions and apply them.  False
 *		(nothing applied) if the tables are locked.
 */
static bool
worker_read_config(void)
{
	LoadedDefinition *lds = NULL;
	int			n = 0;
	uint64		i;
	bool		present;

	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pgpool_ext: loading pool definitions");

	if (!worker_lock_tables(&present))
	{
		PopActiveSnapshot();
		SPI_finish();
		return false;
	}
	if (present)
	{
		DefColumns	c;
		TupleDesc	desc;

		/* every column by name, in binary form: no operator is involved */
		if (SPI_execute("SELECT * FROM pgpool_ext.pool_definition ORDER BY pool_name",
						true, 0) != SPI_OK_SELECT)
			elog(ERROR, "pgpool_ext: could not read pgpool_ext.pool_definition");
		desc = SPI_tuptable->tupdesc;
		c.pool_name = worker_column(desc, "pool_name");
		c.conninfo = worker_column(desc, "conninfo");
		c.min_size = worker_column(desc, "min_size");
		c.max_size = worker_column(desc, "max_size");
		c.initial_size = worker_column(desc, "initial_size");
		c.idle_timeout = worker_column(desc, "idle_timeout");
		c.connect_timeout = worker_column(desc, "connect_timeout");
		c.reset_query = worker_column(desc, "reset_query");
		c.password_required = worker_column(desc, "password_required");
		c.owner = worker_column(desc, "owner");
		c.created_at = worker_column(desc, "created_at");

		n = (int) SPI_processed;
		lds = palloc0(sizeof(LoadedDefinition) * Max(n, 1));
		for (i = 0; i < SPI_processed; i++)
			worker_read_definition(SPI_tuptable->vals[i], desc, &c, &lds[i]);
		worker_read_grants(lds, n);
	}
	worker_apply_definitions(lds, n);

	PopActiveSnapshot();
	SPI_finish();
	return true;
}

/* Put a new pool into a free entry; caller holds the global lock. */
static void
worker_create_pool(int idx, const char *name, PoolDefinition *def)
{
	PoolEntry  *pool = &PoolShared->pools[idx];
	uint32		gen = pool->generation + 1;

	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	memset((char *) pool + offsetof(PoolEntry, in_use), 0,
		   sizeof(PoolEntry) - offsetof(PoolEntry, in_use));
	pool->generation = gen;
	strlcpy(pool->name, name, PGPOOL_NAME_LEN);
	pool->def = *def;
	pool->def_version = 1;
	StatsReset(&pool->stats);
	pool->in_use = true;
	LWLockRelease(&pool->lock);
	pool->default_partition = PoolCreatePartitionLocked(idx, "");
	JanitorSetInitial(idx, Max(def->initial_size, def->min_size));
}

/* Wake every backend queued on a pool (it was dropped). */
static void
worker_wake_waiters(int pool)
{
	int			p;
	int			prio;
	dlist_iter	iter;

	for (p = 0; p < PoolShared->npartitions; p++)
	{
		PartitionEntry *part = &PoolShared->partitions[p];

		if (!part->in_use || part->pool != pool)
			continue;
		for (prio = 0; prio < PGPOOL_NPRIORITIES; prio++)
			dlist_foreach(iter, &part->waiters[prio])
			{
				BackendEntry *be = dlist_container(BackendEntry, wait_node, iter.cur);

				SetLatch(&GetPGProcByNumber(be - PoolShared->backends)->procLatch);
			}
	}
}

/* Start dropping a pool; caller holds the global lock. */
static void
worker_drop_pool(int idx)
{
	PoolEntry  *pool = &PoolShared->pools[idx];

	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	pool->dropping = true;
	worker_wake_waiters(idx);
	LWLockRelease(&pool->lock);
}

/*
 * worker_keep_revocations
 *		A pool keeps its previous definition (the new one was refused), but
 *		not a grant the table no longer holds: a revocation always applies.
 *		Caller holds the global lock.
 */
static void
worker_keep_revocations(int idx, const LoadedDefinition *ld)
{
	PoolEntry  *pool = &PoolShared->pools[idx];
	int			kept = 0;
	int			g;
	int			j;

	LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
	for (g = 0; g < pool->def.ngrants; g++)
	{
		for (j = 0; j < ld->ngrants; j++)
			if (ld->grants[j] == pool->def.grants[g])
				break;
		if (j < ld->ngrants)
			pool->def.grants[kept++] = pool->def.grants[g];
	}
	pool->def.ngrants = kept;
	LWLockRelease(&pool->lock);
}

/*
 * worker_apply_definitions
 *		Make shared memory match the definitions just read: create new
 *		pools, update changed ones, start dropping removed ones.  A refused
 *		definition (see LoadVerdict) leaves its pool as it was, or drops it.
 */
static void
worker_apply_definitions(LoadedDefinition *lds, int n)
{
	bool	   *seen = palloc0(sizeof(bool) * PoolShared->npools);
	int			i;

	LWLockAcquire(&PoolShared->lock, LW_EXCLUSIVE);
	for (i = 0; i < n; i++)
	{
		LoadedDefinition *ld = &lds[i];
		int			idx;
		PoolEntry  *pool;

		if (ld->verdict == LOAD_SKIP)
			continue;
		idx = PoolFindByName(ld->name);

		/* same name, another definition: the old pool was dropped */
		if (idx >= 0 && PoolShared->pools[idx].def.created_at != ld->def.created_at)
		{
			worker_drop_pool(idx);
			idx = -1;
		}
		if (ld->verdict == LOAD_KEEP)
		{
			/* keep what the pool had; a new pool is not loaded */
			if (idx >= 0)
			{
				worker_keep_revocations(idx, ld);
				seen[idx] = true;
			}
			continue;
		}
		if (idx < 0)
		{
			for (idx = 0; idx < PoolShared->npools; idx++)
				if (!PoolShared->pools[idx].in_use)
					break;
			if (idx >= PoolShared->npools)
			{
				ereport(WARNING,
						(errmsg("pgpool_ext: pool \"%s\" not loaded: too many pools",
								ld->name),
						 errhint("Increase pgpool_ext.max_pools.")));
				continue;
			}
			worker_create_pool(idx, ld->name, &ld->def);
		}
		else
		{
			pool = &PoolShared->pools[idx];
			LWLockAcquire(&pool->lock, LW_EXCLUSIVE);
			if (strcmp(pool->def.conninfo, ld->def.conninfo) != 0)
				pool->def_version++;
			pool->def = ld->def;
			pool->next_connect_at = 0;
			pool->backoff_ms = 0;
			LWLockRelease(&pool->lock);
		}
		seen[idx] = true;
	}
	for (i = 0; i < PoolShared->npools; i++)
	{
		PoolEntry  *pool = &PoolShared->pools[i];

		if (!pool->in_use || pool->dropping || seen[i])
			continue;
		worker_drop_pool(i);
	}
	LWLockRelease(&PoolShared->lock);
	pfree(seen);
}
