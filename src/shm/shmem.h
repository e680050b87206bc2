/*-------------------------------------------------------------------------
 *
 * shmem.h
 *	  Shared-memory layout of pgpool_ext: pools, partitions, slots,
 *	  backends and their channels.
 *
 * Model: a pool has partitions (one per partition key, "" being the
 * default); a partition has slots (one per physical remote connection)
 * and a wait queue.  Slots, partitions and pools live in fixed arrays
 * sized at postmaster start.
 *
 * Locking.  Two kinds of LWLock, always taken in this order:
 *
 *	 1. PoolShared->lock ("global"): membership of the arrays.  Exclusive to
 *		put a pool, partition or slot into use or take it out of use
 *		(pool->in_use, partition->in_use / pool / key, slot->pool /
 *		partition); shared to look names up.
 *	 2. pool->lock (one per pool): everything that belongs to one pool at
 *		run time: its counters, its partitions' queues and counts, and the
 *		state and holder of every slot whose slot->pool is that pool.
 *
 * A slot's pool/partition fields change only while the slot is SLOT_FREE
 * and only with both locks held exclusively, so holding either lock is
 * enough to read them.  Channel fields are protected by the channel's
 * spinlock.  Statistics counters are under the pool lock; the latency
 * histograms (partition_stats) are atomics, recorded without a lock
 * (stats.h).
 *
 * Writers are tagged [B] (a backend), [W] (the pool worker), [BW] (both).
 *
 * Glossary.
 *
 *	 slot		an entry of PoolShared->slots: the shared record of one place
 *				for a remote connection (state, holder, counters).  The
 *				code says "slot" for this record everywhere.
 *	 connection	the worker's libpq connection that fills a slot (WorkerConn,
 *				private to the connection files: src/worker/conn_int.h).
 *	 handle		what acquire() returns: a random part and a slot number
 *				(handle.c); valid while slot->handle equals it.
 *	 partition	a pool's sub-pool for one partition key; "" is the default.
 *	 channel	a backend's request and response queues (shm_mq) to the
 *				worker, and its state (BackendEntry.chan_*).
 *
 * Counters that tell "the same thing as before" from "a new one":
 *
 *	 pool->generation		bumped when a pool entry is reused for another
 *							pool (a stale PoolRef is detected by it)
 *	 pool->def_version		bumped when the conninfo changes: connections
 *							opened with an older one are replaced
 *	 slot->generation		bumped at every acquire of the slot
 *	 slot->def_version		the pool's def_version the connection was
 *							opened with
 *	 WorkerConn.serial		[W] bumped for each new libpq connection of a
 *							slot (worker-private)
 *	 worker_epoch			bumped at each worker start; a request
 *							submitted in an older epoch is lost
 *	 config_requested/loaded/deferred
 *							definition changes committed / loaded by the
 *							worker / put off because the tables were locked
 *
 * src/shm/shmem.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_SHMEM_H
#define PGPOOL_SHMEM_H

#include "datatype/timestamp.h"
#include "lib/ilist.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shm_mq.h"
#include "storage/spin.h"

#include "shm/stats.h"

#define PGPOOL_NAME_LEN			NAMEDATALEN
#define PGPOOL_CONNINFO_LEN		1024
#define PGPOOL_RESET_LEN		512
#define PGPOOL_ERROR_LEN		512
#define PGPOOL_MAX_GRANTS		32
#define PGPOOL_LEAK_ACTION_LEN	8
#define PGPOOL_NPRIORITIES		4
#define PGPOOL_REQUEST_QUEUE_SIZE	(16 * 1024)

/* How long a backend waits for a pool worker that is not running. */
#define PGPOOL_WORKER_GRACE_MS	5000

/*
 * Handle layout: a random number drawn at every acquire in the high bits
 * (47 of them, so that the handle stays a positive bigint), slot index in
 * the low 16.
 */
#define PGPOOL_HANDLE_SLOT_BITS	16
#define PGPOOL_MAX_SLOTS		(1 << PGPOOL_HANDLE_SLOT_BITS)
#define PGPOOL_HANDLE_RANDOM_BITS	(63 - PGPOOL_HANDLE_SLOT_BITS)

typedef enum PoolPriority
{
	PRIORITY_LOW = 0,
	PRIORITY_NORMAL,
	PRIORITY_HIGH,
	PRIORITY_CRITICAL
} PoolPriority;

typedef enum PoolScope
{
	SCOPE_SESSION = 0,
	SCOPE_TRANSACTION
} PoolScope;

/*
 * State of one slot (physical connection).  All transitions go through
 * PoolSetSlotState() in pool.c, which keeps the partition's counts.
 */
typedef enum PoolSlotState
{
	SLOT_FREE = 0,				/* unused, belongs to no pool */
	SLOT_CONNECTING,			/* worker is connecting */
	SLOT_IDLE,					/* connected, free, on its partition's idle list */
	SLOT_ACQUIRED,				/* held by a handle, nothing in flight */
	SLOT_BUSY,					/* held, a request is in flight */
	SLOT_RESETTING,				/* released after use, not held: the worker
								 * resets it (ROLLBACK + reset query); listed
								 * (acquirable) unless released mid-request */
	SLOT_BROKEN,				/* held, but its connection is gone */
	SLOT_CLOSING				/* worker is to close it */
} PoolSlotState;

#define PGPOOL_NSTATES	(SLOT_CLOSING + 1)

/* Definition of a pool, as loaded from pgpool_ext.pool_definition. [W] */
typedef struct PoolDefinition
{
	char		conninfo[PGPOOL_CONNINFO_LEN];
	int			min_size;
	int			max_size;
	int			initial_size;
	int			idle_timeout_ms;	/* 0: never close idle connections */
	int			connect_timeout_ms;
	bool		password_required;
	char		reset_query[PGPOOL_RESET_LEN];
	Oid			owner;
	int64		created_at;		/* identity of the definition (µs) */
	int			ngrants;
	Oid			grants[PGPOOL_MAX_GRANTS];	/* InvalidOid = PUBLIC */
	/* leak detection (shm/leaks.h) */
	int			leak_threshold_ms;	/* 0: off; -1: pgpool_ext.leak_threshold */
	char		leak_action[PGPOOL_LEAK_ACTION_LEN];	/* report, reclaim */
	int			leak_reclaim_after_ms;
	/* sizing advice (sql/efficiency.c) */
	int			target_wait_ms; /* wait p95 target; 0 (schema not yet
								 * updated to 0.4): the default, 10 ms */
} PoolDefinition;

typedef struct PoolEntry
{
	LWLock		lock;			/* protects the rest of the struct, its
								 * partitions' run-time fields and its
								 * slots' state */
	bool		in_use;			/* [W] global + pool lock */
	bool		dropping;		/* [W] dropped: drain and free */
	uint32		generation;		/* [W] bumped each time the entry is reused */
	char		name[PGPOOL_NAME_LEN];	/* [W] */
	PoolDefinition def;			/* [W] */
	uint32		def_version;	/* [W] bumped when conninfo changes */
	int			default_partition;	/* [W] index of the "" partition */

	/* run time, [BW] under pool lock */
	int			nconns;			/* slots with a connection or connecting */
	int			nconnecting;
	int			nclosing;		/* slots CLOSING (counted in nconns) */
	int			nwaiting;
	TimestampTz next_connect_at;	/* [W] backoff after failures */
	int			backoff_ms;		/* [W] */
	char		last_error[PGPOOL_ERROR_LEN];	/* [W] password removed */

	PoolStats	stats;			/* [BW] under pool lock: stats.c */
} PoolEntry;

/*
 * One per partition key of a pool.  The table has pgpool_ext.max_partitions
 * + max_pools entries: a default partition ("") for every pool entry is
 * always left free (pool.c, pool_partition_fits).
 */
typedef struct PartitionEntry
{
	bool		in_use;			/* [BW] global lock */
	int			pool;			/* [BW] global lock */
	char		key[PGPOOL_NAME_LEN];	/* [BW] global lock */

	/* under the pool's lock */
	dlist_head	waiters[PGPOOL_NPRIORITIES];	/* BackendEntry.wait_node */
	dlist_head	idle;			/* SlotEntry.idle_node: IDLE slots, most
								 * recent first, then RESETTING ones */
	int			nwaiting;
	int			count[PGPOOL_NSTATES];	/* slots of this partition by state */
} PartitionEntry;

typedef struct SlotEntry
{
	/* membership: global + pool lock to change, either to read */
	int			pool;			/* -1 when SLOT_FREE */
	int			partition;

	/* under the pool's lock */
	PoolSlotState state;		/* [BW] */
	dlist_node	idle_node;		/* on partition->idle while listed */
	bool		listed;			/* [BW] on partition->idle: SLOT_IDLE, or
								 * SLOT_RESETTING offered to acquirers */
	uint32		generation;		/* [BW] bumped at every acquire */
	int64		handle;			/* [BW] the holder's handle number (random
								 * part, slot); 0 if not held */
	int			holder_procno;	/* [BW] -1 if not held */
	int			holder_pid;		/* [BW] */
	Oid			holder_role;	/* [BW] role that acquired it: the handle is
								 * usable by roles with its privileges */
	bool		holder_superuser;	/* [BW] holder_role is a superuser */
	PoolScope	scope;			/* [BW] */
	TimestampTz acquired_at;	/* [BW] */
	bool		dirty;			/* [BW] used since acquire: reset on release */
	bool		reset_pending;	/* [BW] reset before the next request runs
								 * (the worker clears it when done) */

	uint32		def_version;	/* [W] pool def version it was opened with */
	bool		used_password;	/* [W] the remote asked for a password */
	int			remote_pid;		/* [W] */
	TimestampTz created_at;		/* [W] */
	TimestampTz last_used_at;	/* [BW] */
	uint64		uses;			/* [B] acquires of this connection */
} SlotEntry;

typedef enum ChannelState
{
	CHAN_IDLE = 0,				/* no request; backend may set up queues */
	CHAN_SUBMITTED,				/* [B] queues made, request being sent */
	CHAN_ACTIVE,				/* [W] worker attached, working on it */
	CHAN_FAILED					/* [W] worker died: backend must give up */
} ChannelState;

/*
 * One per PGPROC.  Waiting fields are under the lock of the pool being
 * waited on; channel fields under the channel spinlock.
 */
typedef struct BackendEntry
{
	/* waiting for a connection, under the pool lock of wait_pool */
	dlist_node	wait_node;
	bool		waiting;		/* [BW] on a queue */
	int			wait_pool;		/* [B] */
	int			wait_partition; /* [B] */
	PoolPriority priority;		/* [B] */
	PoolScope	wait_scope;		/* [B] */
	Oid			wait_role;		/* [B] */
	bool		wait_superuser; /* [B] wait_role is a superuser */
	int			pid;			/* [B] */
	TimestampTz wait_start;		/* [B] */
	int			granted_slot;	/* [BW] slot handed over, or -1 */

	/* channel to the worker, under mutex */
	slock_t		mutex;
	ChannelState chan_state;
	int			chan_slot;		/* [B] slot the request runs on */
	uint32		chan_epoch;		/* [B] worker epoch at submit */
	bool		chan_cancel;	/* [B] backend gave up: cancel remotely */
} BackendEntry;

typedef struct PoolSharedState
{
	LWLock		lock;			/* "global" lock, see above */
	int			tranche_id;

	/* worker, [W] under lock */
	pid_t		worker_pid;
	int			worker_procno;
	Latch	   *worker_latch;
	uint32		worker_epoch;	/* bumped at each worker start */

	/* configuration generations */
	pg_atomic_uint64 config_requested;	/* [B] bumped at commit */
	pg_atomic_uint64 config_loaded; /* [W] */
	pg_atomic_uint64 config_deferred;	/* [W] config_requested at the last
										 * load put off (tables locked) */
	ConditionVariable config_cv;	/* broadcast after each load */

	pg_atomic_uint32 janitor_wanted;	/* [BW] something changed: look now */

	int			npools;
	int			npartitions;
	int			nslots;
	int			nbackends;
	Size		channel_size;

	PoolEntry  *pools;
	PartitionEntry *partitions;
	SlotEntry  *slots;
	BackendEntry *backends;
	char	   *channels;		/* per backend: request + response queue */
	PartitionStats *partition_stats;	/* per partition entry: stats.c */
	struct PoolUsage *pool_usage;	/* per pool entry: shm/usage.h */
	struct PartitionUsage *partition_usage; /* per partition entry */
} PoolSharedState;

extern PoolSharedState *PoolShared;

/* The latency statistics of partition entry i (stats.h). */
#define PoolPartitionStats(i)	(&PoolShared->partition_stats[(i)])

/* The usage (time-weighted gauges, events) of partition i and pool p. */
#define PoolPartitionUsage(i)	(&PoolShared->partition_usage[(i)])
#define PoolPoolUsage(p)		(&PoolShared->pool_usage[(p)])

extern void PoolShmemRequest(void);
extern void PoolShmemStartup(void);
extern void PoolShmemCheckPreloaded(void);
extern shm_mq *PoolShmemRequestQueue(int procno);
extern shm_mq *PoolShmemResponseQueue(int procno);

#endif							/* PGPOOL_SHMEM_H */
