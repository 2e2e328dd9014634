//! UIDVALIDITY allocation through `dovecot-uidvalidity`, with Dovecot's
//! protocol, so values handed out by tern and Dovecot never collide.
//! Blocking code: call it inside a `blocking::run` job.

use crate::storage::error::{Result, StorageError};
use std::fs;
use std::io::ErrorKind;
use std::path::Path;

pub const FILE_NAME: &str = "dovecot-uidvalidity";

fn parse_value(s: &str) -> Option<u32> {
    if s.len() != 8 {
        return None;
    }
    u32::from_str_radix(s, 16).ok().filter(|&v| v != 0)
}

fn next_value(v: u32) -> u32 {
    match v.wrapping_add(1) {
        0 => 1,
        n => n,
    }
}

/// Find the highest marker `dovecot-uidvalidity.XXXXXXXX`, deleting the others.
fn scan_markers(dir: &Path) -> Result<Option<u32>> {
    let mut found = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StorageError::io(dir, e)),
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(v) = name
            .strip_prefix("dovecot-uidvalidity.")
            .and_then(parse_value)
        {
            found.push(v);
        }
    }
    found.sort_unstable();
    let highest = found.last().copied();
    for v in found.iter().rev().skip(1) {
        let _ = fs::remove_file(dir.join(format!("{FILE_NAME}.{v:08x}")));
    }
    Ok(highest)
}

fn create_marker(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o444)
        .open(path)
        .map(|_| ())
}

/// Allocate the next UIDVALIDITY in `dir` (the mail root or CONTROL dir).
pub fn allocate(dir: &Path, now: u32) -> Result<u32> {
    let main = dir.join(FILE_NAME);
    let mut current = match fs::read_to_string(&main) {
        Ok(s) => parse_value(s.trim()),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(StorageError::io(&main, e)),
    };
    if current.is_none() {
        current = scan_markers(dir)?;
    }
    let mut value = match current {
        Some(v) => v,
        None => {
            // First allocation: the current time, as Dovecot does.
            let first = now.max(1);
            let marker = dir.join(format!("{FILE_NAME}.{first:08x}"));
            create_marker(&marker).map_err(|e| StorageError::io(&marker, e))?;
            write_main(&main, first)?;
            return Ok(first);
        }
    };
    for _ in 0..10 {
        let next = next_value(value);
        let from = dir.join(format!("{FILE_NAME}.{value:08x}"));
        let to = dir.join(format!("{FILE_NAME}.{next:08x}"));
        match fs::rename(&from, &to) {
            Ok(()) => {
                write_main(&main, next)?;
                return Ok(next);
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {
                // Another process won the race, or the marker was lost.
                if !fs::exists(&to).unwrap_or(false) && scan_markers(dir)?.is_none() {
                    create_marker(&to).map_err(|e| StorageError::io(&to, e))?;
                    write_main(&main, next)?;
                    return Ok(next);
                }
                value = next;
            }
            Err(e) => return Err(StorageError::io(&from, e)),
        }
    }
    Err(StorageError::Internal(
        "could not allocate UIDVALIDITY after 10 tries".into(),
    ))
}

fn write_main(main: &Path, value: u32) -> Result<()> {
    let dir = main.parent().unwrap_or(Path::new("."));
    crate::storage::index::disk::replace_file(dir, FILE_NAME, format!("{value:08x}").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sdbox::test_dir;

    #[test]
    fn allocates_like_dovecot() {
        let dir = test_dir("uidv");
        assert_eq!(allocate(&dir, 0x6b0ab955).unwrap(), 0x6b0ab955);
        assert_eq!(fs::read_to_string(dir.join(FILE_NAME)).unwrap(), "6b0ab955");
        assert!(dir.join("dovecot-uidvalidity.6b0ab955").exists());
        assert_eq!(allocate(&dir, 5).unwrap(), 0x6b0ab956);
        assert!(!dir.join("dovecot-uidvalidity.6b0ab955").exists());
        assert!(dir.join("dovecot-uidvalidity.6b0ab956").exists());
        // Main file lost: recover from the marker.
        fs::remove_file(dir.join(FILE_NAME)).unwrap();
        assert_eq!(allocate(&dir, 5).unwrap(), 0x6b0ab957);
        // Main file garbage and marker lost: never goes back below what is on disk.
        fs::write(dir.join(FILE_NAME), "zz").unwrap();
        assert_eq!(allocate(&dir, 5).unwrap(), 0x6b0ab958);
        let _ = fs::remove_dir_all(&dir);
    }
}
