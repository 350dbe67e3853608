// The reset between two runs of a sandbox that serves several (DOER_INIT_FLAG_REUSABLE).
//
// The places a run can write, besides the workspace view and the writable paths, are the
// tmpfs mounts bwrap made: /tmp, /dev/shm and /dev itself (bwrap's /dev is a tmpfs owned
// by the sandbox's uid, holding links like /dev/stdout and bind mounts of the device
// nodes). Under /tmp there are also the folders bwrap made as mount points for writable and
// read-only paths below it (a cache under /tmp/...). So the reset works from a skeleton:
// every entry of those trees as it was before the first run (not crossing into mounts),
// with its identity. Anything else is removed; a skeleton entry the run replaced (another
// inode, another link target) cannot be put back as it was, so the sandbox is not reused.
#define _GNU_SOURCE
#include "reset.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SKELETON_MAX 256

typedef struct {
    char path[256];
    dev_t device;
    ino_t inode;
    mode_t mode;
    char target[128];
} skeleton_entry;

typedef struct {
    const char *root;
    mode_t root_mode;
    skeleton_entry entries[SKELETON_MAX];
    int count;
    int usable;
} skeleton;

static skeleton trees[3] = { { .root = "/tmp" }, { .root = "/dev/shm" }, { .root = "/dev" } };

/* nftw passes no user data: the tree being walked, and what the walk found. */
static skeleton *walking;
static int walk_clean;
static int walk_seen;

static int read_entry(const char *path, const struct stat *sb, skeleton_entry *out) {
    size_t root_length = strlen(walking->root);
    const char *relative = path + root_length + 1;
    if (strlen(relative) >= sizeof out->path) return -1;
    memset(out, 0, sizeof *out);
    strcpy(out->path, relative);
    out->device = sb->st_dev;
    out->inode = sb->st_ino;
    out->mode = sb->st_mode;
    if (S_ISLNK(sb->st_mode) && readlink(path, out->target, sizeof out->target - 1) < 0) return -1;
    return 0;
}

static const skeleton_entry *find(const char *path) {
    const char *relative = path + strlen(walking->root) + 1;
    for (int i = 0; i < walking->count; i++) {
        if (!strcmp(walking->entries[i].path, relative)) return &walking->entries[i];
    }
    return NULL;
}

static int same(const skeleton_entry *a, const skeleton_entry *b) {
    return a->device == b->device && a->inode == b->inode && (a->mode & S_IFMT) == (b->mode & S_IFMT)
        && !strcmp(a->target, b->target);
}

static int remember_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
    (void)type;
    if (ftw->level == 0) {
        walking->root_mode = sb->st_mode & 07777;
        return 0;
    }
    if (walking->count == SKELETON_MAX || read_entry(path, sb, &walking->entries[walking->count]) != 0) {
        walking->usable = 0;
        return 1;
    }
    walking->count++;
    return 0;
}

void sandbox_remember(void) {
    for (int t = 0; t < 3; t++) {
        walking = &trees[t];
        walking->usable = 1;
        walking->count = 0;
        if (nftw(walking->root, remember_entry, 16, FTW_PHYS | FTW_MOUNT) != 0) walking->usable = 0;
    }
}

/* Ends every process but ourselves and reaps them all. As pid 1 of the sandbox's own pid
   namespace every orphan is ours: once kill(-1) finds no one and wait finds no child, the
   sandbox holds init alone. A process forked while the signal went round is caught by the
   next round. */
static void end_every_process(void) {
    for (;;) {
        int signalled = kill(-1, SIGKILL) == 0;
        pid_t r;
        while ((r = waitpid(-1, NULL, signalled ? 0 : WNOHANG)) > 0 || (r < 0 && errno == EINTR)) {
            if (r > 0 && signalled) break;
        }
        if (!signalled && r <= 0) return;
        if (signalled && r < 0) {
            /* Signalled, yet no child to wait for: let it die before the next round. */
            struct timespec pause = { 0, 1000000 };
            nanosleep(&pause, NULL);
        }
    }
}

/* Pre-order: a folder the run locked (chmod 000) must be listable to be emptied. */
static int open_up(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
    (void)sb;
    if (ftw->level > 0 && (type == FTW_D || type == FTW_DNR)) chmod(path, 0700);
    return 0;
}

/* Post-order: whatever is not in the skeleton goes; skeleton folders get their mode back. */
static int remove_added(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
    if (ftw->level == 0) return 0;
    const skeleton_entry *kept = find(path);
    if (kept) {
        if (type == FTW_DP) chmod(path, kept->mode & 07777);
        return 0;
    }
    (void)sb;
    if (type == FTW_DP) rmdir(path);
    else unlink(path);
    return 0;
}

/* What is there now must be the skeleton exactly. */
static int check_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
    (void)type;
    if (ftw->level == 0) return 0;
    const skeleton_entry *kept = find(path);
    skeleton_entry now;
    if (!kept || read_entry(path, sb, &now) != 0 || !same(kept, &now)) walk_clean = 0;
    else walk_seen++;
    return 0;
}

static int restore_tree(skeleton *tree) {
    walking = tree;
    if (!tree->usable) return 0;
    chmod(tree->root, 0700);
    nftw(tree->root, open_up, 16, FTW_PHYS | FTW_MOUNT);
    nftw(tree->root, remove_added, 16, FTW_PHYS | FTW_MOUNT | FTW_DEPTH);
    chmod(tree->root, tree->root_mode);
    walk_clean = 1;
    walk_seen = 0;
    if (nftw(tree->root, check_entry, 16, FTW_PHYS | FTW_MOUNT) != 0) return 0;
    return walk_clean && walk_seen == tree->count;
}

/* Removes the System V shared memory, semaphores and message queues the run made; they live
   in the sandbox's IPC namespace and would outlast the processes that made them. Returns 1
   when none is left. */
static int remove_ipc_objects(void) {
    const char *tables[] = { "/proc/sysvipc/shm", "/proc/sysvipc/sem", "/proc/sysvipc/msg" };
    int clean = 1;
    for (int t = 0; t < 3; t++) {
        for (int pass = 0; pass < 2; pass++) {
            FILE *table = fopen(tables[t], "re");
            if (!table) return 0;
            char line[512];
            int ids[1024], count = 0, rows = 0;
            while (fgets(line, sizeof line, table)) {
                int key, id;
                if (rows++ > 0 && count < 1024 && sscanf(line, "%d %d", &key, &id) == 2) ids[count++] = id;
            }
            fclose(table);
            if (pass == 1) {
                if (rows > 1) clean = 0;
                break;
            }
            for (int i = 0; i < count; i++) {
                if (t == 0) shmctl(ids[i], IPC_RMID, NULL);
                else if (t == 1) semctl(ids[i], 0, IPC_RMID);
                else msgctl(ids[i], IPC_RMID, NULL);
            }
        }
    }
    return clean;
}

int sandbox_reset(void) {
    end_every_process();
    int clean = 1;
    for (int t = 0; t < 3; t++) clean &= restore_tree(&trees[t]);
    clean &= remove_ipc_objects();
    if (chdir("/") != 0) clean = 0;
    return clean;
}
