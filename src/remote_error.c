/*-------------------------------------------------------------------------
 *
 * remote_error.c
 *	  Carrying remote errors to the backend, and keeping passwords out of
 *	  everything a user or a log can see.
 *
 * The worker packs a remote error's fields (SQLSTATE, message, detail,
 * hint, context) into a channel message; the backend re-raises it with the
 * remote SQLSTATE and adds "remote SQL command: ..." as context, the way
 * postgres_fdw does.  Failures of the worker itself (connection lost,
 * pool dropped) travel the same way with our own SQLSTATE.
 *
 * Passwords: PoolMaskConninfo rebuilds a conninfo with every secret option
 * (password, sslpassword: libpq marks them with dispchar "*") replaced by
 * ********; PoolScrubSecret blanks any occurrence of those secrets inside a
 * libpq message before it is stored or logged.
 *
 * src/remote_error.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "libpq-fe.h"

#include "pgpool_errors.h"
#include "remote_error.h"

#define PGPOOL_MASK "********"

/* Is this libpq option a secret (password, sslpassword, ...)? */
static bool
option_is_secret(const PQconninfoOption *o)
{
	return o->dispchar != NULL && o->dispchar[0] == '*';
}

/*
 * PoolMaskConninfo
 *		The conninfo as shown to users: every set option, password masked.
 *		An unparsable conninfo is shown as a mask as a whole.
 */
char *
PoolMaskConninfo(const char *conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	PQconninfoOption *o;
	StringInfoData buf;

	if (opts == NULL)
		return pstrdup(PGPOOL_MASK);
	initStringInfo(&buf);
	for (o = opts; o->keyword != NULL; o++)
	{
		const char *v;

		if (o->val == NULL || o->val[0] == '\0')
			continue;
		v = option_is_secret(o) ? PGPOOL_MASK : o->val;
		if (buf.len > 0)
			appendStringInfoChar(&buf, ' ');
		appendStringInfo(&buf, "%s=", o->keyword);
		if (strpbrk(v, " '\\") != NULL || v[0] == '\0')
		{
			appendStringInfoChar(&buf, '\'');
			for (; *v; v++)
			{
				if (*v == '\'' || *v == '\\')
					appendStringInfoChar(&buf, '\\');
				appendStringInfoChar(&buf, *v);
			}
			appendStringInfoChar(&buf, '\'');
		}
		else
			appendStringInfoString(&buf, v);
	}
	PQconninfoFree(opts);
	return buf.data;
}

/*
 * PoolScrubSecret
 *		Overwrite in place every occurrence of conninfo's secrets (password,
 *		sslpassword) in msg.
 */
void
PoolScrubSecret(char *msg, const char *conninfo)
{
	PQconninfoOption *opts;
	PQconninfoOption *o;

	if (msg == NULL || conninfo == NULL ||
		(opts = PQconninfoParse(conninfo, NULL)) == NULL)
		return;
	for (o = opts; o->keyword != NULL; o++)
	{
		char	   *p;

		if (!option_is_secret(o) || o->val == NULL || o->val[0] == '\0')
			continue;
		while ((p = strstr(msg, o->val)) != NULL)
			memset(p, '*', strlen(o->val));
	}
	PQconninfoFree(opts);
}

/* Append one field, scrubbed. */
static void
pack_field(StringInfo buf, const char *value, const char *conninfo)
{
	char	   *copy = pstrdup(value ? value : "");

	PoolScrubSecret(copy, conninfo);
	MsgPutString(buf, copy);
	pfree(copy);
}

/*
 * RemoteErrorPack
 *		Worker: a final MSG_REMOTE_ERROR message from a failed PGresult.
 */
void
RemoteErrorPack(StringInfo buf, const PGresult *res, const char *conninfo)
{
	const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	appendStringInfoChar(buf, MSG_REMOTE_ERROR);
	MsgPutString(buf, sqlstate ? sqlstate : "08006");
	pack_field(buf, primary ? primary : PQresultErrorMessage(res), conninfo);
	pack_field(buf, PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL), conninfo);
	pack_field(buf, PQresultErrorField(res, PG_DIAG_MESSAGE_HINT), conninfo);
	pack_field(buf, PQresultErrorField(res, PG_DIAG_CONTEXT), conninfo);
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

/* Strip the trailing newline libpq puts on messages. */
static char *
chomp(const char *s)
{
	char	   *c = pstrdup(s);
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

	if (strlen(state) == 5)
		code = MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4]);

	ereport(ERROR,
			(errcode(code),
			 errmsg_internal("%s", message),
			 detail[0] ? errdetail_internal("%s", detail) : 0,
			 hint[0] ? errhint("%s", hint) : 0,
			 context[0] ? errcontext("%s", context) : 0,
			 sql ? errcontext("remote SQL command: %s", sql) : 0));
}
