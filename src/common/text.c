/*-------------------------------------------------------------------------
 *
 * text.c
 *	  Texts that cross to or from a remote connection: encoding
 *	  conversions, and a form safe in every database.
 *
 * Remote connections talk UTF8.  Backends convert what they send
 * (TextToRemote) and what they receive: values strictly (TextFromRemote),
 * error fields leniently (TextFromRemoteLenient: bytes that cannot be
 * shown become \xNN).  The worker keeps libpq's and remote servers'
 * messages in shared memory and the log as ASCII (TextAscii), valid in
 * every database of the cluster.
 *
 * Locking: none; everything here works on private memory.
 *
 * src/common/text.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "common/string.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"

#include "common/text.h"

static void text_append_escaped(StringInfo buf, unsigned char c);

/*
 * TextFromRemote
 *		Backend: a text received from a remote connection (UTF8, len bytes,
 *		not necessarily terminated) as a palloc'd string in the database
 *		encoding.  Invalid UTF8 raises 22021, a character the database
 *		encoding lacks 22P05: such a value must not become a datum.
 */
char *
TextFromRemote(const char *s, int len)
{
	char	   *copy = palloc(len + 1);

	memcpy(copy, s, len);
	copy[len] = '\0';
	/* verifies even when no conversion is needed */
	return pg_any_to_server(copy, len, PG_UTF8);
}

/*
 * TextToRemote
 *		Backend: a string of the database encoding as the UTF8 a remote
 *		connection expects (22P05 if it cannot be converted; in a SQL_ASCII
 *		database, 22021 if it is not UTF8).
 */
char *
TextToRemote(const char *s)
{
	return pg_server_to_any(s, strlen(s), PG_UTF8);
}

/* Append byte c as \xNN. */
static void
text_append_escaped(StringInfo buf, unsigned char c)
{
	appendStringInfo(buf, "\\x%02x", c);
}

/*
 * TextFromRemoteLenient
 *		Backend: like TextFromRemote for texts that must be shown whatever
 *		they hold (remote error fields): bytes that are not valid UTF8, and
 *		characters the database encoding lacks, become \xNN.
 */
char *
TextFromRemoteLenient(const char *s)
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
			text_append_escaped(&buf, *c);
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
				text_append_escaped(&buf, c[j]);
		}
		i += l;
	}
	return buf.data;
}

/*
 * TextAscii
 *		Worker: a copy of a text from libpq or a remote server (its bytes
 *		may be anything) that is valid in every server encoding, for shared
 *		memory (seen from databases of any encoding) and the log: every
 *		byte outside ASCII becomes \xNN.
 */
char *
TextAscii(const char *s)
{
	StringInfoData buf;

	if (pg_is_ascii(s))
		return pstrdup(s);
	initStringInfo(&buf);
	for (; *s; s++)
	{
		if (IS_HIGHBIT_SET(*s))
			text_append_escaped(&buf, (unsigned char) *s);
		else
			appendStringInfoChar(&buf, *s);
	}
	return buf.data;
}
