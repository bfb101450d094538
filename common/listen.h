/*
 * The TCP listeners of the config, opened by the root parents of the
 * network daemons before they fork their engines.
 */
#ifndef SALLYPORT_LISTEN_H
#define SALLYPORT_LISTEN_H

struct listener;

/* Connections that may wait to be accepted on one listener. */
#define LISTEN_BACKLOG		128

/*
 * A non-blocking, close-on-exec socket bound to l (numeric address only:
 * no name lookup) and listening.  fatal on any failure, since the
 * listener was asked for; what names the daemon in the log.
 */
int	listen_open(const struct listener *l, const char *what);

#endif
