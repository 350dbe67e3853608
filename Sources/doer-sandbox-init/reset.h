#ifndef DOER_SANDBOX_INIT_RESET_H
#define DOER_SANDBOX_INIT_RESET_H

/* Remembers the sandbox's writable places as bwrap left them, before the first run. */
void sandbox_remember(void);

/* Puts the sandbox back as it was before the run (but for the workspace view and the
   writable paths, which the host resets or keeps): every process ended and reaped, /tmp,
   /dev/shm and /dev holding what they held at the start, the very same entries, and no
   System V IPC object. Returns 1 when all of that holds; only then may it serve another run. */
int sandbox_reset(void);

#endif
