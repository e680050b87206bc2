/*-------------------------------------------------------------------------
 *
 * text.h
 *	  Texts that cross to or from a remote connection: encoding
 *	  conversions, and a form safe in every database.
 *
 * src/common/text.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_TEXT_H
#define PGPOOL_TEXT_H

extern char *TextFromRemote(const char *s, int len);
extern char *TextFromRemoteLenient(const char *s);
extern char *TextToRemote(const char *s);
extern char *TextAscii(const char *s);

#endif							/* PGPOOL_TEXT_H */
