//! Directory and clock helpers for the blocking side of every backend.

use crate::storage::error::{Result, StorageError};
use std::path::Path;

/// `mkdir -p` with mode 0700 (mail is private to its user).
pub fn create_dir_0700(p: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(p)
        .map_err(|e| StorageError::io(p, e))
}

/// Current time in UNIX seconds (0 if the clock is before 1970).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn creates_nested_private_directories() {
        let root = crate::storage::sdbox::test_dir("dirs");
        let p = root.join("a/b");
        create_dir_0700(&p).unwrap();
        create_dir_0700(&p).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(mode & 0o777, 0o700);
        assert!(unix_now() > 1_600_000_000);
    }
}
