#define _GNU_SOURCE
#include "CDoerSandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define DOER_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define DOER_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "seccomp filter: unsupported architecture"
#endif

#define X32_SYSCALL_BIT 0x40000000u

static struct sock_filter stmt(unsigned short code, unsigned k) {
    struct sock_filter f = { code, 0, 0, k };
    return f;
}

static struct sock_filter jump(unsigned short code, unsigned k, unsigned char jt, unsigned char jf) {
    struct sock_filter f = { code, jt, jf, k };
    return f;
}

#define LOAD_NR    stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define LOAD_ARCH  stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch))
/* Low 32 bits of an argument: ioctl request numbers and flags are compared on those only,
   so setting high bits cannot slip a request past the filter. */
#define LOAD_ARG_LO(n) stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[n]))
#define RET(v)     stmt(BPF_RET | BPF_K, (v))
#define ERRNO(e)   (SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))

/* Syscalls denied outright with EPERM. */
static const int denied[] = {
    SYS_ptrace, SYS_process_vm_readv, SYS_process_vm_writev,
    SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register,
    SYS_keyctl, SYS_add_key, SYS_request_key,
    SYS_bpf, SYS_perf_event_open, SYS_userfaultfd,
    SYS_kexec_load, SYS_kexec_file_load, SYS_init_module, SYS_finit_module, SYS_delete_module,
    SYS_setns, SYS_unshare, SYS_mount, SYS_umount2, SYS_pivot_root, SYS_chroot,
    SYS_open_tree, SYS_move_mount, SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_fspick,
    SYS_mount_setattr, SYS_name_to_handle_at, SYS_open_by_handle_at,
    SYS_process_madvise, SYS_pidfd_getfd, SYS_quotactl, SYS_swapon, SYS_swapoff,
    SYS_reboot, SYS_settimeofday, SYS_clock_settime, SYS_adjtimex, SYS_clock_adjtime,
    SYS_acct, SYS_lookup_dcookie, SYS_vhangup, SYS_fanotify_init,
    /* POSIX message queues live in the sandbox's IPC namespace, where no mount lists them:
       one made by a run would outlast it in a sandbox that serves the next run. */
    SYS_mq_open,
#ifdef SYS_uselib
    SYS_uselib,
#endif
#ifdef SYS_iopl
    SYS_iopl, SYS_ioperm,
#endif
};

int doer_install_seccomp(int allow_network) {
    struct sock_filter f[256];
    unsigned n = 0;
    const unsigned ndenied = sizeof denied / sizeof denied[0];

    /* Wrong architecture (int 0x80 on x86_64 arrives as i386): kill. */
    f[n++] = LOAD_ARCH;
    f[n++] = jump(BPF_JMP | BPF_JEQ | BPF_K, DOER_AUDIT_ARCH, 1, 0);
    f[n++] = RET(SECCOMP_RET_KILL_PROCESS);
    f[n++] = LOAD_NR;
#if defined(__x86_64__)
    /* x32 syscall numbers reach the same kernel entry points: refuse them all. */
    f[n++] = jump(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1);
    f[n++] = RET(ERRNO(EPERM));
#endif
    for (unsigned i = 0; i < ndenied; i++) {
        f[n++] = jump(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)denied[i], 0, 1);
        f[n++] = RET(ERRNO(EPERM));
    }
    /* clone3 hides its flags in memory the filter cannot read: ENOSYS makes libc fall back
       to clone, whose flags it can. */
    f[n++] = jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1);
    f[n++] = RET(ERRNO(ENOSYS));

    /* clone(flags with any CLONE_NEW* namespace bit) -> EPERM. */
    const unsigned ns_flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |
                              CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP;
    f[n++] = jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 3);
    f[n++] = LOAD_ARG_LO(0);
    f[n++] = jump(BPF_JMP | BPF_JSET | BPF_K, ns_flags, 0, 1);
    f[n++] = RET(ERRNO(EPERM));
    f[n++] = LOAD_NR;

    /* ioctl(fd, TIOCSTI | TIOCLINUX) -> EPERM, comparing the low 32 bits. */
    f[n++] = jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0, 5);
    f[n++] = LOAD_ARG_LO(1);
    f[n++] = jump(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 2, 0);
    f[n++] = jump(BPF_JMP | BPF_JEQ | BPF_K, TIOCLINUX, 1, 0);
    f[n++] = jump(BPF_JMP | BPF_JA, 1, 0, 0);
    f[n++] = RET(ERRNO(EPERM));
    f[n++] = LOAD_NR;

    /* No setuid or setgid file: what a run writes to a workspace view or a language cache
       lies on the host's disk, where such a file would run as the sandbox's uid (or group)
       for any account that reaches it. chmod and its kin with S_ISUID or S_ISGID, and a
       file created with them, get EPERM. The filter cannot tell a folder from a file, so
       `chmod g+s folder` is refused too; mkdir is left alone (a setgid parent still passes
       its bit on). */
    const unsigned special = S_ISUID | S_ISGID;
    static const int mode_arg[][2] = {
        { SYS_fchmod, 1 }, { SYS_fchmodat, 2 }, { SYS_mknodat, 2 },
#ifdef SYS_fchmodat2
        { SYS_fchmodat2, 2 },
#endif
#ifdef SYS_chmod
        { SYS_chmod, 1 }, { SYS_mknod, 1 }, { SYS_creat, 1 },
#endif
    };
    for (unsigned i = 0; i < sizeof mode_arg / sizeof mode_arg[0]; i++) {
        f[n++] = jump(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)mode_arg[i][0], 0, 4);
        f[n++] = LOAD_ARG_LO(mode_arg[i][1]);
        f[n++] = jump(BPF_JMP | BPF_JSET | BPF_K, special, 0, 1);
        f[n++] = RET(ERRNO(EPERM));
        f[n++] = LOAD_NR;
    }
    /* open and openat read their mode only when they create a file. openat2 hides its mode
       in memory the filter cannot read: ENOSYS makes libc fall back to openat. */
    static const int open_args[][3] = {
        { SYS_openat, 2, 3 },
#ifdef SYS_open
        { SYS_open, 1, 2 },
#endif
    };
    for (unsigned i = 0; i < sizeof open_args / sizeof open_args[0]; i++) {
        f[n++] = jump(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)open_args[i][0], 0, 6);
        f[n++] = LOAD_ARG_LO(open_args[i][1]);
        f[n++] = jump(BPF_JMP | BPF_JSET | BPF_K, O_CREAT | __O_TMPFILE, 0, 3);
        f[n++] = LOAD_ARG_LO(open_args[i][2]);
        f[n++] = jump(BPF_JMP | BPF_JSET | BPF_K, special, 0, 1);
        f[n++] = RET(ERRNO(EPERM));
        f[n++] = LOAD_NR;
    }
#ifdef SYS_openat2
    f[n++] = jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1);
    f[n++] = RET(ERRNO(ENOSYS));
#endif

    if (!allow_network) {
        /* socket(domain != AF_UNIX) -> EAFNOSUPPORT; socketpair is AF_UNIX only anyway. */
        f[n++] = jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 3);
        f[n++] = LOAD_ARG_LO(0);
        f[n++] = jump(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 1, 0);
        f[n++] = RET(ERRNO(EAFNOSUPPORT));
    } else {
        /* The proxy modes: IP sockets are needed to reach the bridge on 127.0.0.1, and they
           can reach nothing else, because the network namespace has only its loopback (no
           route, no other interface; raw and packet sockets need CAP_NET_RAW, which is
           dropped). Every other family (netlink, packet, vsock, ...) stays refused, so the
           kernel surface grows by TCP/UDP on loopback only. Low 32 bits compared, as for
           ioctl. */
        f[n++] = jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 5);
        f[n++] = LOAD_ARG_LO(0);
        f[n++] = jump(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 3, 0);
        f[n++] = jump(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 2, 0);
        f[n++] = jump(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 1, 0);
        f[n++] = RET(ERRNO(EAFNOSUPPORT));
    }
    f[n++] = RET(SECCOMP_RET_ALLOW);

    if (n > sizeof f / sizeof f[0]) return E2BIG;
    struct sock_fprog prog = { .len = (unsigned short)n, .filter = f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return errno;
    return 0;
}
