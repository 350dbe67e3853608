#ifndef CDOER_SQLITE_H
#define CDOER_SQLITE_H

/// Leaves the write-ahead log to the next writer instead of copying it into the database
/// when the last connection closes (SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE). A command that
/// records one audit event then closes without a checkpoint's two flushes; the log is
/// checkpointed as it grows (every 1,000 pages) by whichever process writes then.
/// `connection` is a `sqlite3 *`. Returns SQLite's result code.
int doer_sqlite_skip_checkpoint_on_close(void *connection);

#endif
