// doer-sandbox-init: the first program in every sandbox. It waits on descriptor 3 for a
// run request (which is how a warm sandbox stays ready), then forks the command with the
// seccomp filter and resource limits installed, enforces the wall clock from inside, and
// reports the exact exit status and resource use back on descriptor 3.
#define _GNU_SOURCE
#include "CDoerSandbox.h"
#include "DoerInitProtocol.h"
#include "bridge.h"
#include "reset.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CONTROL_FD 3

static int read_full(int fd, void *buf, size_t len) {
    char *p = buf;
    while (len > 0) {
        ssize_t r = read(fd, p, len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

static void write_status(const doer_init_status *st) {
    const char *p = (const char *)st;
    size_t len = sizeof *st;
    while (len > 0) {
        ssize_t w = write(CONTROL_FD, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        p += w;
        len -= (size_t)w;
    }
}

static _Noreturn void fail_setup(int err) {
    doer_init_status st = { .outcome = DOER_INIT_SETUP_FAILED, .value = err };
    write_status(&st);
    _exit(125);
}

typedef struct { const char *data; size_t left; } cursor;

static int take(cursor *c, void *out, size_t n) {
    if (c->left < n) return -1;
    memcpy(out, c->data, n);
    c->data += n;
    c->left -= n;
    return 0;
}

static char *take_string(cursor *c) {
    uint32_t len;
    if (take(c, &len, 4) || c->left < len) return NULL;
    char *s = malloc((size_t)len + 1);
    if (!s) return NULL;
    memcpy(s, c->data, len);
    s[len] = 0;
    c->data += len;
    c->left -= len;
    return s;
}

static char **take_strings(cursor *c) {
    uint32_t count;
    if (take(c, &count, 4) || count > 65536) return NULL;
    char **v = calloc((size_t)count + 1, sizeof *v);
    if (!v) return NULL;
    for (uint32_t i = 0; i < count; i++) {
        if (!(v[i] = take_string(c))) return NULL;
    }
    return v;
}

static void set_limit(int resource, int64_t value) {
    if (value <= 0) return;
    struct rlimit rl = { (rlim_t)value, (rlim_t)value };
    setrlimit(resource, &rl);
}

static int own_pid_namespace;
static pid_t command_pid;

/* Ends the command and everything it started. In the sandbox's own pid namespace that is
   every process we can signal (bwrap's pid 1 and we ourselves are spared); otherwise only
   the command's process group, so other processes of the same uid are never touched. */
static void kill_everything(void) {
    if (own_pid_namespace) kill(-1, SIGKILL);
    else if (command_pid > 0) kill(-command_pid, SIGKILL);
}

static int64_t timeval_us(struct timeval tv) { return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec; }

/* Runs one request to its end; returns its status. */
static doer_init_status run_command(uint32_t flags, int64_t wall_ms, int64_t cpu_s, int64_t procs, int64_t files,
                                    int64_t fsize, const char *cwd, char **argv, char **envp) {
    own_pid_namespace = (flags & DOER_INIT_FLAG_OWN_PID_NAMESPACE) != 0;

    /* PATH lookup must use the sandbox's PATH, not ours (we have none). */
    unsetenv("PATH");
    for (char **e = envp; *e; e++) {
        if (strncmp(*e, "PATH=", 5) == 0) setenv("PATH", *e + 5, 1);
    }

    int exec_pipe[2];
    if (pipe2(exec_pipe, O_CLOEXEC) != 0) fail_setup(errno);

    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);

    pid_t child = fork();
    if (child < 0) fail_setup(errno);
    command_pid = child;
    if (child == 0) {
        sigprocmask(SIG_SETMASK, &old, NULL);
        setpgid(0, 0);
        close(exec_pipe[0]);
        int err = 0;
        if (chdir(cwd) != 0) err = errno;
        if (!err) {
            set_limit(RLIMIT_CPU, cpu_s);
            set_limit(RLIMIT_NPROC, procs);
            set_limit(RLIMIT_NOFILE, files);
            set_limit(RLIMIT_FSIZE, fsize);
            struct rlimit nocore = { 0, 0 };
            setrlimit(RLIMIT_CORE, &nocore);
            /* Only 0-2 reach the command; the exec-error pipe closes itself on exec. */
            int keep = exec_pipe[1];
            int moved = fcntl(keep, F_DUPFD_CLOEXEC, 3);
            if (moved != 3) { dup2(keep, 3); moved = 3; fcntl(3, F_SETFD, FD_CLOEXEC); }
            syscall(SYS_close_range, 4u, ~0U, 0);
            exec_pipe[1] = moved;
        }
        if (!err) {
            execvpe(argv[0], argv, envp);
            err = errno;
        }
        (void)!write(exec_pipe[1], &err, sizeof err);
        _exit(127);
    }
    close(exec_pipe[1]);
    int exec_err = 0;
    ssize_t got = read(exec_pipe[0], &exec_err, sizeof exec_err);
    close(exec_pipe[0]);

    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int timed_out = 0, status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    for (;;) {
        /* As pid 1 we also inherit every orphan: reap them all, and stop at the command. */
        int done = 0;
        for (;;) {
            int st;
            struct rusage r_usage;
            pid_t r = wait4(-1, &st, WNOHANG, &r_usage);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            if (r == child) {
                status = st;
                ru = r_usage;
                done = 1;
                break;
            }
        }
        if (done) break;
        struct timespec wait = { 1, 0 };
        if (wall_ms > 0) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            int64_t elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
            int64_t left = wall_ms - elapsed;
            if (left <= 0) {
                timed_out = 1;
                kill_everything();
                while (wait4(child, &status, 0, &ru) < 0 && errno == EINTR) {}
                break;
            }
            if (left < 1000) { wait.tv_sec = 0; wait.tv_nsec = left * 1000000; }
        }
        sigtimedwait(&chld, NULL, &wait);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);

    doer_init_status st = { 0 };
    if (got == (ssize_t)sizeof exec_err && exec_err != 0) {
        st.outcome = DOER_INIT_EXEC_FAILED;
        st.value = exec_err;
    } else if (WIFSIGNALED(status)) {
        st.outcome = DOER_INIT_SIGNALED;
        st.value = WTERMSIG(status);
    } else {
        st.outcome = DOER_INIT_EXITED;
        st.value = WEXITSTATUS(status);
    }
    st.timed_out = timed_out;
    st.max_rss_kb = ru.ru_maxrss;
    st.user_us = timeval_us(ru.ru_utime);
    st.system_us = timeval_us(ru.ru_stime);
    return st;
}

static void free_strings(char **v) {
    if (!v) return;
    for (char **p = v; *p; p++) free(*p);
    free(v);
}

int main(void) {
    /* Nothing in the sandbox may read or write our memory through /proc/PID/mem or
       ptrace: we run before the seccomp filter, so a hijacked init would be a way out. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    /* Tell the host the sandbox is set up: a warm pool counts a sandbox as ready only then. */
    if (write(CONTROL_FD, "R", 1) != 1) return 0;
    int first = 1;
    uint32_t first_flags = 0;
    for (;;) {
        uint32_t size;
        if (read_full(CONTROL_FD, &size, 4) != 0) return 0; /* host went away: a sandbox done with */
        if (size > DOER_INIT_MAX_REQUEST) fail_setup(E2BIG);
        char *buf = malloc(size);
        if (!buf || read_full(CONTROL_FD, buf, size) != 0) fail_setup(EPROTO);

        cursor c = { buf, size };
        uint32_t magic, flags;
        int64_t wall_ms, cpu_s, procs, files, fsize;
        if (take(&c, &magic, 4) || magic != DOER_INIT_MAGIC || take(&c, &flags, 4) ||
            take(&c, &wall_ms, 8) || take(&c, &cpu_s, 8) || take(&c, &procs, 8) ||
            take(&c, &files, 8) || take(&c, &fsize, 8)) fail_setup(EPROTO);
        char *cwd = take_string(&c);
        char **argv = take_strings(&c);
        char **envp = take_strings(&c);
        if (!cwd || !argv || !argv[0] || !envp) fail_setup(EPROTO);
        int reusable = (flags & DOER_INIT_FLAG_REUSABLE) != 0;
        if (reusable && (!(flags & DOER_INIT_FLAG_OWN_PID_NAMESPACE) || (flags & DOER_INIT_FLAG_PROXY_BRIDGE))) fail_setup(EINVAL);
        /* The filter and the bridge are set up once, for the sandbox's whole life: a later
           request may not ask for other rules (only whether another may follow it). */
        if (!first && (flags & ~DOER_INIT_FLAG_REUSABLE) != (first_flags & ~DOER_INIT_FLAG_REUSABLE)) fail_setup(EPERM);

        if (first) {
            first = 0;
            first_flags = flags;
            /* What the reset goes back to, taken before any command ran; a sandbox that
               serves one run only has no use for it. */
            if (reusable) sandbox_remember();
            /* The filter goes on init itself, so the command inherits it and init (which
               stays alive beside the command) is held to the same rules. */
            if (!(flags & DOER_INIT_FLAG_NO_SECCOMP)) {
                int err = doer_install_seccomp((flags & DOER_INIT_FLAG_ALLOW_NETWORK) != 0);
                if (err) fail_setup(err);
            }
            /* The bridge listens before the command exists, so its first connect finds the
               port open. It runs under the same filter as the command. */
            if ((flags & DOER_INIT_FLAG_PROXY_BRIDGE) && (flags & DOER_INIT_FLAG_ALLOW_NETWORK)) {
                int listener = doer_bridge_listen(DOER_PROXY_PORT);
                if (listener < 0) fail_setup(-listener);
                pid_t bridge = fork();
                if (bridge < 0) fail_setup(errno);
                if (bridge == 0) {
                    close(CONTROL_FD);
                    doer_bridge_serve(listener, DOER_PROXY_SOCKET);
                    _exit(0);
                }
                close(listener);
            }
        }

        doer_init_status st = run_command(flags, wall_ms, cpu_s, procs, files, fsize, cwd, argv, envp);
        free(cwd);
        free_strings(argv);
        free_strings(envp);
        free(buf);
        if (!reusable) {
            write_status(&st);
            /* Nothing the command started outlives it. */
            kill_everything();
            return 0;
        }
        /* The result first, so a reset that takes long (a run that left a million files in
           /tmp) is never taken for the run going over its time; then one byte saying
           whether the sandbox is clean and waits for the next request. The host reads the
           run's output until that byte: by then every process that could write it is gone. */
        write_status(&st);
        int clean = sandbox_reset();
        char verdict = clean ? DOER_INIT_RESET_CLEAN : DOER_INIT_RESET_DIRTY;
        if (write(CONTROL_FD, &verdict, 1) != 1 || !clean) return 0;
    }
}
