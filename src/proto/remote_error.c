/*-------------------------------------------------------------------------
 *
 * remote_error.c
 *	  Raising in the backend an error carried from the pool worker.
 *
 * The worker packs a remote error's fields (SQLSTATE, message, detail,
 * hint, context) into a final 'E' message as the remote server sent them
 * (message.c, MsgEncodeRemoteError); failures of the worker itself
 * (connection lost, pool dropped) travel as an 'F' message with our own
 * SQLSTATE.  The backend re-raises either here, with the carried SQLSTATE
 * and "remote SQL command: ..." as context, the way postgres_fdw does.
 * The fields are shown whatever bytes they hold: they are converted to
 * the database encoding leniently (TextFromRemoteLenient), and a SQLSTATE
 * that is not five digits or capital letters becomes 08006.
 *
 * Locking: none.
 *
 * src/proto/remote_error.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/pgpool_errors.h"
#include "common/text.h"
#include "proto/remote_error.h"

static char *remote_error_field(const char *value);

/*
 * A carried field in the database encoding, without the trailing newline
 * libpq puts on its messages.
 */
static char *
remote_error_field(const char *value)
{
	return pchomp(TextFromRemoteLenient(value));
}

/*
 * RemoteErrorRaise
 *		Backend: raise the error a final 'E' or 'F' message carried; sql is
 *		the remote command, for the error context (or NULL).
 */
void
RemoteErrorRaise(const MsgError *err, const char *sql)
{
	const char *state = err->sqlstate;
	char	   *message = remote_error_field(err->message);
	char	   *detail = remote_error_field(err->detail);
	char	   *hint = remote_error_field(err->hint);
	char	   *context = remote_error_field(err->context);
	int			code = PGPOOL_ERRCODE_LOST;

	if (strlen(state) == 5 &&
		strspn(state, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 5)
		code = MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4]);

	ereport(ERROR,
			(errcode(code),
			 errmsg_internal("%s", message),
			 detail[0] ? errdetail_internal("%s", detail) : 0,
			 hint[0] ? errhint("%s", hint) : 0,
			 context[0] ? errcontext("%s", context) : 0,
			 sql ? errcontext("remote SQL command: %s", sql) : 0));
	pg_unreachable();
}
