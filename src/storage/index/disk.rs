//! tern's index files on disk (`tern.index`, `tern.log`, `tern.state`)
//! and the small-file primitives every backend writes with: atomic
//! replace, durable directory entries, the append-only commit. Blocking:
//! run inside `blocking::run`.

use super::files::{INDEX_FILE, LOG_FILE, STATE_FILE};
use crate::storage::error::{Result, StorageError};
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Proof that `tern.log` and `tern.state` were there to append to. The
/// files are opened per commit rather than kept open: an open but idle
/// mailbox (an IDLE session) then holds no file descriptors, where two per
/// mailbox put 10,000 IDLE users over a 20,000-descriptor limit. Two opens
/// cost microseconds next to the fdatasync each commit pays anyway.
#[derive(Debug)]
pub struct Journal {
    _checked: (),
}

#[derive(Debug, Default)]
pub struct IndexFiles {
    pub index: Option<Vec<u8>>,
    pub log: Option<Vec<u8>>,
    pub state: Option<Vec<u8>>,
}

pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StorageError::io(path, e)),
    }
}

pub fn load_index_files(dir: &Path) -> Result<IndexFiles> {
    if !dir.is_dir() {
        return Err(StorageError::MailboxGone);
    }
    Ok(IndexFiles {
        index: read_optional(&dir.join(INDEX_FILE))?,
        log: read_optional(&dir.join(LOG_FILE))?,
        state: read_optional(&dir.join(STATE_FILE))?,
    })
}

pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io(dir, e))
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

pub fn temp_name(dir: &Path) -> PathBuf {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    dir.join(format!(
        ".temp.{}.P{}Q{n}M{now}.tern",
        now / 1_000_000,
        std::process::id()
    ))
}

pub fn write_new_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| StorageError::io(path, e))?;
    f.write_all(bytes).map_err(|e| StorageError::io(path, e))?;
    f.sync_data().map_err(|e| StorageError::io(path, e))
}

/// Replace a file atomically: temp, fsync, rename (directory fsync is the
/// caller's, so several replacements share one).
pub fn replace_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = temp_name(dir);
    write_new_file(&tmp, bytes)?;
    let dest = dir.join(name);
    fs::rename(&tmp, &dest).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        StorageError::io(&dest, e)
    })
}

fn open_append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| StorageError::io(path, e))
}

/// Compaction / initialisation: write all three index files, then fsync the
/// directory. Order: index, log, state — see `index::recover` for why any
/// interruption is recoverable.
pub fn write_index_files(dir: &Path, index: &[u8], log: &[u8], state: &[u8]) -> Result<Journal> {
    replace_file(dir, INDEX_FILE, index)?;
    replace_file(dir, LOG_FILE, log)?;
    replace_file(dir, STATE_FILE, state)?;
    sync_dir(dir)?;
    open_journal(dir)
}

pub fn open_journal(dir: &Path) -> Result<Journal> {
    open_append(&dir.join(LOG_FILE))?;
    open_append(&dir.join(STATE_FILE))?;
    Ok(Journal { _checked: () })
}

/// The commit point: append to the log and fdatasync it. The state copy is
/// appended too but not synced (it is the fallback, not the commit).
pub fn commit(dir: &Path, _journal: &Journal, bytes: &[u8]) -> Result<()> {
    append_entries(dir, bytes)
}

/// [`commit`] without the open-check token (sdbox commits are guarded by
/// `disk_stamp::write_guarded` instead). A failed append is cut off again,
/// so a torn frame never hides what another writer appends after it.
pub fn append_entries(dir: &Path, bytes: &[u8]) -> Result<()> {
    let log_path = dir.join(LOG_FILE);
    let mut log = open_append(&log_path)?;
    let before = log
        .metadata()
        .map_err(|e| StorageError::io(&log_path, e))?
        .len();
    if let Err(e) = log.write_all(bytes).and_then(|_| log.sync_data()) {
        if let Err(cut) = log.set_len(before) {
            tracing::warn!(path = %log_path.display(), error = %cut, "could not cut a failed append off tern.log");
        }
        return Err(StorageError::io(&log_path, e));
    }
    let state = open_append(&dir.join(STATE_FILE));
    if let Err(e) = state.and_then(|mut f| f.write_all(bytes).map_err(|e| StorageError::io(dir, e)))
    {
        // The log has it; the next open notices the stale copy and rewrites it.
        tracing::warn!(dir = %dir.display(), error = %e, "could not append to tern.state");
    }
    Ok(())
}
