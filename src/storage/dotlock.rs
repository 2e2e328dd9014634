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
        // Dovecot's way: a temp file with "<pid>:<hostname>", then link()
        // it to the lock name, so a lock never exists without its owner.
        let mut tmp_os = path.as_os_str().to_owned();
        tmp_os.push(format!(".{}.{}.tmp", std::process::id(), next_serial()));
        let tmp = PathBuf::from(tmp_os);
        let prepared = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .and_then(|mut f| write!(f, "{}:{}", std::process::id(), hostname()));
        match prepared {
            Ok(()) => {}
            Err(e) if optional && e.kind() == ErrorKind::PermissionDenied => return Ok(None),
            Err(e) => return Err(StorageError::io(&tmp, e)),
        }
        let _cleanup = RemoveOnDrop(tmp.clone());
        loop {
            match std::fs::hard_link(&tmp, &path) {
                Ok(()) => return Ok(Some(Dotlock { path })),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    if holder_is_dead(&path) {
                        tracing::warn!(lock = %path.display(), "overriding the dotlock of a dead process");
                        let _ = std::fs::remove_file(&path);
                        continue;
                    }
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

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The lock names a process on this host that no longer exists (a crash
/// or SIGKILL left it behind): safe to take over at once, as Dovecot does.
fn holder_is_dead(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let Some((pid, host)) = text.trim().split_once(':') else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    host == hostname() && pid != 0 && !Path::new(&format!("/proc/{pid}")).exists()
}

fn next_serial() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
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
        let held = Dotlock::acquire(&target, false).unwrap();
        assert!(held.is_some());
        drop(held);
        // A lock of a process that is gone is taken over at once.
        std::fs::write(d.join("box.lock"), format!("999999999:{}", hostname())).unwrap();
        let start = std::time::Instant::now();
        assert!(Dotlock::acquire(&target, false).unwrap().is_some());
        assert!(start.elapsed() < Duration::from_secs(1));
        let _ = std::fs::remove_dir_all(&d);
    }
}
