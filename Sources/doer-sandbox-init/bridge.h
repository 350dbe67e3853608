#ifndef DOER_BRIDGE_H
#define DOER_BRIDGE_H

/* Listens on 127.0.0.1:port; the descriptor, or -errno. */
int doer_bridge_listen(int port);

/* Forwards every connection on `listener` to the unix socket at `proxy_path`; returns
   only if poll itself fails. */
void doer_bridge_serve(int listener, const char *proxy_path);

#endif
