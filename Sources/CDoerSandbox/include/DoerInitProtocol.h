#ifndef DOER_INIT_PROTOCOL_H
#define DOER_INIT_PROTOCOL_H

#include <stdint.h>

/* The conversation between the host and doer-sandbox-init over descriptor 3.
   Init -> host: one byte 'R' once the sandbox is set up and waiting.
   Host -> init: the request, sent once the sandbox should start the command (a warm
   sandbox waits here). Integers are little-endian; a string is a u32 length and bytes.
     u32 magic, u32 flags, i64 wall_ms, i64 cpu_seconds, i64 processes, i64 open_files,
     i64 file_size_bytes, string cwd, u32 argc, argc strings, u32 envc, envc strings
   Init -> host: one doer_init_status when the command has ended.
   With DOER_INIT_FLAG_REUSABLE init then resets the sandbox (every process the command left
   ended, /tmp, /dev/shm and /dev as they were, no System V IPC object) and sends one byte:
   DOER_INIT_RESET_CLEAN, and it serves the next request on the same descriptor (no 'R'
   again), or DOER_INIT_RESET_DIRTY, and it exits. Every request to one sandbox must carry
   the same flags (but for DOER_INIT_FLAG_REUSABLE, which the last request leaves out). */

#define DOER_INIT_MAGIC 0x31524f44u /* "DOR1" */
#define DOER_INIT_FLAG_ALLOW_NETWORK 1u
#define DOER_INIT_FLAG_NO_SECCOMP 2u
/* The sandbox has its own pid namespace, so kill(-1) reaches only the sandbox. Without
   it (the process backend) kill(-1) would hit every process of the uid on the host. */
#define DOER_INIT_FLAG_OWN_PID_NAMESPACE 4u
/* Start the network bridge before the command: 127.0.0.1:DOER_PROXY_PORT in the sandbox's
   own (otherwise empty) network namespace, each connection forwarded to the host's egress
   proxy at DOER_PROXY_SOCKET. Needs DOER_INIT_FLAG_ALLOW_NETWORK. */
#define DOER_INIT_FLAG_PROXY_BRIDGE 8u
/* Serve further requests after this one (see above). Needs DOER_INIT_FLAG_OWN_PID_NAMESPACE
   and excludes DOER_INIT_FLAG_PROXY_BRIDGE. */
#define DOER_INIT_FLAG_REUSABLE 16u
#define DOER_INIT_RESET_CLEAN 'C'
#define DOER_INIT_RESET_DIRTY 'D'
#define DOER_INIT_MAX_REQUEST (1u << 20)

#define DOER_PROXY_PORT 3128
#define DOER_PROXY_SOCKET "/.doer/proxy.sock"

enum doer_init_outcome {
    DOER_INIT_EXITED = 0,
    DOER_INIT_SIGNALED = 1,
    DOER_INIT_EXEC_FAILED = 2,
    DOER_INIT_SETUP_FAILED = 3,
};

typedef struct doer_init_status {
    int32_t outcome;
    int32_t value; /* exit code, signal number or errno */
    int32_t timed_out;
    int32_t reserved;
    int64_t max_rss_kb;
    int64_t user_us;
    int64_t system_us;
} doer_init_status;

#endif
