/*-------------------------------------------------------------------------
 *
 * remote_error.c
 *	  Carrying remote errors to the backend.
 *
 * The worker packs a remote error's fields (SQLSTATE, message, detail,
 * hint, context) into a channel message; the backend re-raises it with the
 * remote SQLSTATE and adds "remote SQL command: ..." as context, the way
 * postgres_fdw does.  Failures of the worker itself (connection lost,
 * pool dropped) travel the same way with our own SQLSTATE.
 *
 * The fields are converted to the database encoding leniently
 * (TextFromRemoteLenient, common/text.c).
 *
 * src/proto/remote_error.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "libpq-fe.h"

#include "common/pgpool_errors.h"
#include "common/text.h"
#include "proto/remote_error.h"

/*
 * Append one field as the remote sent it (UTF8, or whatever a misbehaving
 * server sends: the backend converts it).
 */
static void
pack_field(StringInfo buf, const char *value)
{
	MsgPutString(buf, value ? value : "");
}

/*
 * RemoteErrorPack
 *		Worker: a final MSG_REMOTE_ERROR message from a failed PGresult.
 */
void
RemoteErrorPack(StringInfo buf, const PGresult *res)
{
	const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	appendStringInfoChar(buf, MSG_REMOTE_ERROR);
	MsgPutString(buf, sqlstate ? sqlstate : "08006");
	pack_field(buf, primary ? primary : PQresultErrorMessage(res));
	pack_field(buf, PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL));
	pack_field(buf, PQresultErrorField(res, PG_DIAG_MESSAGE_HINT));
	pack_field(buf, PQresultErrorField(res, PG_DIAG_CONTEXT));
}

/*
 * RemoteFailurePack
 *		Worker: a final MSG_FAILURE message of our own.
 */
void
RemoteFailurePack(StringInfo buf, const char *sqlstate, const char *message,
				  const char *detail)
{
	appendStringInfoChar(buf, MSG_FAILURE);
	MsgPutString(buf, sqlstate);
	MsgPutString(buf, message);
	MsgPutString(buf, detail);
}

/*
 * Strip the trailing newline libpq puts on messages; the result is in the
 * database encoding (a remote's bytes are UTF8, or anything: see
 * TextFromRemoteLenient).
 */
static char *
chomp(const char *s)
{
	char	   *c = TextFromRemoteLenient(s);
	int			n = strlen(c);

	while (n > 0 && (c[n - 1] == '\n' || c[n - 1] == '\r'))
		c[--n] = '\0';
	return c;
}

/*
 * RemoteErrorRaise
 *		Backend: raise the error carried by a final error message.
 */
void
RemoteErrorRaise(MsgReader *r, char type, const char *sql)
{
	const char *state = MsgGetString(r);
	char	   *message = chomp(MsgGetString(r));
	char	   *detail = chomp(MsgGetString(r));
	char	   *hint = type == MSG_REMOTE_ERROR ? chomp(MsgGetString(r)) : "";
	char	   *context = type == MSG_REMOTE_ERROR ? chomp(MsgGetString(r)) : "";
	int			code = PGPOOL_ERRCODE_LOST;

	if (strlen(state) == 5 && strspn(state, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 5)
		code = MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4]);

	ereport(ERROR,
			(errcode(code),
			 errmsg_internal("%s", message),
			 detail[0] ? errdetail_internal("%s", detail) : 0,
			 hint[0] ? errhint("%s", hint) : 0,
			 context[0] ? errcontext("%s", context) : 0,
			 sql ? errcontext("remote SQL command: %s", sql) : 0));
}
