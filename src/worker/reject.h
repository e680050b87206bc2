/*-------------------------------------------------------------------------
 *
 * reject.h
 *	  Worker: answering a claimed request with an error without running
 *	  it.
 *
 * src/worker/reject.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_REJECT_H
#define PGPOOL_REJECT_H

extern void RejectRequest(int procno, const char *message,
						  const char *detail);
extern void RejectRequestCode(int procno, const char *sqlstate,
							  const char *message, const char *detail);

#endif							/* PGPOOL_REJECT_H */
