/*-------------------------------------------------------------------------
 *
 * conn.h
 *	  The pool worker's connections, one per slot: what the loop and the
 *	  janitor may ask of them and know about them.
 *
 * The connection itself (WorkerConn: the PGconn, its phase, the request
 * being served) is private to the connection files (conn_int.h); others
 * see it through these functions only.
 *
 * src/worker/conn.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_CONN_H
#define PGPOOL_CONN_H

#include "datatype/timestamp.h"
#include "port.h"

#include "shm/policy.h"

/*
 * What a connection waits for the remote server (or the resolver) to do:
 * each is bounded by the pool's connect_timeout (janitor).
 */
typedef enum ConnWait
{
	CONN_WAIT_NONE = 0,			/* nothing bounded */
	CONN_WAIT_RESOLVE,			/* host names being looked up */
	CONN_WAIT_CONNECT,			/* connection being established */
	CONN_WAIT_CANCEL,			/* a cancelled query being drained */
	CONN_WAIT_RESET				/* the reset after a release */
} ConnWait;

/* conn.c: the table, one step, the slot's fate */
extern void ConnInitAll(void);
extern void ConnStep(int slotno, uint32 events);
extern void ConnCloseSlot(int slotno, PolicyClose why);
extern void ConnCloseAll(void);
extern void ConnRecoverError(int slotno, const ErrorData *edata);
extern void ConnFailRequest(int slotno, const char *sqlstate,
							const char *message, const char *detail);
extern void ConnGiveUp(int slotno, ConnWait wait);

/* conn.c: what the loop and the janitor may know of a connection */
extern bool ConnInUse(int slotno);
extern bool ConnIsReady(int slotno);
extern bool ConnServing(int procno);
extern ConnWait ConnWaiting(int slotno, int *pool, TimestampTz *since);
extern uint32 ConnWantedEvents(int slotno);
extern pgsocket ConnSocket(int slotno);
extern uint32 ConnSerial(int slotno);
extern int	ConnRemoteInTransaction(int slotno);

/* connect.c */
extern bool ConnConnectStart(int pool, int partition);

/* request.c */
extern void ConnRequestAccept(int procno, int slotno, uint32 epoch);
extern int	ConnRequestOf(int slotno);
extern bool ConnRequestWaits(int slotno);

/* reset.c */
extern void ConnResetStart(int slotno);

#endif							/* PGPOOL_CONN_H */
