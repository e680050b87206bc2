/*-------------------------------------------------------------------------
 *
 * cancel_key.c
 *	  Read the address and secret key of a remote backend out of libpq's
 *	  PGcancel.
 *
 * libpq 15 has no non-blocking cancel and does not expose the secret key
 * a cancel request must carry: PQcancel() sends it on a blocking socket
 * and waits for the server to close it, with no timeout.  cancel.c sends
 * the same request from the worker's event loop instead, and needs what
 * PQgetCancel() copied: the server's address, the backend's pid and its
 * key.  Their layout (struct pg_cancel) is in libpq's internal header,
 * which this file alone includes, as a frontend file: it must not meet
 * the server headers of the rest of the module.
 *
 * The layout is that of the libpq major version we were built against.
 * CancelKeyOf() refuses to read it when the libpq loaded at run time is of
 * another major version, and cancel.c checks what it read (the pid must be
 * the connection's PQbackendPID()); a refusal makes the caller skip the
 * cancel (see cancel.c).
 *
 * src/cancel_key.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

/*
 * Only struct pg_cancel is used, whose layout does not depend on these;
 * they would pull in headers (GSSAPI, OpenSSL) a build need not have.
 */
#undef ENABLE_GSS
#undef ENABLE_SSPI
#undef USE_OPENSSL
#include "libpq-int.h"

#include "cancel_key.h"

/*
 * CancelKeyOf
 *		Copy the remote address, backend pid and secret key out of cancel;
 *		false if the running libpq is not the major version whose layout we
 *		know.
 */
bool
CancelKeyOf(PGcancel *cancel, struct sockaddr_storage *addr,
			socklen_t *addrlen, int *pid, int *key)
{
	if (cancel == NULL || PQlibVersion() / 10000 != PG_VERSION_NUM / 10000)
		return false;
	if (cancel->raddr.salen <= 0 ||
		cancel->raddr.salen > (socklen_t) sizeof(struct sockaddr_storage))
		return false;
	memcpy(addr, &cancel->raddr.addr, cancel->raddr.salen);
	*addrlen = cancel->raddr.salen;
	*pid = cancel->be_pid;
	*key = cancel->be_key;
	return true;
}
