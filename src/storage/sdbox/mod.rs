//! The sdbox backend: Dovecot's single-dbox layout and file format.

pub mod attachments;
pub mod dbox_file;
pub mod disk_stamp;
pub mod dovecot_delta;
pub mod dovecot_export;
pub mod dovecot_index;
pub mod io;
pub mod layout;
pub mod mailbox;
pub mod store;

pub use mailbox::{CACHE_COMPACT_MIN_DEAD, OpenReport, SdboxMailbox};
pub use store::{SdboxRegistry, SdboxStore};

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_followups;
#[cfg(test)]
mod tests_foreign;
#[cfg(test)]
mod tests_read_parts;
#[cfg(test)]
mod tests_structures_batch;

/// A fresh, unique directory for a test.
#[cfg(test)]
pub(crate) fn test_dir(tag: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "tern-storage-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
