//! Whole-module tests: syntax forms, errors with file:line, includes, the §10.1 Red Hat
//! test vector, filters, defaults and round trips.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::*;

mod behaviour;
mod doveconf;
mod errors;
mod includes;
mod random;
mod red_hat;

// The server's tests load the §10.1 tree through these paths.
#[allow(unused_imports)]
pub(crate) use red_hat::{load_red_hat, red_hat_tree};
mod syntax;

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// A fresh directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let n = NEXT_DIR.fetch_add(1, Ordering::SeqCst);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("tern-config-{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.0.join(relative.trim_start_matches('/'));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn parse(text: &str) -> Config {
    parse_str(text, Path::new("/nonexistent/test.conf")).unwrap()
}

fn parse_err(text: &str) -> String {
    parse_str(text, Path::new("/nonexistent/test.conf"))
        .unwrap_err()
        .to_string()
}
