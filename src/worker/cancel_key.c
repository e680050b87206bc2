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
 * The header is that of the libpq we were built against (15).  The fields
 * read here, which come first, are laid out alike from libpq 10 to 17 (the
 * libpq of PostgreSQL 18 has cancel keys of variable length):
 * CancelKeyOf() refuses to read a PGcancel of a libpq loaded at run time
 * outside that range, and cancel.c checks what it read (the pid must be
 * the connection's PQbackendPID()).  A refusal makes the caller skip the
 * cancel (see cancel.c).
 *
 * src/worker/cancel_key.c
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

#include "worker/cancel_key.h"

/* libpq major versions whose PGcancel starts as libpq 15's does */
#define CANCEL_KEY_MIN_MAJOR	10
#define CANCEL_KEY_MAX_MAJOR	17

/*
 * CancelKeyOf
 *		Copy the remote address, backend pid and secret key out of cancel;
 *		false if the running libpq is not of a major version whose layout
 *		we know.
 */
bool
CancelKeyOf(PGcancel *cancel, struct sockaddr_storage *addr,
			socklen_t *addrlen, int *pid, int *key)
{
	int			major = PQlibVersion() / 10000;

	StaticAssertStmt(PG_VERSION_NUM / 10000 >= CANCEL_KEY_MIN_MAJOR &&
					 PG_VERSION_NUM / 10000 <= CANCEL_KEY_MAX_MAJOR,
					 "libpq-int.h of an unknown PGcancel layout");
	if (cancel == NULL || major < CANCEL_KEY_MIN_MAJOR ||
		major > CANCEL_KEY_MAX_MAJOR)
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
