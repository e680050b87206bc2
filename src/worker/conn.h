/*-------------------------------------------------------------------------
 *
 * conn.h
 *	  The pool worker's non-blocking libpq state machine, one per slot.
 *
 * src/worker/conn.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_CONN_H
#define PGPOOL_CONN_H

#include "libpq-fe.h"
#include "lib/stringinfo.h"

#include "shm/shmem.h"

/* What the worker is doing with a slot's connection (worker-local). */
typedef enum ConnPhase
{
	CONN_NONE = 0,				/* no libpq connection */
	CONN_RESOLVING,				/* looking up host names (resolve.c) */
	CONN_CONNECTING,			/* PQconnectPoll in progress */
	CONN_READY,					/* connected, nothing in flight */
	CONN_REQUEST,				/* reading a request from the backend */
	CONN_QUERY,					/* remote query running, rows streaming */
	CONN_FINISH,				/* results done, flushing the last messages */
	CONN_DRAIN,					/* cancelled: discarding remote results */
	CONN_RESET					/* ROLLBACK and reset query after release */
} ConnPhase;

/* A command of ours around the request's own (WorkerConn.extra). */
#define CONN_EXTRA_NONE		0
#define CONN_EXTRA_BEFORE	1	/* restoring the settings, request next */
#define CONN_EXTRA_AFTER	2	/* restoring the settings, request failed */

typedef struct WorkerConn
{
	PGconn	   *conn;
	uint32		serial;			/* bumped for each new PGconn */
	ConnPhase	phase;
	PostgresPollingStatusType poll; /* CONNECTING: what to wait for */
	TimestampTz phase_start;
	int			pool;
	char		conninfo[PGPOOL_CONNINFO_LEN];	/* the one connected with */
	bool		want_write;		/* PQflush has more to send */
	bool		cancel_sent;	/* a cancel went out for the running query */

	/* the request being served */
	int			procno;			/* backend, or -1 */
	int			pending_procno; /* claimed request waiting for the reset */
	int			drain_procno;	/* CONN_DRAIN: whose request it was */
	bool		last_request;	/* REQUEST_FLAG_LAST: reset when done */
	shm_mq_handle *req;
	shm_mq_handle *resp;
	RequestKind kind;
	bool		sending;		/* out is partly in the queue: resend it */
	bool		have_desc;		/* a row description was sent for this set */
	bool		failed;			/* an error message is the final one */
	bool		copy_out;		/* discarding the data of a refused COPY TO */
	char		status[64];		/* last command status */
	StringInfoData out;			/* messages not yet in the queue */
	StringInfoData final;		/* error message, if any */
	int			reset_step;		/* CONN_RESET: 0 rollback, 1 reset query,
								 * 2 output settings */
	int			extra;			/* CONN_EXTRA_*: a settings command of ours
								 * runs before or after the request's */
	const char *bad_setting;	/* the request ran with this setting
								 * changed (restoring it failed) */
	const char *req_sql;		/* the request, kept (in mcxt) while a */
	int			req_nparams;	/* settings command runs before it */
	const char **req_params;
	Size		max_message;	/* largest row or request on this
								 * connection: see conn_recycle */
	MemoryContext mcxt;			/* reset after each request */
} WorkerConn;

extern WorkerConn *WorkerConns;

extern void ConnInitAll(void);
extern bool ConnStartConnect(int pool, int partition);
extern void ConnAcceptRequest(int procno, int slotno, uint32 epoch);
extern void ConnStep(int slotno, uint32 events);
extern void ConnStartReset(int slotno);
extern void ConnFailConnect(int slotno, const char *why);
extern void ConnCloseSlot(int slotno, const char *why);
extern void ConnCloseAll(void);
extern uint32 ConnWantedEvents(int slotno);
extern void ConnRecoverError(int slotno, const ErrorData *edata);
extern bool ConnServing(int procno);
extern void ConnFailRequest(int slotno, const char *sqlstate,
							const char *message, const char *detail);
extern int	ConnRemoteInTransaction(int slotno);

#endif							/* PGPOOL_CONN_H */
