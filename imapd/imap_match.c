/*
 * imapd: case-insensitive substring matching over UTF-8 for SEARCH
 * (RFC 3501 6.4.4: "case-insensitive substring"; RFC 9051 7.5 with
 * i;unicode-casemap in mind): simple Unicode case folding of the
 * common alphabets, and a Knuth-Morris-Pratt matcher over code points
 * fed in pieces, so a body is searched while it is decoded and never
 * held.  Mailbox process (the mail user, chrooted, seccomp'd): memory
 * only.
 */
#include <string.h>

#include "imap_msg_int.h"

/* Pairs where the capital is even and its small letter follows it. */
static const struct {
	uint16_t	 lo;
	uint16_t	 hi;
} fold_even[] = {
	{ 0x0100, 0x012f }, { 0x0132, 0x0137 }, { 0x014a, 0x0177 },
	{ 0x0182, 0x0185 }, { 0x01a0, 0x01a5 }, { 0x01de, 0x01ef },
	{ 0x01f8, 0x021f }, { 0x0222, 0x0233 }, { 0x03d8, 0x03ef },
	{ 0x0460, 0x0481 }, { 0x048a, 0x04bf }, { 0x04d0, 0x052f },
	{ 0x1e00, 0x1e95 }, { 0x1ea0, 0x1eff },
};

/* Pairs where the capital is odd. */
static const struct {
	uint16_t	 lo;
	uint16_t	 hi;
} fold_odd[] = {
	{ 0x0139, 0x0148 }, { 0x0179, 0x017e }, { 0x01b3, 0x01b6 },
	{ 0x01cd, 0x01dc }, { 0x04c1, 0x04ce },
};

/*
 * Single mappings outside the ranges (Unicode's CaseFolding.txt, status
 * C and S), sorted for a binary search.
 */
static const struct {
	uint16_t	 from;
	uint16_t	 to;
} fold_one[] = {
	{ 0x00b5, 0x03bc }, { 0x0178, 0x00ff }, { 0x017f, 0x0073 },
	{ 0x0181, 0x0253 }, { 0x0186, 0x0254 }, { 0x0187, 0x0188 },
	{ 0x0189, 0x0256 }, { 0x018a, 0x0257 }, { 0x018b, 0x018c },
	{ 0x018e, 0x01dd }, { 0x018f, 0x0259 }, { 0x0190, 0x025b },
	{ 0x0191, 0x0192 }, { 0x0193, 0x0260 }, { 0x0194, 0x0263 },
	{ 0x0196, 0x0269 }, { 0x0197, 0x0268 }, { 0x0198, 0x0199 },
	{ 0x019c, 0x026f }, { 0x019d, 0x0272 }, { 0x019f, 0x0275 },
	{ 0x01a6, 0x0280 }, { 0x01a7, 0x01a8 }, { 0x01a9, 0x0283 },
	{ 0x01ac, 0x01ad }, { 0x01ae, 0x0288 }, { 0x01af, 0x01b0 },
	{ 0x01b1, 0x028a }, { 0x01b2, 0x028b }, { 0x01b7, 0x0292 },
	{ 0x01b8, 0x01b9 }, { 0x01bc, 0x01bd }, { 0x01c4, 0x01c6 },
	{ 0x01c5, 0x01c6 }, { 0x01c7, 0x01c9 }, { 0x01c8, 0x01c9 },
	{ 0x01ca, 0x01cc }, { 0x01cb, 0x01cc }, { 0x01f1, 0x01f3 },
	{ 0x01f2, 0x01f3 }, { 0x01f4, 0x01f5 }, { 0x01f6, 0x0195 },
	{ 0x01f7, 0x01bf }, { 0x0220, 0x019e }, { 0x023a, 0x2c65 },
	{ 0x023b, 0x023c }, { 0x023d, 0x019a }, { 0x023e, 0x2c66 },
	{ 0x0241, 0x0242 }, { 0x0243, 0x0180 }, { 0x0244, 0x0289 },
	{ 0x0245, 0x028c }, { 0x0246, 0x0247 }, { 0x0248, 0x0249 },
	{ 0x024a, 0x024b }, { 0x024c, 0x024d }, { 0x024e, 0x024f },
	{ 0x0370, 0x0371 }, { 0x0372, 0x0373 }, { 0x0376, 0x0377 },
	{ 0x037f, 0x03f3 }, { 0x0386, 0x03ac }, { 0x0388, 0x03ad },
	{ 0x0389, 0x03ae }, { 0x038a, 0x03af }, { 0x038c, 0x03cc },
	{ 0x038e, 0x03cd }, { 0x038f, 0x03ce }, { 0x03c2, 0x03c3 },
	{ 0x03cf, 0x03d7 }, { 0x03d0, 0x03b2 }, { 0x03d1, 0x03b8 },
	{ 0x03d5, 0x03c6 }, { 0x03d6, 0x03c0 }, { 0x03f0, 0x03ba },
	{ 0x03f1, 0x03c1 }, { 0x03f4, 0x03b8 }, { 0x03f5, 0x03b5 },
	{ 0x03f7, 0x03f8 }, { 0x03f9, 0x03f2 }, { 0x03fa, 0x03fb },
	{ 0x03fd, 0x037b }, { 0x03fe, 0x037c }, { 0x03ff, 0x037d },
	{ 0x04c0, 0x04cf }, { 0x1e9b, 0x1e61 }, { 0x1e9e, 0x00df },
	{ 0x2126, 0x03c9 }, { 0x212a, 0x006b }, { 0x212b, 0x00e5 },
};

#define NELEMS(a)	(sizeof(a) / sizeof((a)[0]))

static uint32_t
fold_single(uint32_t c)
{
	size_t	 lo = 0, hi = NELEMS(fold_one), mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (fold_one[mid].from == c)
			return fold_one[mid].to;
		if (fold_one[mid].from < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return c;
}

uint32_t
imap_casefold(uint32_t c)
{
	size_t	 i;

	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	if ((c >= 0xc0 && c <= 0xde && c != 0xd7) ||
	    (c >= 0x391 && c <= 0x3ab && c != 0x3a2) ||
	    (c >= 0x410 && c <= 0x42f) || (c >= 0xff21 && c <= 0xff3a))
		return c + 32;
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	if (c >= 0x531 && c <= 0x556)
		return c + 48;
	if (c >= 0x10a0 && c <= 0x10c5)
		return c + 7264;	/* Georgian to its small letters */
	for (i = 0; i < NELEMS(fold_even); i++)
		if (c >= fold_even[i].lo && c <= fold_even[i].hi)
			return c % 2 == 0 ? c + 1 : c;
	for (i = 0; i < NELEMS(fold_odd); i++)
		if (c >= fold_odd[i].lo && c <= fold_odd[i].hi)
			return c % 2 == 1 ? c + 1 : c;
	return fold_single(c);
}

/* The KMP failure function of the folded needle. */
static void
match_prepare(struct imap_match *m)
{
	uint32_t	 i, k = 0;

	if (m->nlen > 0)
		m->fail[0] = 0;
	for (i = 1; i < m->nlen; i++) {
		while (k > 0 && m->needle[i] != m->needle[k])
			k = m->fail[k - 1];
		if (m->needle[i] == m->needle[k])
			k++;
		m->fail[i] = k;
	}
}

int
imap_match_init(struct imap_match *m, const char *needle, size_t len)
{
	const unsigned char *s = (const unsigned char *)needle;
	uint32_t	 cp;
	size_t		 i;
	int		 n;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < len; i += (size_t)n) {
		if ((n = utf8_decode(s + i, len - i, &cp)) == -1) {
			cp = s[i];
			n = 1;
		}
		if (m->nlen >= IMAP_MSG_NEEDLE_MAX_CHARS)
			return -1;
		m->needle[m->nlen++] = imap_casefold(cp);
	}
	match_prepare(m);
	m->found = m->nlen == 0;
	return 0;
}

void
imap_match_reset(struct imap_match *m)
{
	m->state = 0;
	m->found = m->nlen == 0;
	m->cp = 0;
	m->need = 0;
}

int
match_feed_cp(struct imap_match *m, uint32_t cp)
{
	if (m->found)
		return 1;
	cp = imap_casefold(cp);
	while (m->state > 0 && m->needle[m->state] != cp)
		m->state = m->fail[m->state - 1];
	if (m->needle[m->state] == cp)
		m->state++;
	if (m->state == m->nlen)
		m->found = 1;
	return m->found;
}

/*
 * The fast path: a run of ASCII, folded and matched inline.  *i is
 * left at the first byte that is not ASCII (or after the match).
 */
static void
match_ascii(struct imap_match *m, const unsigned char *s, size_t len,
    size_t *i)
{
	uint32_t	 cp, state = m->state;
	size_t		 k;

	for (k = *i; k < len && s[k] < 0x80; k++) {
		cp = s[k] >= 'A' && s[k] <= 'Z' ? s[k] + 32u : s[k];
		while (state > 0 && m->needle[state] != cp)
			state = m->fail[state - 1];
		if (m->needle[state] == cp && ++state == m->nlen) {
			m->found = 1;
			k++;
			break;
		}
	}
	m->state = state;
	*i = k;
}

/*
 * A continuation byte of a sequence cut by the last piece: the code
 * point when complete.  An invalid continuation gives the lead byte
 * up as ISO-8859-1 (as imap_match_init reads the needle) and starts over.
 */
static void
match_cont(struct imap_match *m, unsigned char c)
{
	if ((c & 0xc0) == 0x80) {
		m->cp = m->cp << 6 | (c & 0x3f);
		if (--m->need == 0)
			match_feed_cp(m, m->cp);
		return;
	}
	m->need = 0;
	match_feed_cp(m, 0xfffd);
	if (c < 0x80)
		match_feed_cp(m, c);
	else
		imap_match_feed(m, (const char *)&c, 1);
}

int
imap_match_feed(struct imap_match *m, const char *utf8, size_t len)
{
	const unsigned char *s = (const unsigned char *)utf8;
	uint32_t	 cp;
	size_t		 i;
	int		 n;

	for (i = 0; i < len && !m->found; i += (size_t)n) {
		n = 1;
		if (m->need == 0 && s[i] < 0x80) {
			match_ascii(m, s, len, &i);
			n = 0;
		} else if (m->need > 0)
			match_cont(m, s[i]);
		else if (s[i] < 0x80)
			match_feed_cp(m, s[i]);
		else if ((n = utf8_decode(s + i, len - i, &cp)) > 0)
			match_feed_cp(m, cp);
		else if (len - i < 4 && (s[i] & 0xc0) == 0xc0 &&
		    (s[i] & 0xf8) != 0xf8) {
			/* Maybe cut by the piece's end: keep it. */
			m->need = (s[i] & 0xe0) == 0xc0 ? 1 :
			    (s[i] & 0xf0) == 0xe0 ? 2 : 3;
			m->cp = s[i] & (0x3f >> m->need);
			n = 1;
		} else {
			match_feed_cp(m, s[i]);
			n = 1;
		}
	}
	return m->found;
}
