//! What a mailbox view last saw on disk, and the lock under which tern
//! writers commit. Blocking code: runs inside `blocking::run` jobs.
//!
//! Several writers can share one sdbox mailbox: another shard's view, a
//! second tern process, the admin CLI, Dovecot's `dovecot-lda`/`doveadm`.
//! A [`DiskStamp`] changes whenever one of them does something a view must
//! pick up: `tern.log` grows or is replaced (a commit, a compaction), the
//! directory changes (a mail file linked or unlinked by anyone), Dovecot's
//! transaction log grows (a delivery, a flag change). Taking one costs three
//! `stat`s; glommio 0.9 has no public path-based statx, hence the blocking
//! pool.
//!
//! Every tern commit runs under [`MailboxLock::exclusive`] and first checks
//! that `tern.log` is still exactly what the committing view recorded
//! ([`write_guarded`]); otherwise it writes nothing and the view reloads.
//! The lock is a `flock` on the mail directory itself rather than on
//! `tern.log`: compaction replaces `tern.log` by rename, and a lock on the
//! old inode would not exclude a writer that opened the new one.

use super::dovecot_index;
use crate::storage::error::{Result, StorageError};
use crate::storage::index::files::LOG_FILE;
use std::fs::{self, File};
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Identity and length of an append-only file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub ino: u64,
    pub size: u64,
}

/// Identity and last change of the mail directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirStamp {
    pub ino: u64,
    pub mtime_ns: i128,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskStamp {
    /// `tern.log`; None when it is missing.
    pub log: Option<FileStamp>,
    pub dir: DirStamp,
    /// `dovecot.index.log`; None when Dovecot never wrote one.
    pub dovecot_log: Option<FileStamp>,
}

fn file_stamp(path: &Path) -> Result<Option<FileStamp>> {
    match fs::metadata(path) {
        Ok(m) => Ok(Some(FileStamp {
            ino: m.ino(),
            size: m.size(),
        })),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StorageError::io(path, e)),
    }
}

fn dir_stamp(dir: &Path) -> Result<DirStamp> {
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(DirStamp {
            ino: m.ino(),
            mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
        }),
        Ok(_) => Err(StorageError::MailboxGone),
        Err(e) if e.kind() == ErrorKind::NotFound => Err(StorageError::MailboxGone),
        Err(e) => Err(StorageError::io(dir, e)),
    }
}

/// The stamp of `dir` now. Take it *before* reading what it vouches for:
/// a change racing the read then shows up again at the next check instead
/// of being lost.
pub fn read(dir: &Path) -> Result<DiskStamp> {
    let d = dir_stamp(dir)?;
    Ok(DiskStamp {
        log: file_stamp(&dir.join(LOG_FILE))?,
        dir: d,
        dovecot_log: file_stamp(&dir.join(dovecot_index::LOG_FILE))?,
    })
}

/// `flock` on the mail directory, released on drop. Never take two on one
/// directory in one thread: flock locks belong to the open file, so the
/// second would wait for the first forever.
pub struct MailboxLock {
    _dir: File,
}

impl MailboxLock {
    fn open(dir: &Path) -> Result<File> {
        File::open(dir).map_err(|e| match e.kind() {
            ErrorKind::NotFound => StorageError::MailboxGone,
            _ => StorageError::io(dir, e),
        })
    }

    /// For committing, compacting and rebuilding.
    pub fn exclusive(dir: &Path) -> Result<Self> {
        let f = Self::open(dir)?;
        Self::taken(dir, f.lock())?;
        Ok(MailboxLock { _dir: f })
    }

    /// For reading tern's index files as one consistent set.
    pub fn shared(dir: &Path) -> Result<Self> {
        let f = Self::open(dir)?;
        Self::taken(dir, f.lock_shared())?;
        Ok(MailboxLock { _dir: f })
    }

    /// A filesystem without `flock` still serves, as it did before locking
    /// existed: only writers in other processes lose their serialisation.
    fn taken(dir: &Path, r: std::io::Result<()>) -> Result<()> {
        match r {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::Unsupported => {
                tracing::debug!(dir = %dir.display(), "flock unsupported here; committing unlocked");
                Ok(())
            }
            Err(e) => Err(StorageError::io(dir, e)),
        }
    }
}

/// Outcome of a guarded write.
#[derive(Debug)]
pub enum Guarded<T> {
    /// Written; the stamp to record from now on.
    Done(T, DiskStamp),
    /// `tern.log` changed since `expected` was recorded: nothing written.
    Stale,
}

/// Run `write` under the exclusive lock if `tern.log` (and the directory's
/// identity) are still what `expected` recorded. The stamp returned keeps
/// the old directory and Dovecot parts when something else changed them, so
/// the view's next refresh still looks at what it has not seen.
pub fn write_guarded<T>(
    dir: &Path,
    expected: &DiskStamp,
    write: impl FnOnce() -> Result<T>,
) -> Result<Guarded<T>> {
    let _lock = MailboxLock::exclusive(dir)?;
    let before = read(dir)?;
    if before.log != expected.log || before.dir.ino != expected.dir.ino {
        return Ok(Guarded::Stale);
    }
    let out = write()?;
    let mut after = read(dir)?;
    if before.dir != expected.dir {
        after.dir = expected.dir;
    }
    after.dovecot_log = expected.dovecot_log;
    Ok(Guarded::Done(out, after))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sdbox::test_dir;

    #[test]
    fn stamp_follows_log_directory_and_dovecot_log() {
        let dir = test_dir("stamp");
        let s0 = read(&dir).unwrap();
        assert_eq!(s0.log, None);
        assert_eq!(s0.dovecot_log, None);
        fs::write(dir.join(LOG_FILE), b"abc").unwrap();
        let s1 = read(&dir).unwrap();
        assert_eq!(s1.log.map(|l| l.size), Some(3));
        assert_ne!(s1.dir, s0.dir, "a new file changes the directory");
        fs::write(dir.join(dovecot_index::LOG_FILE), b"x").unwrap();
        assert!(read(&dir).unwrap().dovecot_log.is_some());
        fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(read(&dir), Err(StorageError::MailboxGone)));
    }

    #[test]
    fn guarded_write_refuses_after_a_foreign_append() {
        let dir = test_dir("guard");
        fs::write(dir.join(LOG_FILE), b"abc").unwrap();
        let recorded = read(&dir).unwrap();
        // Another writer appends: our write must not happen.
        fs::write(dir.join(LOG_FILE), b"abcdef").unwrap();
        let mut ran = false;
        let r = write_guarded(&dir, &recorded, || {
            ran = true;
            Ok(())
        })
        .unwrap();
        assert!(matches!(r, Guarded::Stale));
        assert!(!ran);
        // With a fresh stamp it runs, and a directory change made by
        // someone else before it stays visible to the next check.
        fs::write(dir.join("u.9"), b"foreign").unwrap();
        assert_ne!(read(&dir).unwrap().dir, recorded.dir);
        let fresh = DiskStamp {
            log: read(&dir).unwrap().log,
            ..recorded
        };
        let r = write_guarded(&dir, &fresh, || Ok(7)).unwrap();
        match r {
            Guarded::Done(v, after) => {
                assert_eq!(v, 7);
                assert_eq!(after.log.map(|l| l.size), Some(6));
                assert_eq!(after.dir, recorded.dir);
            }
            Guarded::Stale => panic!("fresh stamp refused"),
        }
        let _ = fs::remove_dir_all(&dir);
    }
}
