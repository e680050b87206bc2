/*-------------------------------------------------------------------------
 *
 * message.h
 *	  The one codec of the messages between a backend and the pool worker:
 *	  every message's wire format, its encoder and its decoder.
 *
 * A backend sends one request on its request queue; the worker answers on
 * the response queue with a stream of response messages ending in exactly
 * one final message (C, E or F).  Several response messages may travel in
 * one queue message: the worker batches them (PGPOOL_BATCH_BYTES) and a
 * reader walks them with MsgNext().  Nothing is aligned or byte-swapped:
 * both ends are processes of the same server.
 *
 * Primitives: int32 is 4 bytes in host order; string is the bytes and a
 * terminating NUL; bytes is an int32 length (-1 for SQL NULL) and that
 * many bytes, not terminated.
 *
 * Request (backend -> worker, one queue message):
 *	 byte kind (RequestKind) | byte flags (REQUEST_FLAG_*) |
 *	 int32 nparams | string sql (UTF8) | nparams x bytes param (UTF8)
 *
 * Responses (worker -> backend), each a type byte and a body:
 *	 'T' row description: int32 natts | natts x (int32 type oid, string
 *		 column name).  Sent before the first row of each result set of a
 *		 REQUEST_QUERY (and for a set without rows), never for
 *		 REQUEST_EXECUTE.
 *	 'D' data row: natts x bytes value (text form, UTF8), natts being the
 *		 preceding 'T''s (it is not repeated).  One row per message;
 *		 REQUEST_QUERY only.
 *	 'C' command done, final: string command status of the last command.
 *	 'E' remote error, final: string sqlstate | string message | string
 *		 detail | string hint | string context; the remote server's fields
 *		 as it sent them ("" when absent; sqlstate 08006 when libpq's own
 *		 error has none, message libpq's whole text when there is no
 *		 primary message).
 *	 'F' failure, final: string sqlstate | string message | string
 *		 detail; an error of the worker's own (connection lost, COPY ...).
 *
 * Decoders check every length against the message and raise "truncated
 * message" (elog ERROR: a can't-happen) instead of reading past it.
 *
 * src/proto/message.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_MESSAGE_H
#define PGPOOL_MESSAGE_H

#include "libpq-fe.h"
#include "lib/stringinfo.h"

/* What a request wants back (the first byte of a request). */
typedef enum RequestKind
{
	REQUEST_QUERY = 'Q',		/* rows wanted */
	REQUEST_EXECUTE = 'X'		/* command status only */
} RequestKind;

/* Request flags (the byte after the kind). */
#define REQUEST_FLAG_LAST	0x01	/* run(): released right after, reset at once */

/* Response message types (first byte of each message). */
#define MSG_ROW_DESCRIPTION	'T'
#define MSG_DATA_ROW		'D'
#define MSG_COMMAND_DONE	'C'
#define MSG_REMOTE_ERROR	'E'
#define MSG_FAILURE			'F'

/* Largest request (SQL text and parameters) a backend may send. */
#define PGPOOL_MAX_REQUEST	(64 * 1024 * 1024)

/* Rows are batched up to about this many bytes per queue message. */
#define PGPOOL_BATCH_BYTES	8192

/* A position in a received queue message; fields are the codec's. */
typedef struct MsgReader
{
	const char *cur;
	const char *end;
} MsgReader;

/* A decoded request: palloc'd copies, in the caller's memory context. */
typedef struct MsgRequest
{
	RequestKind kind;
	int			flags;			/* REQUEST_FLAG_* */
	const char *sql;
	int			nparams;
	const char **params;		/* nparams entries; NULL is SQL NULL */
} MsgRequest;

/*
 * A decoded final error ('E' or 'F'): palloc'd copies, so that it outlives
 * the queue it came from.  Absent fields are "".
 */
typedef struct MsgError
{
	char		type;			/* MSG_REMOTE_ERROR or MSG_FAILURE */
	const char *sqlstate;
	const char *message;
	const char *detail;
	const char *hint;			/* 'E' only */
	const char *context;		/* 'E' only */
} MsgError;

/* the request */
extern Size MsgRequestSize(const char *sql, int nparams,
						   const char *const *params);
extern void MsgEncodeRequest(StringInfo buf, RequestKind kind, int flags,
							 const char *sql, int nparams,
							 const char *const *params);
extern void MsgDecodeRequest(const void *data, Size len, MsgRequest *req);

/* responses: the worker encodes them from libpq's results */
extern void MsgEncodeRowDescription(StringInfo buf, const PGresult *res);
extern void MsgEncodeDataRow(StringInfo buf, const PGresult *res, int row);
extern void MsgEncodeCommandDone(StringInfo buf, const char *status);
extern void MsgEncodeRemoteError(StringInfo buf, const PGresult *res);
extern void MsgEncodeFailure(StringInfo buf, const char *sqlstate,
							 const char *message, const char *detail);

/* responses: the backend walks a queue message and decodes them */
extern void MsgReaderInit(MsgReader *r, const void *data, Size len);
extern bool MsgNext(MsgReader *r, char *type);
extern int	MsgDecodeRowDescription(MsgReader *r, Oid **types,
									const char ***names);
extern void MsgDecodeDataRow(MsgReader *r, int natts, const char **values,
							 int *lengths);
extern const char *MsgDecodeCommandDone(MsgReader *r);
extern void MsgDecodeError(MsgReader *r, char type, MsgError *err);

#endif							/* PGPOOL_MESSAGE_H */
