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
 * (CancelSocketReady) the packet is sent, and the socket stays registered
 * until the server closes it, as PQcancel waits for: the server closes it
 * only once it has signalled the remote backend.  Until then the request
 * is pending for its slot (CancelPending), and conn.c does not hand the
 * connection to its next request: a cancel arriving late would cancel
 * that one instead.  The pool's connect_timeout bounds the whole exchange
 * (CancelExpire, run by the janitor).
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
 * src/worker/cancel.c
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

#include "worker/cancel.h"
#include "worker/cancel_key.h"
#include "shm/shmem.h"

#define CANCEL_PACKET_LEN	16

/* One cancel request in progress. */
typedef struct CancelRequest
{
	bool		in_use;
	bool		sent;			/* packet sent: waiting for the server's close */
	pgsocket	sock;
	int			pool;			/* for messages */
	int			slot;			/* the connection cancelled, or -1 */
	TimestampTz deadline;		/* give up after this */
	char		packet[CANCEL_PACKET_LEN];
} CancelRequest;

static CancelRequest *cancels = NULL;
static int	max_cancels = 0;
static int	nactive = 0;
static bool sockets_changed = false;

static bool cancel_send(CancelRequest *c);
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
 *		Start cancelling the query running on conn (a connection of pool,
 *		in slot slot; -1 if it is being closed).  Never blocks.  False,
 *		after a LOG line, if no request could be started; true if it is on
 *		its way (CancelPending(slot) until the server is done with it).
 */
bool
CancelStart(PGconn *conn, int pool, int slot)
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
	c->slot = slot;
	c->sent = false;

	c->sock = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->sock == PGINVALID_SOCKET)
	{
		int			save_errno = errno;

		cancel_log(pool, psprintf("could not create socket: %s",
								  strerror(save_errno)));
		return false;
	}
	if (connect(c->sock, (struct sockaddr *) &addr, addrlen) == 0)
		c->sent = cancel_send(c);
	/* EINTR (a signal, say resolve.c's): the connect goes on all the same */
	else if (errno != EINPROGRESS && errno != EINTR)
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

/*
 * The cancel socket is connected: send the packet (it fits, never waits).
 * True if it went out whole.
 */
static bool
cancel_send(CancelRequest *c)
{
	ssize_t		n = send(c->sock, c->packet, CANCEL_PACKET_LEN,
						 MSG_NOSIGNAL | MSG_DONTWAIT);
	int			save_errno = errno;

	if (n == CANCEL_PACKET_LEN)
	{
		ereport(DEBUG1,
				(errmsg_internal("pgpool_ext: cancel request sent for pool \"%s\"",
								 PoolShared->pools[c->pool].name)));
		return true;
	}
	cancel_log(c->pool,
			   n < 0 ? psprintf("could not send: %s", strerror(save_errno)) :
			   "The packet was sent in part only.");
	return false;
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

/* Cancel requests in progress (each has a socket to wait on). */
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
 * CancelPending
 *		Is a cancel request for slot still on its way (its connect in
 *		progress, or the server not done with it yet)?
 */
bool
CancelPending(int slot)
{
	int			i;

	for (i = 0; slot >= 0 && nactive > 0 && i < max_cancels; i++)
		if (cancels[i].in_use && cancels[i].slot == slot)
			return true;
	return false;
}

/*
 * CancelAddToWaitSet
 *		Register every cancel socket in progress, waiting for its connect
 *		to complete (writable) or, once the packet is sent, for the server
 *		to close it (readable); user_data is base + 1 + the request's index
 *		(pass that index to CancelSocketReady).
 */
void
CancelAddToWaitSet(WaitEventSet *set, int base)
{
	int			i;

	for (i = 0; i < max_cancels; i++)
		if (cancels[i].in_use)
			AddWaitEventToSet(set, cancels[i].sent ? WL_SOCKET_READABLE :
							  WL_SOCKET_WRITEABLE, cancels[i].sock, NULL,
							  (void *) (intptr_t) (base + 1 + i));
}

/*
 * CancelSocketReady
 *		Request index's socket is ready.  Its connect ended (writable, or
 *		failed): send the packet if it succeeded, and wait for the server's
 *		close.  Or the server closed it (readable): the request is done.
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
	if (c->sent)
	{
		char		buf[64];
		ssize_t		n = recv(c->sock, buf, sizeof(buf), MSG_DONTWAIT);

		/* EOF or an error: the server is done; data: not expected, read on */
		if (n > 0 ||
			(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)))
			return;
		cancel_release(c);
		return;
	}
	if (getsockopt(c->sock, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == EINPROGRESS)
		return;
	if (err == 0 && cancel_send(c))
	{
		c->sent = true;
		sockets_changed = true; /* wait for readable now */
		return;
	}
	if (err != 0)
		cancel_log(c->pool, psprintf("could not connect: %s", strerror(err)));
	cancel_release(c);
}

/*
 * CancelExpire
 *		Give up on requests the server did not complete in time.
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
			cancel_log(c->pool, c->sent ?
					   "The remote server did not complete the cancel request in time." :
					   "The remote server did not accept the connection in time.");
			cancel_release(c);
		}
	}
}
