/*
 * imapd: the base subject of RFC 5256 2.1, on which SORT SUBJECT and
 * THREAD ORDEREDSUBJECT and REFERENCES compare messages: reply and
 * forward markers ("Re:", "Fwd:", "(fwd)", "[Fwd: ...]") and list tags
 * ("[list]") taken off, white space collapsed.  Mailbox process (the
 * mail user, chrooted, seccomp'd): memory only.
 */
#include <string.h>
#include <strings.h>

#include "imap_msg_int.h"

/* The subject being reduced: s[b, e). */
struct subj {
	const char	*s;
	size_t		 b;
	size_t		 e;
	int		 reply;
};

/* Step 2: subj-trailer = "(fwd)" / WSP, removed from the end. */
static void
subj_trailer(struct subj *j)
{
	for (;;) {
		if (j->e > j->b && j->s[j->e - 1] == ' ')
			j->e--;
		else if (j->e - j->b >= 5 &&
		    strncasecmp(j->s + j->e - 5, "(fwd)", 5) == 0) {
			j->e -= 5;
			j->reply = 1;
		} else
			return;
	}
}

/* subj-blob = "[" *BLOBCHAR "]" *WSP at i: its end, or 0. */
static size_t
subj_blob(const struct subj *j, size_t i)
{
	if (i >= j->e || j->s[i] != '[')
		return 0;
	for (i++; i < j->e && j->s[i] != ']'; i++)
		if (j->s[i] == '[')
			return 0;
	if (i >= j->e)
		return 0;
	for (i++; i < j->e && j->s[i] == ' '; i++)
		;
	return i;
}

/* subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" at i. */
static size_t
subj_refwd(const struct subj *j, size_t i)
{
	size_t	 k;

	if (j->e - i >= 3 && strncasecmp(j->s + i, "fwd", 3) == 0)
		i += 3;
	else if (j->e - i >= 2 && (strncasecmp(j->s + i, "re", 2) == 0 ||
	    strncasecmp(j->s + i, "fw", 2) == 0))
		i += 2;
	else
		return 0;
	while (i < j->e && j->s[i] == ' ')
		i++;
	if ((k = subj_blob(j, i)) != 0)
		i = k;
	return i < j->e && j->s[i] == ':' ? i + 1 : 0;
}

/* Step 3: subj-leader = (*subj-blob subj-refwd) / WSP.  Removed: 1. */
static int
subj_leader(struct subj *j)
{
	size_t	 i = j->b, k;

	if (j->b < j->e && j->s[j->b] == ' ') {
		j->b++;
		return 1;
	}
	while ((k = subj_blob(j, i)) != 0)
		i = k;
	if ((k = subj_refwd(j, i)) == 0)
		return 0;
	j->b = k;
	j->reply = 1;
	return 1;
}

/* Step 4: a leading blob, when what is left is not empty. */
static int
subj_leading_blob(struct subj *j)
{
	size_t	 k, i;

	if ((k = subj_blob(j, j->b)) == 0)
		return 0;
	for (i = k; i < j->e && j->s[i] == ' '; i++)
		;
	if (i == j->e)
		return 0;
	j->b = k;
	return 1;
}

/* Step 6: "[fwd:" ... "]" around all of it. */
static int
subj_fwd_wrap(struct subj *j)
{
	if (j->e - j->b < 6 || strncasecmp(j->s + j->b, "[fwd:", 5) != 0 ||
	    j->s[j->e - 1] != ']')
		return 0;
	j->b += 5;
	j->e--;
	j->reply = 1;
	return 1;
}

/* Step 1's white space: tabs and runs of spaces become one space. */
static int
subj_spaces(const char *subj, size_t len, struct imap_mbuf *tmp)
{
	size_t	 i;
	int	 sp = 0;

	if (imap_mbuf_add(tmp, "", 0) == -1)
		return -1;
	for (i = 0; i < len; i++) {
		if (subj[i] == ' ' || subj[i] == '\t' || subj[i] == '\r' ||
		    subj[i] == '\n') {
			sp = 1;
			continue;
		}
		if ((sp && tmp->len > 0 && imap_mbuf_addc(tmp, ' ') == -1) ||
		    imap_mbuf_addc(tmp, subj[i]) == -1)
			return -1;
		sp = 0;
	}
	return 0;
}

int
imap_base_subject(const char *subj, size_t len, struct imap_mbuf *out,
    int *is_reply)
{
	struct imap_mbuf tmp;
	struct subj	 j;
	int		 rc = -1;

	imap_mbuf_init(&tmp, IMAP_MSG_FIELD_MAX_BYTES);
	if (subj_spaces(subj, len, &tmp) == -1)
		goto done;
	j.s = tmp.data;
	j.b = 0;
	j.e = tmp.len;
	j.reply = 0;
	do {
		subj_trailer(&j);
		while (subj_leader(&j) || subj_leading_blob(&j))
			;
	} while (subj_fwd_wrap(&j));
	rc = imap_mbuf_add(out, j.s + j.b, j.e - j.b);
	if (is_reply != NULL)
		*is_reply = j.reply;
done:
	imap_mbuf_free(&tmp);
	return rc;
}

int
imap_msg_base_subject(const struct imap_message *m, struct imap_mbuf *out,
    int *is_reply)
{
	struct imap_mbuf dec;
	const char	*v;
	size_t		 vlen;
	int		 rc;

	if (is_reply != NULL)
		*is_reply = 0;
	if (!imap_hdr_get(m, m->root, "Subject", &v, &vlen))
		return imap_mbuf_add(out, "", 0);
	imap_mbuf_init(&dec, IMAP_MSG_FIELD_MAX_BYTES);
	rc = imap_hdr_decode(v, vlen, &dec);
	if (rc == 0)
		rc = imap_base_subject(dec.data ? dec.data : "", dec.len, out,
		    is_reply);
	imap_mbuf_free(&dec);
	return rc;
}
