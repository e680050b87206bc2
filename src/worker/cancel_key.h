/*-------------------------------------------------------------------------
 *
 * cancel_key.h
 *	  What a cancel request needs, read out of libpq's PGcancel.
 *
 * Included by a frontend file (cancel_key.c) and a server one (cancel.c):
 * system and libpq headers only.
 *
 * src/worker/cancel_key.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_CANCEL_KEY_H
#define PGPOOL_CANCEL_KEY_H

#include <stdbool.h>
#include <sys/socket.h>

#include "libpq-fe.h"

extern bool CancelKeyOf(PGcancel *cancel, struct sockaddr_storage *addr,
						socklen_t *addrlen, int *pid, int *key);

#endif							/* PGPOOL_CANCEL_KEY_H */
