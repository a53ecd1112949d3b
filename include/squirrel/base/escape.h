/*
 * escape.h - values from the database on their way out: into HTML, JSON,
 * the Prometheus text format, or a terminal. A value may hold anything a
 * person typed (markup, quotes, control characters, bytes that are not
 * UTF-8); every writer here yields valid output whatever it gets.
 */
#ifndef SQUIRREL_ESCAPE_H
#define SQUIRREL_ESCAPE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * The next character of a UTF-8 string: its length in bytes and its code
 * point, or 0 when the bytes there are not well-formed UTF-8 (overlong
 * forms, surrogates and values above U+10FFFF included). s must not be at
 * its terminating NUL.
 */
size_t utf8_next(const char *s, uint32_t *cp);

/*
 * HTML text or a double-quoted attribute value: & < > " ' become
 * references; control characters other than tab and newline (C1 ones
 * included), the direction overrides, embeddings and isolates (U+202A..E,
 * U+2066..9: a name could display reversed), and bytes that are not UTF-8,
 * become U+FFFD.
 */
void html_escape(FILE *f, const char *s);

/* A JSON string, quotes included; bytes that are not UTF-8 become \ufffd. */
void json_string(FILE *f, const char *s);

/*
 * A Prometheus label value, without its quotes: backslash, double quote
 * and newline escaped as the exposition format says; bytes that are not
 * UTF-8 become U+FFFD.
 */
void prom_label_escape(FILE *f, const char *s);

/*
 * A copy safe to print on a terminal: control characters, the direction
 * overrides, embeddings and isolates, and bytes that are not UTF-8 become
 * '?', so a value cannot move the cursor, change colours or display
 * reversed. *width is its length in characters. NULL when out of memory.
 */
char *text_clean(const char *s, size_t *width);

/*
 * A copy on one line of printable ASCII, for a log or a terminal (a mail
 * server's answer, an address someone typed): runs of spaces, tabs and
 * line breaks become one space (none at the start), any other byte outside
 * ASCII's printable range becomes '?'. Cut to len-1 bytes.
 */
void ascii_line(char *dst, size_t len, const char *src);

#endif
