/*
 * urlshow.h - a site's URL as people and other programs see it.
 *
 * A URL may carry credentials (http://user:password@host/): the check
 * needs them, and libcurl takes them from the URL itself. Everywhere else
 * (the status page, the metrics, the log, the mails, --once, squirrelctl)
 * the password is left out and the user name kept, http://user@host/, the
 * way a Redis URL is shown: whoever reads it learns which account is used,
 * never its secret.
 */
#ifndef SQUIRREL_URLSHOW_H
#define SQUIRREL_URLSHOW_H

#include <stddef.h>

/* Enough for any URL squirrel accepts (4096 bytes) and its NUL. */
#define URL_SHOWN_MAX 4100

/*
 * url without its password. A url that has none is returned as it is (no
 * copy, nothing cut); otherwise the shown form is written into buf (cut at
 * buflen - 1 bytes: a cut never lets a byte of the password through) and
 * buf is returned. A NULL url is returned as NULL. Whatever url holds,
 * even text that is no URL at all, what comes back never contains the
 * characters between the first ':' of its userinfo and the userinfo's end.
 */
const char *url_shown(const char *url, char *buf, size_t buflen);

#endif
