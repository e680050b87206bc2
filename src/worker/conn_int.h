/*-------------------------------------------------------------------------
 *
 * conn_int.h
 *	  What the worker's connection files share and nobody else sees.
 *
 * The connection code is split by phase: conn.c (the WorkerConn table and
 * the slot's fate: close, settle, recover; ConnStep), connect.c (resolve,
 * connect, backoff), request.c (the request protocol: read the request,
 * send it, stream the results, finish), drain.c (cancel and drain) and
 * reset.c (rollback, reset query, settings).  Only those files include
 * this header.
 *
 * src/worker/conn_int.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_CONN_INT_H
#define PGPOOL_CONN_INT_H

#include "worker/conn.h"

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

typedef enum NextResult
{
	NEXT_RESULT,				/* a result is there */
	NEXT_DONE,					/* the command is complete */
	NEXT_WAIT,					/* wait for the socket */
	NEXT_LOST					/* the connection is gone (handled) */
} NextResult;

extern void conn_close_libpq(WorkerConn *wc);
extern void conn_drop_notifies(WorkerConn *wc);
extern char *conn_error(WorkerConn *wc);
extern void conn_open(int slotno, int pool);
extern void conn_resolve_step(int slotno);
extern void conn_connect_step(int slotno);
extern void conn_connected(int slotno);
extern void conn_start_pending(int slotno);
extern void conn_reject_pending(int slotno, const char *message,
								const char *detail);
extern bool conn_backend_gave_up(int procno);
extern const char *conn_setting_changed(PGconn *conn);
extern void conn_request_step(int slotno);
extern NextResult conn_next_result(int slotno, PGresult **res);
extern bool conn_pump(int slotno, bool readable);
extern void conn_query_step(int slotno, bool readable);
extern void conn_finish_step(int slotno);
extern void conn_cancel(int slotno);
extern void conn_start_drain(int slotno);
extern void conn_drain_step(int slotno, bool readable);
extern void conn_channel_end(WorkerConn *wc);
extern void conn_request_end(int slotno);
extern void conn_lost(int slotno, const char *msg);
extern void conn_settle(int slotno, int done_procno);
extern void conn_reset_step(int slotno, bool readable);

#endif							/* PGPOOL_CONN_INT_H */
