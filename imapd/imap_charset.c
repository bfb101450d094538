/*
 * imapd: charsets to UTF-8 without iconv (the mailbox process is
 * chrooted, and glibc's gconv modules are outside the chroot): UTF-8
 * checked, US-ASCII, ISO-8859-1, -2, -15, Windows-1252 and KOI8-R by
 * table.  Mailbox process (the mail user, chrooted, seccomp'd): memory
 * only.
 */
#include <string.h>
#include <strings.h>

#include "imap_msg_int.h"

#define REPLACEMENT	0xfffd

/* ISO-8859-2, 0xa0 to 0xff. */
static const uint16_t cs_8859_2[96] = {
	0x00a0, 0x0104, 0x02d8, 0x0141, 0x00a4, 0x013d, 0x015a, 0x00a7,
	0x00a8, 0x0160, 0x015e, 0x0164, 0x0179, 0x00ad, 0x017d, 0x017b,
	0x00b0, 0x0105, 0x02db, 0x0142, 0x00b4, 0x013e, 0x015b, 0x02c7,
	0x00b8, 0x0161, 0x015f, 0x0165, 0x017a, 0x02dd, 0x017e, 0x017c,
	0x0154, 0x00c1, 0x00c2, 0x0102, 0x00c4, 0x0139, 0x0106, 0x00c7,
	0x010c, 0x00c9, 0x0118, 0x00cb, 0x011a, 0x00cd, 0x00ce, 0x010e,
	0x0110, 0x0143, 0x0147, 0x00d3, 0x00d4, 0x0150, 0x00d6, 0x00d7,
	0x0158, 0x016e, 0x00da, 0x0170, 0x00dc, 0x00dd, 0x0162, 0x00df,
	0x0155, 0x00e1, 0x00e2, 0x0103, 0x00e4, 0x013a, 0x0107, 0x00e7,
	0x010d, 0x00e9, 0x0119, 0x00eb, 0x011b, 0x00ed, 0x00ee, 0x010f,
	0x0111, 0x0144, 0x0148, 0x00f3, 0x00f4, 0x0151, 0x00f6, 0x00f7,
	0x0159, 0x016f, 0x00fa, 0x0171, 0x00fc, 0x00fd, 0x0163, 0x02d9,
};

/* KOI8-R, 0x80 to 0xff. */
static const uint16_t cs_koi8r[128] = {
	0x2500, 0x2502, 0x250c, 0x2510, 0x2514, 0x2518, 0x251c, 0x2524,
	0x252c, 0x2534, 0x253c, 0x2580, 0x2584, 0x2588, 0x258c, 0x2590,
	0x2591, 0x2592, 0x2593, 0x2320, 0x25a0, 0x2219, 0x221a, 0x2248,
	0x2264, 0x2265, 0x00a0, 0x2321, 0x00b0, 0x00b2, 0x00b7, 0x00f7,
	0x2550, 0x2551, 0x2552, 0x0451, 0x2553, 0x2554, 0x2555, 0x2556,
	0x2557, 0x2558, 0x2559, 0x255a, 0x255b, 0x255c, 0x255d, 0x255e,
	0x255f, 0x2560, 0x2561, 0x0401, 0x2562, 0x2563, 0x2564, 0x2565,
	0x2566, 0x2567, 0x2568, 0x2569, 0x256a, 0x256b, 0x256c, 0x00a9,
	0x044e, 0x0430, 0x0431, 0x0446, 0x0434, 0x0435, 0x0444, 0x0433,
	0x0445, 0x0438, 0x0439, 0x043a, 0x043b, 0x043c, 0x043d, 0x043e,
	0x043f, 0x044f, 0x0440, 0x0441, 0x0442, 0x0443, 0x0436, 0x0432,
	0x044c, 0x044b, 0x0437, 0x0448, 0x044d, 0x0449, 0x0447, 0x044a,
	0x042e, 0x0410, 0x0411, 0x0426, 0x0414, 0x0415, 0x0424, 0x0413,
	0x0425, 0x0418, 0x0419, 0x041a, 0x041b, 0x041c, 0x041d, 0x041e,
	0x041f, 0x042f, 0x0420, 0x0421, 0x0422, 0x0423, 0x0416, 0x0412,
	0x042c, 0x042b, 0x0417, 0x0428, 0x042d, 0x0429, 0x0427, 0x042a,
};

/* Windows-1252, 0x80 to 0x9f (the five holes kept as C1 controls). */
static const uint16_t cs_cp1252[32] = {
	0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
	0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
};

/* ISO-8859-15: the eight places where it differs from ISO-8859-1. */
static const struct { uint8_t b; uint16_t cp; } cs_8859_15[] = {
	{ 0xa4, 0x20ac }, { 0xa6, 0x0160 }, { 0xa8, 0x0161 },
	{ 0xb4, 0x017d }, { 0xb8, 0x017e }, { 0xbc, 0x0152 },
	{ 0xbd, 0x0153 }, { 0xbe, 0x0178 },
};

/* Names and the usual aliases (IANA's character-sets registry). */
static const struct {
	const char		*name;
	enum imap_charset	 cs;
} cs_names[] = {
	{ "utf-8", IMAP_CS_UTF8 },		{ "utf8", IMAP_CS_UTF8 },
	{ "us-ascii", IMAP_CS_ASCII },		{ "ascii", IMAP_CS_ASCII },
	{ "ansi_x3.4-1968", IMAP_CS_ASCII },	{ "iso-8859-1", IMAP_CS_8859_1 },
	{ "iso8859-1", IMAP_CS_8859_1 },	{ "latin1", IMAP_CS_8859_1 },
	{ "iso_8859-1", IMAP_CS_8859_1 },	{ "iso-8859-2", IMAP_CS_8859_2 },
	{ "iso8859-2", IMAP_CS_8859_2 },	{ "latin2", IMAP_CS_8859_2 },
	{ "iso-8859-15", IMAP_CS_8859_15 },	{ "iso8859-15", IMAP_CS_8859_15 },
	{ "latin9", IMAP_CS_8859_15 },		{ "windows-1252", IMAP_CS_CP1252 },
	{ "cp1252", IMAP_CS_CP1252 },		{ "koi8-r", IMAP_CS_KOI8R },
};

enum imap_charset
imap_charset_lookup(const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < sizeof(cs_names) / sizeof(cs_names[0]); i++)
		if (strlen(cs_names[i].name) == len &&
		    strncasecmp(cs_names[i].name, name, len) == 0)
			return cs_names[i].cs;
	return IMAP_CS_UNKNOWN;
}

uint32_t
charset_byte(enum imap_charset cs, unsigned char c)
{
	size_t	 i;

	if (c < 0x80)
		return c;
	switch (cs) {
	case IMAP_CS_ASCII:
		return REPLACEMENT;
	case IMAP_CS_8859_2:
		return c < 0xa0 ? c : cs_8859_2[c - 0xa0];
	case IMAP_CS_8859_15:
		for (i = 0; i < sizeof(cs_8859_15) / sizeof(cs_8859_15[0]);
		    i++)
			if (cs_8859_15[i].b == c)
				return cs_8859_15[i].cp;
		return c;
	case IMAP_CS_CP1252:
		return c < 0xa0 ? cs_cp1252[c - 0x80] : c;
	case IMAP_CS_KOI8R:
		return cs_koi8r[c - 0x80];
	default:
		return c;
	}
}

int
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t	 c, min;
	int		 len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2; c = s[0] & 0x1f; min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3; c = s[0] & 0x0f; min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4; c = s[0] & 0x07; min = 0x10000;
	} else
		return -1;
	if ((size_t)len > n)
		return -1;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	return len;
}

int
utf8_put(struct imap_mbuf *out, uint32_t cp)
{
	char	 b[4];
	size_t	 n;

	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = REPLACEMENT;
	if (cp < 0x80) {
		b[0] = (char)cp; n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6); n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12); n = 3;
	} else {
		b[0] = (char)(0xf0 | cp >> 18); n = 4;
	}
	if (n >= 2)
		b[n - 1] = (char)(0x80 | (cp & 0x3f));
	if (n >= 3)
		b[n - 2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	if (n == 4)
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	return imap_mbuf_add(out, b, n);
}

/* Whether all of s is valid UTF-8. */
static int
cs_valid_utf8(const unsigned char *s, size_t len)
{
	uint32_t	 cp;
	size_t		 i;
	int		 n;

	for (i = 0; i < len; i += (size_t)n)
		if ((n = utf8_decode(s + i, len - i, &cp)) == -1)
			return 0;
	return 1;
}

/* UTF-8 copied, each invalid byte a U+FFFD. */
static int
cs_from_utf8(const unsigned char *s, size_t len, struct imap_mbuf *out)
{
	uint32_t	 cp;
	size_t		 i, start;
	int		 n;

	for (i = start = 0; i < len; i += (size_t)n) {
		if ((n = utf8_decode(s + i, len - i, &cp)) > 0)
			continue;
		if (imap_mbuf_add(out, s + start, i - start) == -1 ||
		    utf8_put(out, REPLACEMENT) == -1)
			return -1;
		n = 1;
		start = i + 1;
	}
	return imap_mbuf_add(out, s + start, len - start);
}

int
imap_charset_to_utf8(enum imap_charset cs, const char *in, size_t len,
    struct imap_mbuf *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t		 i;

	if (cs == IMAP_CS_UTF8 ||
	    (cs == IMAP_CS_UNKNOWN && cs_valid_utf8(s, len)))
		return cs_from_utf8(s, len, out);
	for (i = 0; i < len; i++)
		if (utf8_put(out, charset_byte(cs, s[i])) == -1)
			return -1;
	return 0;
}
