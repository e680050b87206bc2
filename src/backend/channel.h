/*-------------------------------------------------------------------------
 *
 * channel.h
 *	  Messages between a backend and the pool worker.
 *
 * src/backend/channel.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_CHANNEL_H
#define PGPOOL_CHANNEL_H

#include "lib/stringinfo.h"

#include "shm/shmem.h"

/* Response message types (first byte of each message). */
#define MSG_ROW_DESCRIPTION	'T'		/* int32 natts; per att: uint32 type, name */
#define MSG_DATA_ROWS		'D'		/* int32 nrows; per row per att: bytes */
#define MSG_COMMAND_DONE	'C'		/* command status string: final */
#define MSG_REMOTE_ERROR	'E'		/* sqlstate, message, detail, hint, context: final */
#define MSG_FAILURE			'F'		/* sqlstate, message, detail: final */

/* Largest request (SQL text and parameters) a backend may send. */
#define PGPOOL_MAX_REQUEST	(64 * 1024 * 1024)

/* Rows are batched up to about this many bytes per message. */
#define PGPOOL_BATCH_BYTES	8192

typedef struct MsgReader
{
	const char *cur;
	const char *end;
} MsgReader;

extern void MsgPutInt32(StringInfo buf, int32 v);
extern void MsgPutString(StringInfo buf, const char *s);
extern void MsgPutBytes(StringInfo buf, const char *data, int32 len);
extern void MsgReaderInit(MsgReader *r, const void *data, Size len);
extern char MsgGetByte(MsgReader *r);
extern int32 MsgGetInt32(MsgReader *r);
extern const char *MsgGetString(MsgReader *r);
extern const char *MsgGetBytes(MsgReader *r, int32 *len);

/* backend side */
extern void ChannelSubmit(int64 handle, RequestKind kind, int flags,
						  const char *sql, int nparams,
						  const char *const *params);
extern void ChannelReceive(Size *len, void **data);
extern void ChannelFinish(void);
extern void ChannelAbort(void);
extern bool ChannelInFlight(int slotno);
extern void ChannelCheckNotNested(void);
extern void ChannelCheckRelease(int64 handle);

/* worker side */
extern bool ChannelRequestOn(int procno, int slotno);
extern bool ChannelWorkerClaim(int procno, int *slotno, uint32 *epoch);
extern bool ChannelWorkerSubmitted(int procno, int slotno);
extern void ChannelWorkerAttach(int procno, shm_mq_handle **req,
								shm_mq_handle **resp);
extern void ChannelWorkerReject(int procno, const char *message,
								const char *detail);
extern void ChannelWorkerRejectCode(int procno, const char *sqlstate,
									const char *message, const char *detail);
extern bool ChannelWorkerClaimed(int procno);
extern void ChannelWorkerFail(int procno);
extern void ChannelWorkerDone(int procno);
extern void ChannelFailAll(void);

#endif							/* PGPOOL_CHANNEL_H */
