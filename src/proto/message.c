/*-------------------------------------------------------------------------
 *
 * message.c
 *	  The one codec of the messages between a backend and the pool worker.
 *
 * Every message a backend or the worker puts on a channel queue is built
 * here, and every message read from one is taken apart here; the wire
 * formats are written down once, in message.h.  A new request kind or
 * response message is an encoder and a decoder in this file.
 *
 * The primitives (int32, string, bytes) are private.  Encoders append to
 * a StringInfo the caller sends; the worker's encoders read libpq's
 * PGresult directly, so that a row is copied once, into the message.
 * Decoders return pointers into the message where the caller converts
 * the text at once (names, values, the command status), and palloc'd
 * copies where the result must outlive the queue (a request, an error).
 * Texts are carried as the remote sent them (UTF8): converting them to
 * the database encoding is the reader's job (common/text.c).
 *
 * Locking: none; the codec works on private memory only.
 *
 * src/proto/message.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/pgpool_errors.h"
#include "proto/message.h"

static void msg_put_int32(StringInfo buf, int32 v);
static void msg_put_string(StringInfo buf, const char *s);
static void msg_put_bytes(StringInfo buf, const char *data, int32 len);
static void msg_need(MsgReader *r, Size n);
static char msg_get_byte(MsgReader *r);
static int32 msg_get_int32(MsgReader *r);
static const char *msg_get_string(MsgReader *r);
static const char *msg_get_bytes(MsgReader *r, int32 *len);
static int	msg_get_count(MsgReader *r);

/* ---- primitives ---- */

static void
msg_put_int32(StringInfo buf, int32 v)
{
	appendBinaryStringInfo(buf, (const char *) &v, sizeof(int32));
}

/* A string with its NUL; NULL is sent as "". */
static void
msg_put_string(StringInfo buf, const char *s)
{
	if (s == NULL)
		s = "";
	appendBinaryStringInfo(buf, s, strlen(s) + 1);
}

/* Bytes with a length prefix; len -1 is SQL NULL. */
static void
msg_put_bytes(StringInfo buf, const char *data, int32 len)
{
	msg_put_int32(buf, len);
	if (len > 0)
		appendBinaryStringInfo(buf, data, len);
}

/* Refuse to read n bytes past the end of the message. */
static void
msg_need(MsgReader *r, Size n)
{
	if ((Size) (r->end - r->cur) < n)
		elog(ERROR, "pgpool_ext: truncated message from channel");
}

static char
msg_get_byte(MsgReader *r)
{
	msg_need(r, 1);
	return *r->cur++;
}

static int32
msg_get_int32(MsgReader *r)
{
	int32		v;

	msg_need(r, sizeof(int32));
	memcpy(&v, r->cur, sizeof(int32));
	r->cur += sizeof(int32);
	return v;
}

/* A pointer to the terminated string in the message. */
static const char *
msg_get_string(MsgReader *r)
{
	const char *s = r->cur;
	Size		n = strnlen(s, r->end - r->cur);

	msg_need(r, n + 1);
	r->cur += n + 1;
	return s;
}

/* Returns a pointer into the message (not terminated) or NULL for -1. */
static const char *
msg_get_bytes(MsgReader *r, int32 *len)
{
	const char *p;

	*len = msg_get_int32(r);
	if (*len < 0)
	{
		*len = -1;
		return NULL;
	}
	msg_need(r, *len);
	p = r->cur;
	r->cur += *len;
	return p;
}

/*
 * A count (natts, nparams) that the rest of the message can hold: each
 * element takes at least one byte.
 */
static int
msg_get_count(MsgReader *r)
{
	int32		n = msg_get_int32(r);

	if (n < 0)
		elog(ERROR, "pgpool_ext: malformed message from channel");
	msg_need(r, n);
	return n;
}

/* ---- the request ---- */

/*
 * MsgRequestSize
 *		About the size of a request's message, to refuse one over
 *		PGPOOL_MAX_REQUEST before anything is set up.
 */
Size
MsgRequestSize(const char *sql, int nparams, const char *const *params)
{
	Size		size = strlen(sql) + 64;
	int			i;

	for (i = 0; i < nparams; i++)
		size += (params[i] ? strlen(params[i]) : 0) + 4;
	return size;
}

/*
 * MsgEncodeRequest
 *		Backend: the request to run sql (UTF8) with nparams parameters
 *		(UTF8; NULL is SQL NULL).
 */
void
MsgEncodeRequest(StringInfo buf, RequestKind kind, int flags, const char *sql,
				 int nparams, const char *const *params)
{
	int			i;

	appendStringInfoChar(buf, (char) kind);
	appendStringInfoChar(buf, (char) flags);
	msg_put_int32(buf, nparams);
	msg_put_string(buf, sql);
	for (i = 0; i < nparams; i++)
		msg_put_bytes(buf, params[i],
					  params[i] ? (int32) strlen(params[i]) : -1);
}

/*
 * MsgDecodeRequest
 *		Worker: a request message as copies in the current memory context
 *		(the queue's memory is reused as soon as the next message comes).
 */
void
MsgDecodeRequest(const void *data, Size len, MsgRequest *req)
{
	MsgReader	r;
	const char **params;
	int			i;

	MsgReaderInit(&r, data, len);
	req->kind = (RequestKind) msg_get_byte(&r);
	req->flags = (unsigned char) msg_get_byte(&r);
	req->nparams = msg_get_count(&r);
	req->sql = pstrdup(msg_get_string(&r));
	params = palloc(sizeof(char *) * (req->nparams + 1));
	for (i = 0; i < req->nparams; i++)
	{
		int32		plen;
		const char *p = msg_get_bytes(&r, &plen);

		params[i] = p ? pnstrdup(p, plen) : NULL;
	}
	params[req->nparams] = NULL;
	req->params = params;
}

/* ---- responses: encoding (worker) ---- */

/*
 * MsgEncodeRowDescription
 *		The columns of a result (its name and type oid each).
 */
void
MsgEncodeRowDescription(StringInfo buf, const PGresult *res)
{
	int			natts = PQnfields(res);
	int			i;

	appendStringInfoChar(buf, MSG_ROW_DESCRIPTION);
	msg_put_int32(buf, natts);
	for (i = 0; i < natts; i++)
	{
		msg_put_int32(buf, (int32) PQftype(res, i));
		msg_put_string(buf, PQfname(res, i));
	}
}

/*
 * MsgEncodeDataRow
 *		Row row of a result, every value in text form.
 */
void
MsgEncodeDataRow(StringInfo buf, const PGresult *res, int row)
{
	int			natts = PQnfields(res);
	int			i;

	appendStringInfoChar(buf, MSG_DATA_ROW);
	for (i = 0; i < natts; i++)
	{
		if (PQgetisnull(res, row, i))
			msg_put_bytes(buf, NULL, -1);
		else
			msg_put_bytes(buf, PQgetvalue(res, row, i),
						  PQgetlength(res, row, i));
	}
}

/*
 * MsgEncodeCommandDone
 *		The final message of a request that succeeded.
 */
void
MsgEncodeCommandDone(StringInfo buf, const char *status)
{
	appendStringInfoChar(buf, MSG_COMMAND_DONE);
	msg_put_string(buf, status);
}

/*
 * MsgEncodeRemoteError
 *		The final message of a request the remote server failed: its error
 *		fields as it sent them.  An error without a SQLSTATE (libpq's own:
 *		the connection broke) counts as a lost connection, and one without
 *		a primary message is shown with libpq's whole message.
 */
void
MsgEncodeRemoteError(StringInfo buf, const PGresult *res)
{
	const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	appendStringInfoChar(buf, MSG_REMOTE_ERROR);
	msg_put_string(buf, sqlstate ? sqlstate : PGPOOL_SQLSTATE_LOST);
	msg_put_string(buf, primary ? primary : PQresultErrorMessage(res));
	msg_put_string(buf, PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL));
	msg_put_string(buf, PQresultErrorField(res, PG_DIAG_MESSAGE_HINT));
	msg_put_string(buf, PQresultErrorField(res, PG_DIAG_CONTEXT));
}

/*
 * MsgEncodeFailure
 *		The final message of a request that failed in the worker.
 */
void
MsgEncodeFailure(StringInfo buf, const char *sqlstate, const char *message,
				 const char *detail)
{
	appendStringInfoChar(buf, MSG_FAILURE);
	msg_put_string(buf, sqlstate);
	msg_put_string(buf, message);
	msg_put_string(buf, detail);
}

/* ---- responses: decoding (backend) ---- */

/*
 * MsgReaderInit
 *		Start reading a received queue message of len bytes.
 */
void
MsgReaderInit(MsgReader *r, const void *data, Size len)
{
	r->cur = data;
	r->end = r->cur + len;
}

/*
 * MsgNext
 *		The type of the next response message in the queue message (its
 *		body is to be decoded next); false at the end.
 */
bool
MsgNext(MsgReader *r, char *type)
{
	if (r->cur >= r->end)
		return false;
	*type = msg_get_byte(r);
	return true;
}

/*
 * MsgDecodeRowDescription
 *		The number of columns; *types and *names are palloc'd arrays (at
 *		least one entry each) whose names point into the message (UTF8).
 */
int
MsgDecodeRowDescription(MsgReader *r, Oid **types, const char ***names)
{
	int			natts = msg_get_count(r);
	int			i;

	*types = palloc(sizeof(Oid) * Max(natts, 1));
	*names = palloc(sizeof(char *) * Max(natts, 1));
	for (i = 0; i < natts; i++)
	{
		(*types)[i] = (Oid) msg_get_int32(r);
		(*names)[i] = msg_get_string(r);
	}
	return natts;
}

/*
 * MsgDecodeDataRow
 *		The natts values of a row: pointers into the message (UTF8, not
 *		terminated) and their lengths; NULL and -1 for SQL NULL.
 */
void
MsgDecodeDataRow(MsgReader *r, int natts, const char **values, int *lengths)
{
	int			i;

	for (i = 0; i < natts; i++)
	{
		int32		len;

		values[i] = msg_get_bytes(r, &len);
		lengths[i] = len;
	}
}

/*
 * MsgDecodeCommandDone
 *		The command status (UTF8), pointing into the message.
 */
const char *
MsgDecodeCommandDone(MsgReader *r)
{
	return msg_get_string(r);
}

/*
 * MsgDecodeError
 *		A final 'E' or 'F' message (type, already read) as palloc'd copies.
 */
void
MsgDecodeError(MsgReader *r, char type, MsgError *err)
{
	Assert(type == MSG_REMOTE_ERROR || type == MSG_FAILURE);
	err->type = type;
	err->sqlstate = pstrdup(msg_get_string(r));
	err->message = pstrdup(msg_get_string(r));
	err->detail = pstrdup(msg_get_string(r));
	err->hint = type == MSG_REMOTE_ERROR ? pstrdup(msg_get_string(r)) : "";
	err->context = type == MSG_REMOTE_ERROR ? pstrdup(msg_get_string(r)) : "";
}
