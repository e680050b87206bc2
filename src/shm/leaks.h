/*-------------------------------------------------------------------------
 *
 * leaks.h
 *	  Leak detection's shared state: the acquire site of every held slot,
 *	  the ring of the last leak events, and the handles reclaimed from each
 *	  backend.
 *
 * Locking (lock order: PoolShared->lock, then a pool's lock, then
 * LeakShared->lock; never the other way):
 *
 *	 LeakSlot	one per slot, protected by the lock of the slot's pool (the
 *				same lock as the slot's state and holder): the holder
 *				writes the acquire site and counts requests [B]; the worker
 *				marks a report [W].  Every field describes the handle in
 *				LeakSlot.handle only: it is compared with slot->handle
 *				before use, so nothing needs clearing at release.
 *	 history	the ring of the last PGPOOL_LEAK_HISTORY leak events and the
 *				per-backend lists of reclaimed handles: LeakShared->lock
 *				(exclusive to write, shared to read).
 *
 * src/shm/leaks.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_LEAKS_H
#define PGPOOL_LEAKS_H

#include "datatype/timestamp.h"
#include "storage/lwlock.h"

#include "shm/shmem.h"

/* Bytes kept of the acquiring statement and of its call stack (with the
 * terminating zero). */
#define PGPOOL_LEAK_QUERY_LEN	1024
#define PGPOOL_LEAK_CONTEXT_LEN	1024
/* Leak events kept for pgpool_ext.leak_history. */
#define PGPOOL_LEAK_HISTORY		100
/* Reclaimed handles remembered per backend (for the holder's 08003). */
#define PGPOOL_LEAK_RECLAIMED	4

/* The acquire site and use of the handle held on one slot. */
typedef struct LeakSlot
{
	int64		handle;			/* [B] the handle described here, 0: none */
	bool		has_site;		/* [B] query, context, role captured */
	uint64		requests;		/* [B] requests made on the handle */
	Oid			session_user;	/* [B] holder's session user (visibility) */
	char		role[NAMEDATALEN];	/* [B] acquiring role's name */
	char		query[PGPOOL_LEAK_QUERY_LEN];	/* [B] masked, truncated */
	char		context[PGPOOL_LEAK_CONTEXT_LEN];	/* [B] PL/pgSQL stack */

	int64		reported;		/* [W] handle reported leaked, 0: none */
	uint64		event_seq;		/* [W] its leak_history event */
	int			remote_xact;	/* [W] -1 unknown, 0 no, 1 in a remote
								 * transaction (for handle == reported) */
} LeakSlot;

/* One leak event (pgpool_ext.leak_history). */
typedef struct LeakEvent
{
	uint64		seq;			/* 0: entry unused */
	TimestampTz detected_at;
	int64		handle;
	char		pool_name[PGPOOL_NAME_LEN];
	char		partition[PGPOOL_NAME_LEN];
	int			holder_pid;
	Oid			session_user;	/* holder's session user (visibility) */
	Oid			role_oid;		/* acquiring role */
	char		role[NAMEDATALEN];	/* its name if captured, else "" */
	char		application_name[NAMEDATALEN];
	TimestampTz acquired_at;
	TimestampTz released_at;	/* 0: not yet */
	bool		reclaimed;
	bool		has_site;
	char		query[PGPOOL_LEAK_QUERY_LEN];
	char		context[PGPOOL_LEAK_CONTEXT_LEN];
} LeakEvent;

/* A handle taken back from a backend, for its next call's error. */
typedef struct LeakReclaimed
{
	int64		handle;
	int			pid;
	int64		held_ms;
} LeakReclaimed;

typedef struct LeakSharedState
{
	LWLock	   *lock;			/* history and reclaimed, see above */
	uint64		next_seq;		/* sequence of the next event */
	LeakEvent	history[PGPOOL_LEAK_HISTORY];	/* ring: seq % size */
	LeakSlot   *slots;			/* nslots */
	LeakReclaimed *reclaimed;	/* nbackends * PGPOOL_LEAK_RECLAIMED */
} LeakSharedState;

extern LeakSharedState *LeakShared;

extern Size LeaksShmemSize(void);
extern void LeaksShmemRequest(void);
extern void LeaksShmemStartup(void);

extern int	LeakThresholdMs(const PoolDefinition *def);
extern bool LeakReclaims(const PoolDefinition *def);
extern void LeakNoteRequest(int slotno);
extern void LeakReleased(int slotno);
extern void LeakReleasedLog(void);
extern uint64 LeakHistoryAdd(const LeakEvent *event);
extern void LeakHistoryEnd(uint64 seq, int64 handle, TimestampTz at,
						   bool reclaimed);
extern void LeakNoteReclaimed(int procno, int pid, int64 handle,
							  int64 held_ms);
extern bool LeakWasReclaimed(int64 handle, int64 *held_ms);

#endif							/* PGPOOL_LEAKS_H */
