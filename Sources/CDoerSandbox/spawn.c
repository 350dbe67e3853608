#define _GNU_SOURCE
#include "CDoerSandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int doer_pipe(int fds[2], int nonblocking) {
    return pipe2(fds, O_CLOEXEC | (nonblocking ? O_NONBLOCK : 0));
}

long doer_copy_file_range(int from, int to, unsigned long length) {
    return (long)copy_file_range(from, NULL, to, NULL, length, 0);
}

int doer_set_mtime(int fd, long seconds, long nanoseconds) {
    struct timespec times[2] = { { 0, UTIME_OMIT }, { seconds, nanoseconds } };
    return futimens(fd, times);
}

int doer_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void close_from(int lowest) {
    if (syscall(SYS_close_range, (unsigned)lowest, ~0U, 0) == 0) return;
    for (int fd = lowest; fd < 65536; fd++) close(fd);
}

int doer_spawn(const char *path, char *const argv[], char *const envp[],
               const doer_spawn_options *o, pid_t *out_pid) {
    // Shared with the vfork child: it reports which step failed and why.
    volatile int child_errno = 0;
    int high[64];
    if (o->fd_count > 64) return EINVAL;

    // Signals must not run Swift handlers in the child while it shares our memory.
    sigset_t all, saved;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &saved);

    pid_t pid = vfork();
    if (pid == 0) {
        for (int i = 0; i < o->cgroup_count; i++) {
            if (write(o->cgroup_fds[i], "0", 1) != 1) { child_errno = errno; _exit(127); }
        }
        if (o->new_session && setsid() < 0) { child_errno = errno; _exit(127); }
        // Move every source above the target range first so dup2 never clobbers one.
        for (int i = 0; i < o->fd_count; i++) {
            int src = o->fd_map[i];
            if (src < 0) src = open("/dev/null", O_RDWR | O_CLOEXEC);
            high[i] = fcntl(src, F_DUPFD_CLOEXEC, o->fd_count + 64);
            if (high[i] < 0) { child_errno = errno; _exit(127); }
        }
        for (int i = 0; i < o->fd_count; i++) {
            if (dup2(high[i], i) < 0) { child_errno = errno; _exit(127); }
        }
        close_from(o->fd_count);
        if (o->gid >= 0) {
            if (syscall(SYS_setgroups, 0, NULL) < 0) { child_errno = errno; _exit(127); }
            if (syscall(SYS_setresgid, o->gid, o->gid, o->gid) < 0) { child_errno = errno; _exit(127); }
        }
        if (o->uid >= 0) {
            if (syscall(SYS_setresuid, o->uid, o->uid, o->uid) < 0) { child_errno = errno; _exit(127); }
        }
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        for (int s = 1; s < NSIG; s++) sigaction(s, &dfl, NULL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(path, argv, envp);
        child_errno = errno;
        _exit(127);
    }
    int spawn_errno = pid < 0 ? errno : 0;
    pthread_sigmask(SIG_SETMASK, &saved, NULL);
    if (pid < 0) return spawn_errno;
    if (child_errno != 0) {
        int status;
        waitpid(pid, &status, 0);
        return child_errno;
    }
    *out_pid = pid;
    return 0;
}
