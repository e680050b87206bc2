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
 * ********.  Messages are not searched for the password: libpq's messages
 * about a connection never contain it (they name host, port, user and
 * database), and a remote server's errors do not either; blanking every
 * occurrence of the password's text would reveal it when it equals a word
 * of the message and corrupt errors that merely contain the same text.
 *
 * Encodings: remote connections talk UTF8.  Backends convert what they
 * send (PoolTextToRemote) and what they receive: values strictly
 * (PoolTextFromRemote), error fields leniently (PoolTextFromRemoteLenient:
 * bytes that cannot be shown become \xNN).  The worker keeps libpq's and
 * remote servers' messages in shared memory and the log as ASCII
 * (PoolTextAscii), valid in every database of the cluster.
 *
 * src/proto/remote_error.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "common/string.h"
#include "libpq-fe.h"
#include "mb/pg_wchar.h"

#include "common/pgpool_errors.h"
#include "proto/remote_error.h"

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
 * PoolTextFromRemoteLenient).
 */
static char *
chomp(const char *s)
{
	char	   *c = PoolTextFromRemoteLenient(s);
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

/*
 * PoolTextFromRemote
 *		Backend: a text received from a remote connection (UTF8, len bytes,
 *		not necessarily terminated) as a palloc'd string in the database
 *		encoding.  Invalid UTF8 raises 22021, a character the database
 *		encoding lacks 22P05: such a value must not become a datum.
 */
char *
PoolTextFromRemote(const char *s, int len)
{
	char	   *copy = palloc(len + 1);

	memcpy(copy, s, len);
	copy[len] = '\0';
	/* verifies even when no conversion is needed */
	return pg_any_to_server(copy, len, PG_UTF8);
}

/*
 * PoolTextToRemote
 *		Backend: a string of the database encoding as the UTF8 a remote
 *		connection expects (22P05 if it cannot be converted; in a SQL_ASCII
 *		database, 22021 if it is not UTF8).
 */
char *
PoolTextToRemote(const char *s)
{
	return pg_server_to_any(s, strlen(s), PG_UTF8);
}

/* Append byte c as \xNN. */
static void
append_escaped_byte(StringInfo buf, unsigned char c)
{
	appendStringInfo(buf, "\\x%02x", c);
}

/*
 * PoolTextFromRemoteLenient
 *		Backend: like PoolTextFromRemote for texts that must be shown
 *		whatever they hold (remote error fields): bytes that are not valid
 *		UTF8, and characters the database encoding lacks, become \xNN.
 */
char *
PoolTextFromRemoteLenient(const char *s)
{
	int			len = strlen(s);
	int			db = GetDatabaseEncoding();
	bool		keep_utf8 = db == PG_UTF8 || db == PG_SQL_ASCII;
	Oid			proc = InvalidOid;
	StringInfoData buf;
	int			i = 0;

	if (pg_verify_mbstr(PG_UTF8, s, len, true) &&
		(keep_utf8 || pg_is_ascii(s)))
		return pstrdup(s);
	if (!keep_utf8)
		proc = FindDefaultConversionProc(PG_UTF8, db);
	initStringInfo(&buf);
	while (i < len)
	{
		const unsigned char *c = (const unsigned char *) s + i;
		int			l = IS_HIGHBIT_SET(*c) ? pg_utf_mblen(c) : 1;
		unsigned char out[8 * MAX_CONVERSION_GROWTH];
		int			j;

		if (l == 1 && !IS_HIGHBIT_SET(*c))
			appendStringInfoChar(&buf, (char) *c);
		else if (i + l > len || !pg_utf8_islegal(c, l))
		{
			append_escaped_byte(&buf, *c);
			l = 1;
		}
		else if (keep_utf8)
			appendBinaryStringInfo(&buf, (const char *) c, l);
		else if (OidIsValid(proc) &&
				 pg_do_encoding_conversion_buf(proc, PG_UTF8, db,
											   unconstify(unsigned char *, c), l,
											   out, sizeof(out), true) == l)
			appendStringInfoString(&buf, (char *) out);
		else
		{
			for (j = 0; j < l; j++)
				append_escaped_byte(&buf, c[j]);
		}
		i += l;
	}
	return buf.data;
}

/*
 * PoolTextAscii
 *		Worker: a copy of a text from libpq or a remote server (its bytes
 *		may be anything) that is valid in every server encoding, for shared
 *		memory (seen from databases of any encoding) and the log: every
 *		byte outside ASCII becomes \xNN.
 */
char *
PoolTextAscii(const char *s)
{
	StringInfoData buf;

	if (pg_is_ascii(s))
		return pstrdup(s);
	initStringInfo(&buf);
	for (; *s; s++)
	{
		if (IS_HIGHBIT_SET(*s))
			append_escaped_byte(&buf, (unsigned char) *s);
		else
			appendStringInfoChar(&buf, *s);
	}
	return buf.data;
}
