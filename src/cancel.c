/*-------------------------------------------------------------------------
 *
 * cancel.c
 *	  Cancel requests sent from the pool worker's loop without blocking.
 *
 * A cancel request is a packet of 16 bytes (length, the cancel request
 * code, the remote backend's pid and secret key) sent on a new connection
 * to the server the query runs on.  libpq 15's PQcancel() sends it on a
 * blocking socket and then waits for the server to close that socket, with
 * no timeout: a remote that accepts TCP connections but does not answer
 * (a stopped or overloaded postmaster) would stop the worker, and with it
 * every pool.
 *
 * Here the worker opens the socket non-blocking and registers it in its
 * WaitEventSet (CancelAddToWaitSet); when the connect completes
 * (CancelSocketReady) the packet is sent and the socket closed at once.
 * Waiting for the server's close, as PQcancel does, is not needed: the
 * connection being cancelled is drained by conn.c, whose own deadline
 * (the pool's connect_timeout, in the janitor) bounds what follows.  A
 * connect that has not completed within the pool's connect_timeout is
 * given up (CancelExpire, run by the janitor).
 *
 * The pid and key come from PQgetCancel() through cancel_key.c, which
 * knows the layout of PGcancel (libpq 10 to 17).  When that cannot be used
 * (libpq 18 or later at run time) no cancel is sent: the caller's drain
 * then ends at connect_timeout by closing the connection (the remote query
 * runs on until it notices), and the log says why.
 *
 * Like PQcancel's, the packet goes in plain text, also to servers that
 * require SSL or GSS encryption (the postmaster reads cancel requests
 * before any of that); unix-socket remotes work the same way (their
 * connect completes at once).
 *
 * All of this is worker-local: no shared memory, no locks.
 *
 * XXX Built against libpq 17 or later, this module should use the
 * library's non-blocking cancel (PQcancelStart/PQcancelPoll, through
 * compat.h) instead of cancel_key.c; not done: we build against 15 only.
 *
 * src/cancel.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/socket.h>
#include <unistd.h>

#include "libpq/pqcomm.h"
#include "port/pg_bswap.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "cancel.h"
#include "cancel_key.h"
#include "shmem.h"

#define CANCEL_PACKET_LEN	16

/* One cancel request whose connect is in progress. */
typedef struct CancelRequest
{
	bool		in_use;
	pgsocket	sock;
	int			pool;			/* for messages */
	TimestampTz deadline;		/* give up after this */
	char		packet[CANCEL_PACKET_LEN];
} CancelRequest;

static CancelRequest *cancels = NULL;
static int	max_cancels = 0;
static int	nactive = 0;
static bool sockets_changed = false;

static void cancel_send(CancelRequest *c);
static void cancel_release(CancelRequest *c);
static void cancel_log(int pool, const char *detail);

/* Log that a cancel request could not be sent, and why. */
static void
cancel_log(int pool, const char *detail)
{
	ereport(LOG,
			(errmsg("pgpool_ext: could not send cancel request to the remote server of pool \"%s\"",
					PoolShared->pools[pool].name),
			 errdetail_internal("%s", detail)));
}

/*
 * CancelStart
 *		Start cancelling the query running on conn (a connection of pool).
 *		Never blocks.  False, after a LOG line, if no request could be
 *		started; true if it was sent or is on its way.
 */
bool
CancelStart(PGconn *conn, int pool)
{
	PGcancel   *pc = PQgetCancel(conn);
	struct sockaddr_storage addr;
	socklen_t	addrlen = 0;
	int			pid = 0;
	int			key = 0;
	bool		ok;
	CancelRequest *c = NULL;
	uint32		word;
	int			i;

	ok = pc != NULL && CancelKeyOf(pc, &addr, &addrlen, &pid, &key) &&
		pid == PQbackendPID(conn);
	if (pc != NULL)
		PQfreeCancel(pc);
	if (!ok)
	{
		cancel_log(pool, psprintf("The cancel key is not readable with libpq version %d.",
								  PQlibVersion()));
		return false;
	}

	if (cancels == NULL)
	{
		max_cancels = 2 * PoolShared->nslots;
		cancels = MemoryContextAllocZero(TopMemoryContext,
										 sizeof(CancelRequest) * max_cancels);
	}
	for (i = 0; i < max_cancels && c == NULL; i++)
		if (!cancels[i].in_use)
			c = &cancels[i];
	if (c == NULL)
	{
		cancel_log(pool, "Too many cancel requests are in progress.");
		return false;
	}

	word = pg_hton32(CANCEL_PACKET_LEN);
	memcpy(c->packet, &word, 4);
	word = pg_hton32(CANCEL_REQUEST_CODE);
	memcpy(c->packet + 4, &word, 4);
	word = pg_hton32((uint32) pid);
	memcpy(c->packet + 8, &word, 4);
	word = pg_hton32((uint32) key);
	memcpy(c->packet + 12, &word, 4);
	c->pool = pool;

	c->sock = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->sock == PGINVALID_SOCKET)
	{
		int			save_errno = errno;

		cancel_log(pool, psprintf("could not create socket: %s",
								  strerror(save_errno)));
		return false;
	}
	if (connect(c->sock, (struct sockaddr *) &addr, addrlen) == 0)
	{
		cancel_send(c);
		closesocket(c->sock);
		return true;
	}
	/* EINTR (a signal, say resolve.c's): the connect goes on all the same */
	if (errno != EINPROGRESS && errno != EINTR)
	{
		int			save_errno = errno;

		closesocket(c->sock);
		cancel_log(pool, psprintf("could not connect: %s", strerror(save_errno)));
		return false;
	}
	c->in_use = true;
	c->deadline =
		TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
									PoolShared->pools[pool].def.connect_timeout_ms);
	nactive++;
	sockets_changed = true;
	return true;
}

/* The cancel socket is connected: send the packet (it fits, never waits). */
static void
cancel_send(CancelRequest *c)
{
	ssize_t		n = send(c->sock, c->packet, CANCEL_PACKET_LEN,
						 MSG_NOSIGNAL | MSG_DONTWAIT);
	int			save_errno = errno;

	if (n == CANCEL_PACKET_LEN)
		ereport(DEBUG1,
				(errmsg_internal("pgpool_ext: cancel request sent for pool \"%s\"",
								 PoolShared->pools[c->pool].name)));
	else
		cancel_log(c->pool,
				   n < 0 ? psprintf("could not send: %s", strerror(save_errno)) :
				   "The packet was sent in part only.");
}

/* Done with an asynchronous request: close its socket, free its entry. */
static void
cancel_release(CancelRequest *c)
{
	closesocket(c->sock);
	c->sock = PGINVALID_SOCKET;
	c->in_use = false;
	nactive--;
	sockets_changed = true;
}

/* Cancel requests whose connect is in progress. */
int
CancelCount(void)
{
	return nactive;
}

/*
 * CancelSocketsChanged
 *		Did the set of cancel sockets change since the last call (the
 *		worker's WaitEventSet must then be rebuilt)?
 */
bool
CancelSocketsChanged(void)
{
	bool		changed = sockets_changed;

	sockets_changed = false;
	return changed;
}

/*
 * CancelAddToWaitSet
 *		Register every cancel socket whose connect is in progress, waiting
 *		for it to be writable; user_data is base + 1 + the request's index
 *		(pass that index to CancelSocketReady).
 */
void
CancelAddToWaitSet(WaitEventSet *set, int base)
{
	int			i;

	for (i = 0; i < max_cancels; i++)
		if (cancels[i].in_use)
			AddWaitEventToSet(set, WL_SOCKET_WRITEABLE, cancels[i].sock, NULL,
							  (void *) (intptr_t) (base + 1 + i));
}

/*
 * CancelSocketReady
 *		The connect of request index ended (writable, or failed): send the
 *		packet if it succeeded, then close.
 */
void
CancelSocketReady(int index)
{
	CancelRequest *c;
	int			err = 0;
	socklen_t	len = sizeof(err);

	if (index < 0 || index >= max_cancels || !cancels[index].in_use)
		return;
	c = &cancels[index];
	if (getsockopt(c->sock, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == EINPROGRESS)
		return;
	if (err != 0)
		cancel_log(c->pool, psprintf("could not connect: %s", strerror(err)));
	else
		cancel_send(c);
	cancel_release(c);
}

/*
 * CancelExpire
 *		Give up on requests whose connect did not complete in time.
 */
void
CancelExpire(TimestampTz now)
{
	int			i;

	for (i = 0; i < max_cancels; i++)
	{
		CancelRequest *c = &cancels[i];

		if (c->in_use && now >= c->deadline)
		{
			cancel_log(c->pool,
					   "The remote server did not accept the connection in time.");
			cancel_release(c);
		}
	}
}
