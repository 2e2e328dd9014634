//! Dovecot-style dotlocks (`<file>.lock`), created with `O_EXCL`. Blocking:
//! run inside `blocking::run`. A lock unchanged for longer than
//! [`STALE_AFTER`] is considered abandoned and replaced, as Dovecot does.

use crate::storage::error::{Result, StorageError};
use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// `mbox_dotlock_change_timeout` / Dovecot's uidlist lock staleness.
pub const STALE_AFTER: Duration = Duration::from_secs(120);
/// Give up after this long (`mbox_lock_timeout` is 5 minutes; we are stricter
/// because a session is waiting).
pub const WAIT_AT_MOST: Duration = Duration::from_secs(60);

/// A held dotlock; removed on drop.
#[derive(Debug)]
pub struct Dotlock {
    path: PathBuf,
}

impl Dotlock {
    /// Take `<target>.lock`. `optional`: when the directory is not writable
    /// (a shared spool), go on without it (Dovecot's `dotlock_try`).
    pub fn acquire(target: &Path, optional: bool) -> Result<Option<Dotlock>> {
        let mut os = target.as_os_str().to_owned();
        os.push(".lock");
        let path = PathBuf::from(os);
        let start = Instant::now();
        loop {
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(mut f) => {
                    let _ = writeln!(f, "{}:tern", std::process::id());
                    return Ok(Some(Dotlock { path }));
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    let stale = std::fs::metadata(&path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| SystemTime::now().duration_since(t).ok())
                        .is_some_and(|age| age > STALE_AFTER);
                    if stale {
                        tracing::warn!(lock = %path.display(), "overriding a stale dotlock");
                        let _ = std::fs::remove_file(&path);
                        continue;
                    }
                    if start.elapsed() > WAIT_AT_MOST {
                        return Err(StorageError::Internal(format!(
                            "timed out waiting for {}",
                            path.display()
                        )));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) if optional && e.kind() == ErrorKind::PermissionDenied => return Ok(None),
                Err(e) => return Err(StorageError::io(&path, e)),
            }
        }
    }
}

impl Drop for Dotlock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excludes_and_releases() {
        let d = crate::storage::sdbox::test_dir("dotlock");
        let target = d.join("box");
        let l = Dotlock::acquire(&target, false).unwrap();
        assert!(d.join("box.lock").exists());
        drop(l);
        assert!(!d.join("box.lock").exists());
        // A stale lock is overridden.
        std::fs::write(d.join("box.lock"), "1").unwrap();
        let old = SystemTime::now() - Duration::from_secs(1000);
        let f = std::fs::File::options()
            .write(true)
            .open(d.join("box.lock"))
            .unwrap();
        f.set_modified(old).unwrap();
        assert!(Dotlock::acquire(&target, false).unwrap().is_some());
        let _ = std::fs::remove_dir_all(&d);
    }
}
