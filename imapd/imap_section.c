/*
 * imapd: BODY[section]<partial> (RFC 3501 6.4.5, RFC 9051 6.4.5): the
 * section spec parsed and echoed, the part it names found in the MIME
 * tree, and the bytes read in CRLF form through a cursor, so that a
 * partial of a large LF-stored message converts only what is sent.
 * Mailbox process (the mail user, chrooted, seccomp'd): memory only.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "imap_msg_int.h"

/* The section-text keywords, longest first where one prefixes another. */
static const struct {
	const char		*word;
	enum imap_sect_text	 text;
} sect_words[] = {
	{ "HEADER.FIELDS.NOT",	IMAP_SECT_FIELDS_NOT },
	{ "HEADER.FIELDS",	IMAP_SECT_FIELDS },
	{ "HEADER",		IMAP_SECT_HEADER },
	{ "TEXT",		IMAP_SECT_TEXT },
	{ "MIME",		IMAP_SECT_MIME },
};

/* Part numbers "1.2.3." at the start; the position after them. */
static int
sect_numbers(const char *s, size_t len, size_t *pos, struct imap_section *sec,
    const char **errstr)
{
	size_t		 i = 0;
	unsigned long	 n;

	while (i < len && isdigit((unsigned char)s[i])) {
		for (n = 0; i < len && isdigit((unsigned char)s[i]); i++)
			if ((n = n * 10 + (unsigned long)(s[i] - '0')) >
			    0x7fffffffUL)
				return *errstr = "part number too large", -1;
		if (n == 0)
			return *errstr = "part numbers start at 1", -1;
		if (sec->nparts >= IMAP_MSG_SECTION_DEPTH_MAX)
			return *errstr = "too many part numbers", -1;
		sec->part[sec->nparts++] = (unsigned int)n;
		if (i < len && s[i] == '.') {
			if (++i == len)
				return *errstr = "section ends with a dot", -1;
		} else if (i < len)
			return *errstr = "bad section part number", -1;
	}
	*pos = i;
	return 0;
}

/* The "(A B ...)" list of HEADER.FIELDS, after its space. */
static int
sect_list(const char *s, size_t len, struct imap_section *sec,
    const char **errstr)
{
	size_t	 i = 1, start;

	if (len < 2 || s[0] != '(' || s[len - 1] != ')')
		return *errstr = "header field list expected", -1;
	len--;
	while (i < len) {
		if (s[i] == ' ') {
			i++;
			continue;
		}
		if (s[i] == '"') {
			for (start = ++i; i < len && s[i] != '"'; i++)
				if (s[i] == '\\')
					return *errstr = "bad field name", -1;
			if (i >= len)
				return *errstr = "unterminated string", -1;
			if (imap_section_add_field(sec, s + start, i - start,
			    errstr) == -1)
				return -1;
			i++;
			continue;
		}
		for (start = i; i < len && s[i] != ' '; i++)
			;
		if (imap_section_add_field(sec, s + start, i - start,
		    errstr) == -1)
			return -1;
	}
	if (sec->nfields == 0)
		return *errstr = "empty header field list", -1;
	return 0;
}

int
imap_section_parse(const char *s, size_t len, struct imap_section *sec,
    const char **errstr)
{
	size_t	 i, wl, k;

	memset(sec, 0, sizeof(*sec));
	sec->text = IMAP_SECT_ALL;
	if (sect_numbers(s, len, &i, sec, errstr) == -1)
		return -1;
	if (i == len)
		return 0;
	for (k = 0; k < sizeof(sect_words) / sizeof(sect_words[0]); k++) {
		wl = strlen(sect_words[k].word);
		if (len - i >= wl &&
		    strncasecmp(s + i, sect_words[k].word, wl) == 0 &&
		    (len - i == wl || s[i + wl] == ' '))
			break;
	}
	if (k == sizeof(sect_words) / sizeof(sect_words[0]))
		return *errstr = "unknown section", -1;
	sec->text = sect_words[k].text;
	if (sec->text == IMAP_SECT_MIME && sec->nparts == 0)
		return *errstr = "MIME needs a part number", -1;
	i += wl;
	if (sec->text != IMAP_SECT_FIELDS && sec->text != IMAP_SECT_FIELDS_NOT)
		return i == len ? 0 : (*errstr = "junk after section", -1);
	if (i == len)
		return 0;	/* the caller adds the fields */
	return sect_list(s + i + 1, len - i - 1, sec, errstr);
}

int
imap_section_add_field(struct imap_section *sec, const char *name,
    size_t len, const char **errstr)
{
	size_t	 i;

	if (sec->text != IMAP_SECT_FIELDS && sec->text != IMAP_SECT_FIELDS_NOT)
		return *errstr = "not a HEADER.FIELDS section", -1;
	if (len == 0)
		return *errstr = "empty field name", -1;
	if (sec->nfields >= IMAP_MSG_SECTION_FIELDS_MAX ||
	    sec->fields_len + len + 1 > sizeof(sec->fields))
		return *errstr = "too many header fields", -1;
	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] <= ' ' ||
		    (unsigned char)name[i] >= 0x7f ||
		    strchr(":(){%*\"\\]", name[i]) != NULL)
			return *errstr = "bad field name", -1;
	sec->field_off[sec->nfields++] = (uint16_t)sec->fields_len;
	for (i = 0; i < len; i++)
		sec->fields[sec->fields_len++] =
		    (char)toupper((unsigned char)name[i]);
	sec->fields[sec->fields_len++] = '\0';
	return 0;
}

int
imap_section_format(const struct imap_section *sec, struct imap_mbuf *out)
{
	static const char *const words[] = { "", "HEADER",
	    "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME" };
	char		 num[16];
	unsigned int	 i;

	if (imap_mbuf_add(out, "", 0) == -1)
		return -1;
	for (i = 0; i < sec->nparts; i++) {
		snprintf(num, sizeof(num), "%s%u", i ? "." : "", sec->part[i]);
		if (imap_mbuf_adds(out, num) == -1)
			return -1;
	}
	if (sec->text != IMAP_SECT_ALL && ((sec->nparts > 0 &&
	    imap_mbuf_addc(out, '.') == -1) ||
	    imap_mbuf_adds(out, words[sec->text]) == -1))
		return -1;
	if (sec->text != IMAP_SECT_FIELDS && sec->text != IMAP_SECT_FIELDS_NOT)
		return 0;
	if (imap_mbuf_adds(out, " (") == -1)
		return -1;
	for (i = 0; i < sec->nfields; i++)
		if ((i > 0 && imap_mbuf_addc(out, ' ') == -1) ||
		    imap_mbuf_adds(out, sec->fields + sec->field_off[i]) == -1)
			return -1;
	return imap_mbuf_addc(out, ')');
}
