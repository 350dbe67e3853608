// The sandbox's end of the egress proxy: a TCP listener on 127.0.0.1 inside the sandbox's
// own network namespace whose every connection is spliced to the host proxy's unix socket
// (bound into the sandbox). One process, one poll loop, fixed buffers: it needs no
// library, starts before the command (so the port is open by the time the command
// connects), and dies with the sandbox.
#define _GNU_SOURCE
#include "bridge.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_PAIRS 64
#define BUFFER_SIZE 16384

typedef struct {
    char data[BUFFER_SIZE];
    size_t len, off;
    int eof; /* the reading side has seen end of file */
    int shut; /* the writing side has been shut down */
} direction;

typedef struct {
    int used;
    int fd[2]; /* 0: the client inside the sandbox, 1: the proxy's unix socket */
    direction dir[2]; /* dir[i] carries bytes read from fd[i] to fd[1-i] */
} pair;

static pair pairs[MAX_PAIRS];

int doer_bridge_listen(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 128) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

static void close_pair(pair *p) {
    close(p->fd[0]);
    close(p->fd[1]);
    memset(p, 0, sizeof *p);
}

static int connect_proxy(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
    /* A unix stream connect completes at once or fails (EAGAIN when the proxy's backlog is
       full): never left in progress. */
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void accept_all(int listener, const char *proxy_path) {
    for (;;) {
        int client = accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (client < 0) return;
        pair *slot = NULL;
        for (int i = 0; i < MAX_PAIRS; i++) {
            if (!pairs[i].used) { slot = &pairs[i]; break; }
        }
        int upstream = slot ? connect_proxy(proxy_path) : -1;
        if (upstream < 0) {
            close(client);
            continue;
        }
        memset(slot, 0, sizeof *slot);
        slot->used = 1;
        slot->fd[0] = client;
        slot->fd[1] = upstream;
    }
}

/* Moves what can be moved in direction `i` of `p`; returns -1 when the pair must close. */
static int pump(pair *p, int i, short readable_events) {
    direction *d = &p->dir[i];
    int from = p->fd[i], to = p->fd[1 - i];
    if (d->len == 0 && !d->eof && (readable_events & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t r = recv(from, d->data, sizeof d->data, 0);
        if (r > 0) {
            d->len = (size_t)r;
            d->off = 0;
        } else if (r == 0) {
            d->eof = 1;
        } else if (errno != EAGAIN && errno != EINTR) {
            return -1;
        }
    }
    /* Non-blocking: a send the peer cannot take yet just returns EAGAIN. */
    if (d->len > 0) {
        ssize_t w = send(to, d->data + d->off, d->len, MSG_NOSIGNAL);
        if (w > 0) {
            d->off += (size_t)w;
            d->len -= (size_t)w;
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
            return -1;
        }
    }
    if (d->eof && d->len == 0 && !d->shut) {
        shutdown(to, SHUT_WR);
        d->shut = 1;
    }
    return 0;
}

void doer_bridge_serve(int listener, const char *proxy_path) {
    signal(SIGPIPE, SIG_IGN);
    struct pollfd fds[1 + 2 * MAX_PAIRS];
    int owner[1 + 2 * MAX_PAIRS];
    for (;;) {
        int n = 0;
        int free_slot = 0;
        for (int i = 0; i < MAX_PAIRS; i++) free_slot |= !pairs[i].used;
        fds[n].fd = listener;
        fds[n].events = free_slot ? POLLIN : 0;
        owner[n++] = -1;
        for (int i = 0; i < MAX_PAIRS; i++) {
            pair *p = &pairs[i];
            if (!p->used) continue;
            for (int side = 0; side < 2; side++) {
                short events = 0;
                if (p->dir[side].len == 0 && !p->dir[side].eof) events |= POLLIN;
                if (p->dir[1 - side].len > 0) events |= POLLOUT;
                fds[n].fd = p->fd[side];
                fds[n].events = events;
                owner[n++] = i * 2 + side;
            }
        }
        if (poll(fds, (nfds_t)n, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        for (int k = 1; k < n; k += 2) {
            pair *p = &pairs[owner[k] / 2];
            if (!p->used) continue;
            short client_events = fds[k].revents, proxy_events = fds[k + 1].revents;
            if (!client_events && !proxy_events) continue;
            if (pump(p, 0, client_events) < 0 || pump(p, 1, proxy_events) < 0 ||
                (p->dir[0].shut && p->dir[1].shut)) {
                close_pair(p);
            }
        }
        if (fds[0].revents & POLLIN) accept_all(listener, proxy_path);
    }
}
