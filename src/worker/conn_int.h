/*-------------------------------------------------------------------------
 *
 * conn_int.h
 *	  What the worker's connection files share and nobody else sees.
 *
 * The connection code is split by phase: conn.c (the WorkerConn table and
 * the slot's fate: close, settle, recover; ConnStep), connect.c (resolve,
 * connect, backoff), request.c (the request protocol: read the request,
 * send it, stream the results, finish), drain.c (cancel and drain) and
 * reset.c (the reset plan, recycling).  Only those files include this
 * header.  Names say their file: Conn<File>* and conn_<file>_* (conn.c's
 * own are Conn* and conn_*).
 *
 * Locking: a WorkerConn is the worker's private memory, touched by the
 * worker process only; no lock.  Shared state (slots, pools) is read and
 * written under the pool lock, as shmem.h says.
 *
 * src/worker/conn_int.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_CONN_INT_H
#define PGPOOL_CONN_INT_H

#include "libpq-fe.h"
#include "lib/stringinfo.h"

#include "proto/message.h"
#include "shm/policy.h"
#include "shm/shmem.h"

/*
 * Output settings forced on every remote connection (at connect, through
 * the startup packet, which overrides the remote role's and database's
 * settings), restored by every reset and whenever a request changed them.
 * DateStyle ISO and IntervalStyle postgres are the formats the input
 * functions of every backend read whatever its own settings;
 * extra_float_digits 3 prints float4/float8 exactly.  client_encoding is
 * UTF8 (a libpq keyword of its own): backends convert from and to their
 * database encoding.
 */
#define PGPOOL_REMOTE_OPTIONS \
	"-c datestyle=ISO -c intervalstyle=postgres -c extra_float_digits=3"
#define PGPOOL_RESTORE_SETTINGS \
	"SET client_encoding = 'UTF8'; SET datestyle = 'ISO'; " \
	"SET intervalstyle = 'postgres'; SET extra_float_digits = 3"

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
	CONN_RESET					/* the reset plan after release (reset.c) */
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
	PolicyResetStep reset_step;	/* CONN_RESET: the statement running */
	int			extra;			/* CONN_EXTRA_*: a settings command of ours
								 * runs before or after the request's */
	const char *bad_setting;	/* the request ran with this setting
								 * changed (restoring it failed) */
	const char *req_sql;		/* the request, kept (in mcxt) while a */
	int			req_nparams;	/* settings command runs before it */
	const char **req_params;
	Size		max_message;	/* largest row or request on this
								 * connection: see conn_reset_recycle */
	MemoryContext mcxt;			/* reset after each request */
} WorkerConn;

extern WorkerConn *WorkerConns;

/* What conn_request_next_result found (requests, drains and resets). */
typedef enum NextResult
{
	NEXT_RESULT,				/* a result is there */
	NEXT_DONE,					/* the command is complete */
	NEXT_WAIT,					/* wait for the socket */
	NEXT_LOST					/* the connection is gone (handled) */
} NextResult;

/* conn.c */
extern void conn_close_libpq(WorkerConn *wc, PolicyClose why);
extern void conn_drop_notifies(WorkerConn *wc);
extern char *conn_error(WorkerConn *wc);
extern const char *conn_setting_changed(PGconn *conn);
extern bool conn_backend_gave_up(int procno);
extern bool conn_pump(int slotno, bool readable);
extern void conn_lost(int slotno, const char *msg);
extern void conn_settle(int slotno, int done_procno);

/* connect.c */
extern void conn_connect_open(int slotno, int pool);
extern void conn_connect_resolve_step(int slotno);
extern void conn_connect_step(int slotno);
extern void conn_connect_done(int slotno);
extern void conn_connect_failed(int slotno, const char *why);

/* request.c */
extern void conn_request_start_pending(int slotno);
extern void conn_request_reject_pending(int slotno, const char *message,
										const char *detail);
extern void conn_request_step(int slotno);
extern NextResult conn_request_next_result(int slotno, PGresult **res);
extern void conn_request_query_step(int slotno, bool readable);
extern void conn_request_finish_step(int slotno);
extern void conn_request_channel_end(WorkerConn *wc);
extern void conn_request_end(int slotno);

/* drain.c */
extern void conn_drain_cancel(int slotno);
extern void conn_drain_start(int slotno);
extern void conn_drain_step(int slotno, bool readable);

/* reset.c */
extern void conn_reset_step(int slotno, bool readable);

#endif							/* PGPOOL_CONN_INT_H */
