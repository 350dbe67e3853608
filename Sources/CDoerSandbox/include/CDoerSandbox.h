#ifndef C_DOER_SANDBOX_H
#define C_DOER_SANDBOX_H

#include <sys/types.h>
#include <stdint.h>
#include "DoerInitProtocol.h"

#ifdef __cplusplus
extern "C" {
#endif

/// What the child must look like when it execs. Everything here happens between fork and
/// exec, which is why it lives in C: only raw system calls are safe there in a
/// multi-threaded process.
typedef struct doer_spawn_options {
    /// Parent descriptors that become the child's 0, 1, 2, 3, ... in order; -1 opens /dev/null.
    const int *fd_map;
    int fd_count;
    /// Switch to this uid/gid (and drop supplementary groups) when >= 0.
    int uid;
    int gid;
    /// Start a new session (setsid), so the child has no controlling terminal.
    int new_session;
    /// Open cgroup.procs (v2) or tasks (v1) files; the child writes "0" to each to join before exec.
    const int *cgroup_fds;
    int cgroup_count;
} doer_spawn_options;

/// Spawns `path` with `argv`/`envp`. Returns 0 and the pid, or an errno value
/// (including the child's exec failure, reported synchronously).
int doer_spawn(const char *path, char *const argv[], char *const envp[],
               const doer_spawn_options *options, pid_t *out_pid);

/// pipe2(2) with O_CLOEXEC (and O_NONBLOCK when asked); 0 or -1 with errno.
int doer_pipe(int fds[2], int nonblocking);

/// copy_file_range(2) of up to `length` bytes between the current offsets.
long doer_copy_file_range(int from, int to, unsigned long length);

/// Sets only the modification time of `fd` (UTIME_OMIT for the access time).
int doer_set_mtime(int fd, long seconds, long nanoseconds);

/// pidfd_open(2); -1 with errno on failure.
int doer_pidfd_open(pid_t pid);

/// Installs the sandbox's seccomp filter on the calling thread after setting
/// PR_SET_NO_NEW_PRIVS. With `allow_network` 0, socket families other than AF_UNIX fail;
/// with 1, AF_INET and AF_INET6 are allowed as well (the sandbox's network namespace holds
/// only its own loopback, where the proxy bridge listens) and every other family still
/// fails. Returns 0 or an errno value.
int doer_install_seccomp(int allow_network);

#ifdef __cplusplus
}
#endif

#endif
