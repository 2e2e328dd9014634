//! The per-mailbox `tern.cache` of parsed ENVELOPE/BODYSTRUCTURE.
//!
//! Loaded lazily on the first `cached_structure(s)` call (opening a mailbox
//! must stay cheap), kept in memory (counted in the shard cache's budget),
//! appended to on every miss, compacted when records of expunged or
//! replaced UIDs outnumber the live ones. Appends are not fsync'd: the file
//! is a cache, a torn tail is cut off at the next load and its entries are
//! recomputed from the mail files.

use super::SdboxMailbox;
use crate::message::{CachedStructure, ParsedMessage};
use crate::storage::blocking;
use crate::storage::error::{Result, StorageError};
use crate::storage::index::cache_file::{
    CACHE_FILE, decode_cache_file, encode_cache_file, encode_cache_header, encode_cache_record,
};
use crate::storage::sdbox::{dbox_file, io};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Compact only past this many dead records (small files are not worth it).
pub const CACHE_COMPACT_MIN_DEAD: usize = 64;

/// In-memory side of `tern.cache`.
#[derive(Default)]
pub(crate) struct StructureCache {
    loaded: bool,
    entries: HashMap<u32, Vec<u8>>,
    /// Records in the file that no longer count (expunged or replaced).
    dead: usize,
    bytes: usize,
    file: Option<Arc<File>>,
    /// Bumped by every reset: work started before a resync (which may
    /// change what a UID means) must not land after it.
    epoch: u64,
}

impl StructureCache {
    pub(crate) fn memory_estimate(&self) -> usize {
        self.bytes + self.entries.len() * 48
    }

    fn insert(&mut self, uid: u32, bytes: Vec<u8>) {
        self.bytes += bytes.len();
        if let Some(old) = self.entries.insert(uid, bytes) {
            self.bytes -= old.len();
            self.dead += 1;
        }
    }

    fn remove(&mut self, uid: u32) {
        if let Some(old) = self.entries.remove(&uid) {
            self.bytes -= old.len();
            self.dead += 1;
        }
    }

    fn needs_compaction(&self) -> bool {
        self.loaded && self.dead >= CACHE_COMPACT_MIN_DEAD && self.dead > self.entries.len()
    }
}

fn open_append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| StorageError::io(path, e))
}

/// Rewrite `tern.cache` with exactly `entries` and open it for appending.
fn rewrite(dir: &Path, bytes: &[u8]) -> Result<File> {
    io::replace_file(dir, CACHE_FILE, bytes)?;
    open_append(&dir.join(CACHE_FILE))
}

/// A new `tern.cache` holding only its header, opened for appending. Not
/// fsync'd, like the appends: a torn header is replaced at the next load,
/// so a mailbox's first structure lookup need not wait for the disk.
fn create(dir: &Path, uidvalidity: u32) -> Result<File> {
    let path = dir.join(CACHE_FILE);
    let opened = OpenOptions::new()
        .append(true)
        .create_new(true)
        .mode(0o600)
        .open(&path);
    let mut file = match opened {
        Ok(f) => f,
        // Someone made one meanwhile: replace it whole.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            return rewrite(dir, &encode_cache_header(uidvalidity));
        }
        Err(e) => return Err(StorageError::io(&path, e)),
    };
    file.write_all(&encode_cache_header(uidvalidity))
        .map_err(|e| StorageError::io(&path, e))?;
    Ok(file)
}

/// Blocking: read `tern.cache`, keep the records of `live` UIDs, and make
/// the file appendable again (a missing, damaged or foreign file is
/// replaced by one holding what could be read).
fn load(
    dir: &Path,
    uidvalidity: u32,
    live: &[u32],
) -> Result<(HashMap<u32, Vec<u8>>, usize, File)> {
    let path = dir.join(CACHE_FILE);
    let data = match std::fs::read(&path) {
        Ok(d) => Some(d),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(StorageError::io(&path, e)),
    };
    let Some(data) = data else {
        return Ok((HashMap::new(), 0, create(dir, uidvalidity)?));
    };
    let mut loaded = decode_cache_file(&data, uidvalidity);
    let before = loaded.entries.len();
    loaded
        .entries
        .retain(|uid, _| live.binary_search(uid).is_ok());
    let dead = loaded.dead_records + (before - loaded.entries.len());
    if let Some(problem) = &loaded.problem {
        tracing::warn!(dir = %dir.display(), problem = %problem,
            "tern.cache damaged; keeping what could be read, the rest is recomputed on demand");
        let bytes = encode_cache_file(
            uidvalidity,
            loaded.entries.iter().map(|(u, b)| (*u, b.as_slice())),
        );
        let file = rewrite(dir, &bytes)?;
        return Ok((loaded.entries, 0, file));
    }
    Ok((loaded.entries, dead, open_append(&path)?))
}

/// Blocking: parse each of `uids` and append all their records to the
/// cache file in one write. One result per UID, in order.
fn compute_all(
    dir: &Path,
    attachment_dir: Option<&Path>,
    uids: &[u32],
    file: Option<&File>,
) -> Vec<Result<(CachedStructure, Vec<u8>)>> {
    let mut records = Vec::new();
    let out: Vec<Result<(CachedStructure, Vec<u8>)>> = uids
        .iter()
        .map(|&uid| {
            let body = io::read_body(dir, uid, attachment_dir)?;
            let wire = dbox_file::to_crlf(&body);
            let structure = ParsedMessage::parse(&wire).cached_structure();
            let bytes = structure.encode();
            records.extend_from_slice(&encode_cache_record(uid, &bytes));
            Ok((structure, bytes))
        })
        .collect();
    if let Some(mut f) = file
        && !records.is_empty()
    {
        // One write for the batch: O_APPEND keeps concurrent appends whole.
        if let Err(e) = f.write_all(&records) {
            tracing::warn!(dir = %dir.display(), error = %e, "could not append to tern.cache");
        }
    }
    out
}

impl SdboxMailbox {
    async fn ensure_cache_loaded(&self) -> Result<()> {
        if self.inner.structures.borrow().loaded {
            return Ok(());
        }
        let _permit = self
            .inner
            .structures_lock
            .acquire_permit(1)
            .await
            .map_err(|_| StorageError::Internal("cache lock closed".into()))?;
        if self.inner.structures.borrow().loaded {
            return Ok(());
        }
        let epoch = self.inner.structures.borrow().epoch;
        let (uidvalidity, live): (u32, Vec<u32>) = {
            let st = self.inner.core.state.borrow();
            (st.uidvalidity, st.records.iter().map(|r| r.uid).collect())
        };
        let dir = self.inner.dir();
        let (entries, dead, file) = blocking::run(move || load(&dir, uidvalidity, &live)).await?;
        let st = self.inner.core.state.borrow();
        let mut cache = self.inner.structures.borrow_mut();
        if cache.epoch != epoch || st.uidvalidity != uidvalidity {
            // A resync ran meanwhile; the next call loads afresh.
            return Ok(());
        }
        *cache = StructureCache {
            loaded: true,
            file: Some(Arc::new(file)),
            dead,
            epoch,
            ..Default::default()
        };
        for (uid, bytes) in entries {
            // Expunged while the file was being read.
            if st.position(uid).is_some() {
                cache.insert(uid, bytes);
            } else {
                cache.dead += 1;
            }
        }
        Ok(())
    }

    pub(super) async fn cached_structure_now(&self, uid: u32) -> Result<Option<CachedStructure>> {
        let mut one = self.cached_structures_now(&[uid]).await?;
        one.pop()
            .unwrap_or_else(|| Err(StorageError::Internal("empty structure batch".into())))
    }

    /// Hits from memory; every miss of the batch parsed in one blocking
    /// job. Files that vanished behind our back resync the mailbox once for
    /// the whole batch and answer `NoSuchMessage`.
    pub(super) async fn cached_structures_now(
        &self,
        uids: &[u32],
    ) -> Result<Vec<Result<Option<CachedStructure>>>> {
        self.check_gone()?;
        let indexed: Vec<bool> = {
            let st = self.inner.core.state.borrow();
            uids.iter().map(|&u| st.position(u).is_some()).collect()
        };
        if indexed.iter().any(|&known| known) {
            self.ensure_cache_loaded().await?;
        }
        let mut out: Vec<Option<Result<Option<CachedStructure>>>> = {
            let cache = self.inner.structures.borrow();
            uids.iter()
                .zip(&indexed)
                .map(|(&uid, &known)| {
                    if !known {
                        return Some(Err(StorageError::NoSuchMessage(uid)));
                    }
                    let bytes = cache.entries.get(&uid)?;
                    match CachedStructure::decode(bytes) {
                        Ok(s) => Some(Ok(Some(s))),
                        // An older encoding version or damage the CRC missed.
                        Err(e) => {
                            tracing::debug!(uid, error = %e, "stale tern.cache record; recomputing");
                            None
                        }
                    }
                })
                .collect()
        };
        let misses: Vec<u32> = uids
            .iter()
            .zip(&out)
            .filter(|(_, r)| r.is_none())
            .map(|(&u, _)| u)
            .collect();
        if misses.is_empty() {
            return Ok(out.into_iter().flatten().collect());
        }
        let dir = self.inner.dir();
        let att: Option<PathBuf> = self.inner.attachment_dir.clone();
        let (file, epoch) = {
            let cache = self.inner.structures.borrow();
            (cache.file.clone(), cache.epoch)
        };
        let job_uids = misses.clone();
        let computed = blocking::run(move || {
            Ok(compute_all(
                &dir,
                att.as_deref(),
                &job_uids,
                file.as_deref(),
            ))
        })
        .await?;
        let mut vanished = Vec::new();
        {
            let st = self.inner.core.state.borrow();
            let mut cache = self.inner.structures.borrow_mut();
            let mut computed = misses.iter().zip(computed);
            for slot in out.iter_mut().filter(|r| r.is_none()) {
                let Some((&uid, result)) = computed.next() else {
                    *slot = Some(Err(StorageError::Internal(
                        "structure batch returned too few results".into(),
                    )));
                    continue;
                };
                *slot = Some(match result {
                    Ok((structure, bytes)) => {
                        // Skip if expunged or resynced meanwhile.
                        if cache.epoch == epoch && st.position(uid).is_some() {
                            cache.insert(uid, bytes);
                        } else {
                            cache.dead += 1;
                        }
                        Ok(Some(structure))
                    }
                    Err(StorageError::NoSuchMessage(_)) => {
                        vanished.push(uid);
                        Err(StorageError::NoSuchMessage(uid))
                    }
                    Err(e) => Err(e),
                });
            }
        }
        if !vanished.is_empty()
            && let Err(e) = self.resync_vanished(&vanished).await
        {
            // The batch itself is answered; the next open retries.
            tracing::warn!(dir = %self.inner.dir().display(), error = %e,
                "resync after vanished message files failed");
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Forget expunged UIDs; compact the file when dead records dominate.
    /// Failures are logged: the expunge itself is already durable.
    pub(super) async fn cache_forget(&self, uids: &[u32]) {
        let wanted = {
            let mut cache = self.inner.structures.borrow_mut();
            for &u in uids {
                cache.remove(u);
            }
            cache.needs_compaction()
        };
        if wanted {
            self.compact_cache().await;
        }
    }

    /// Drop the in-memory cache so the next use reloads and re-filters the
    /// file (after a resync, which may change UIDs or UIDVALIDITY).
    pub(super) fn cache_reset(&self) {
        let mut cache = self.inner.structures.borrow_mut();
        let epoch = cache.epoch.wrapping_add(1);
        *cache = StructureCache {
            epoch,
            ..Default::default()
        };
    }

    pub(super) async fn compact_cache(&self) {
        let Ok(_permit) = self.inner.structures_lock.acquire_permit(1).await else {
            return;
        };
        let bytes = {
            let cache = self.inner.structures.borrow();
            if !cache.loaded {
                return;
            }
            let uidvalidity = self.inner.core.state.borrow().uidvalidity;
            encode_cache_file(
                uidvalidity,
                cache.entries.iter().map(|(u, b)| (*u, b.as_slice())),
            )
        };
        let dir = self.inner.dir();
        match blocking::run(move || rewrite(&dir, &bytes)).await {
            Ok(file) => {
                let mut cache = self.inner.structures.borrow_mut();
                cache.file = Some(Arc::new(file));
                cache.dead = 0;
            }
            Err(e) => {
                tracing::warn!(dir = %self.inner.dir().display(), error = %e, "tern.cache compaction failed")
            }
        }
    }

    /// Records in `tern.cache` that no longer count (for tests and admin).
    pub fn cache_dead_records(&self) -> usize {
        self.inner.structures.borrow().dead
    }
}
