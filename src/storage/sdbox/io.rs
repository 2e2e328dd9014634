//! Blocking filesystem work for sdbox, meant to run inside `blocking::run`.
//! Each function batches the syscalls of one logical step (write + fsync +
//! rename + directory fsync), because the blocking pool is small.

use super::dbox_file::{self, MAX_HEADER_LINE, MAX_METADATA};
use crate::storage::error::{Result, StorageError};
pub use crate::storage::index::disk::{
    IndexFiles, Journal, append_entries, commit, load_index_files, open_journal, replace_file,
    sync_dir, write_index_files,
};
use crate::storage::index::disk::{temp_name, write_new_file};
use crate::storage::index::{KeywordBits, MessageRecord};
use crate::storage::types::MessagePart;
use std::fs::{self, File};
use std::io::{ErrorKind, Read};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Outcome of linking new messages into place.
#[derive(Debug)]
pub enum LinkOutcome {
    Done,
    /// `u.<uid>` already existed: the index is behind the directory.
    Collision(u32),
}

pub fn mail_path(dir: &Path, uid: u32) -> PathBuf {
    dir.join(format!("u.{uid}"))
}

/// Write finished message files under temp names, each fdatasync'd.
pub fn write_temps(dir: &Path, files: &[Vec<u8>]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::with_capacity(files.len());
    for bytes in files {
        let tmp = temp_name(dir);
        if let Err(e) = write_new_file(&tmp, bytes) {
            remove_all(&out);
            return Err(e);
        }
        out.push(tmp);
    }
    Ok(out)
}

/// Hard-link existing messages (COPY) to temp names in `dest`, falling back
/// to a byte copy across filesystems.
pub fn link_temps(src: &Path, uids: &[u32], dest: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::with_capacity(uids.len());
    for &uid in uids {
        let from = mail_path(src, uid);
        let tmp = temp_name(dest);
        let r = match fs::hard_link(&from, &tmp) {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EXDEV) => fs::read(&from)
                .map_err(|e| StorageError::io(&from, e))
                .and_then(|b| write_new_file(&tmp, &b)),
            Err(e) => Err(StorageError::io(&from, e)),
        };
        if let Err(e) = r {
            remove_all(&out);
            return Err(e);
        }
        out.push(tmp);
    }
    Ok(out)
}

pub fn remove_all(paths: &[PathBuf]) {
    for p in paths {
        let _ = fs::remove_file(p);
    }
}

/// Link temp files to `u.<uid>` (never replacing an existing file), fsync
/// the directory, then commit the log entries. On a collision nothing is
/// committed and the links made so far are undone; temps are kept for a retry.
pub fn link_and_commit(
    dir: &Path,
    temps: &[PathBuf],
    uids: &[u32],
    entries: &[u8],
) -> Result<LinkOutcome> {
    let mut linked = Vec::with_capacity(uids.len());
    for (tmp, &uid) in temps.iter().zip(uids) {
        let dest = mail_path(dir, uid);
        match fs::hard_link(tmp, &dest) {
            Ok(()) => linked.push(dest),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                remove_all(&linked);
                return Ok(LinkOutcome::Collision(uid));
            }
            Err(e) => {
                remove_all(&linked);
                return Err(StorageError::io(&dest, e));
            }
        }
    }
    // Not committed until the log says so: on failure take the new names
    // away again (the caller rewrites the index from memory), keeping the
    // temps so nothing is half-visible and a retry can start over.
    let committed = sync_dir(dir).and_then(|_| append_entries(dir, entries));
    if let Err(e) = committed {
        remove_all(&linked);
        return Err(e);
    }
    remove_all(temps);
    Ok(LinkOutcome::Done)
}

/// Give the message in `u.<old>` the name `u.<new>` (never replacing an
/// existing file), durably.
pub fn renumber(dir: &Path, old: u32, new: u32) -> Result<()> {
    let (from, to) = (mail_path(dir, old), mail_path(dir, new));
    fs::hard_link(&from, &to).map_err(|e| StorageError::io(&to, e))?;
    fs::remove_file(&from).map_err(|e| StorageError::io(&from, e))?;
    sync_dir(dir)
}

pub fn unlink_messages(dir: &Path, uids: &[u32]) {
    for &uid in uids {
        let p = mail_path(dir, uid);
        match fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(path = %p.display(), error = %e, "could not unlink expunged message")
            }
        }
    }
}

/// Temp files older than this are leftovers of a crash (Dovecot uses 36 h).
const STALE_TEMP_SECS: u64 = 36 * 3600;

fn remove_if_stale(path: &Path) {
    let stale = fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age.as_secs() > STALE_TEMP_SECS);
    if stale {
        let _ = fs::remove_file(path);
    }
}

/// UIDs of every `u.<uid>` file (stale temp files are removed on the way); temp, broken and unknown files are skipped.
pub fn list_uids(dir: &Path) -> Result<Vec<u32>> {
    let mut uids = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| StorageError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| StorageError::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with(".temp.") {
            remove_if_stale(&entry.path());
            continue;
        }
        let Some(num) = name.strip_prefix("u.") else {
            continue;
        };
        if num.ends_with(".broken") {
            continue;
        }
        match num.parse::<u32>() {
            Ok(uid) if uid > 0 && !num.starts_with('0') && !num.starts_with('+') => uids.push(uid),
            _ => {
                tracing::warn!(dir = %dir.display(), file = name, "ignoring file with an invalid UID")
            }
        }
    }
    uids.sort_unstable();
    Ok(uids)
}

/// Read a message file's headers and metadata into a record (rebuild).
pub fn read_record(dir: &Path, uid: u32, modseq: u64) -> Result<MessageRecord> {
    let path = mail_path(dir, uid);
    let file = File::open(&path).map_err(|e| StorageError::io(&path, e))?;
    let meta = file.metadata().map_err(|e| StorageError::io(&path, e))?;
    let (hdr, md) = read_headers(&file, &path, uid)?;
    let virtual_size = match md.virtual_size {
        Some(v) => v,
        None => {
            let mut body = vec![0u8; hdr.body_size as usize];
            file.read_exact_at(&mut body, hdr.body_offset)
                .map_err(|e| StorageError::io(&path, e))?;
            dbox_file::virtual_size(&body)
        }
    };
    Ok(MessageRecord {
        uid,
        flags: 0,
        keywords: KeywordBits::new(),
        modseq,
        // Dovecot reads a missing R as 1970; keep that for compatibility.
        internal_date: md.received.unwrap_or(0),
        // SAVEDATE is the file's ctime in sdbox.
        save_date: meta.ctime(),
        physical_size: md.plain_size.unwrap_or(hdr.body_size),
        virtual_size,
        body_offset: u32::try_from(hdr.body_offset).unwrap_or(u32::MAX),
        guid: md.guid.unwrap_or_default(),
        pop3_uidl: md.pop3_uidl,
        pop3_order: md.pop3_order,
    })
}

/// Largest mail file read into memory (the save limit plus room for headers).
const MAX_READ_BYTES: usize = super::mailbox::MAX_MESSAGE_BYTES + 1024 * 1024;

/// Read a whole message file and return its stored body bytes.
pub fn read_body(dir: &Path, uid: u32, attachment_dir: Option<&Path>) -> Result<Vec<u8>> {
    let path = mail_path(dir, uid);
    let mut data = Vec::new();
    let map_err = |e: std::io::Error| match e.kind() {
        ErrorKind::NotFound => StorageError::NoSuchMessage(uid),
        _ => StorageError::io(&path, e),
    };
    let file = File::open(&path).map_err(map_err)?;
    // Bound memory: a file larger than any message we accept is refused.
    let limit = (MAX_READ_BYTES as u64) + 1;
    file.take(limit).read_to_end(&mut data).map_err(map_err)?;
    if data.len() as u64 >= limit {
        return Err(StorageError::MessageTooLarge);
    }
    let corrupt = |reason: String| StorageError::CorruptMessage { uid, reason };
    let hdr = dbox_file::parse_header(&data).map_err(|e| corrupt(e.to_string()))?;
    let start = hdr.body_offset as usize;
    let end = start
        .checked_add(hdr.body_size as usize)
        .filter(|&e| e <= data.len())
        .ok_or_else(|| corrupt("body size runs past the end of the file".into()))?;
    let md = dbox_file::parse_metadata(&data[end..]).map_err(|e| corrupt(e.to_string()))?;
    data.truncate(end);
    data.drain(..start);
    if let Some(x) = &md.ext_refs {
        let Some(att_dir) = attachment_dir else {
            return Err(StorageError::Unsupported {
                uid,
                feature: "external attachments (X) without mail_attachment_dir",
            });
        };
        let refs = super::attachments::parse_refs(x).map_err(corrupt)?;
        let max = MAX_READ_BYTES as u64;
        let full = super::attachments::reassemble(&data, &refs, max, |rel| {
            super::attachments::load(att_dir, rel, max)
        })
        .map_err(corrupt)?;
        if md.plain_size.is_some_and(|z| z != full.len() as u64) {
            return Err(corrupt("reassembled size differs from Z".into()));
        }
        return Ok(full);
    }
    match md.plain_size {
        None => Ok(data),
        Some(plain) => decompress(uid, &data, plain),
    }
}

/// Hand the mailbox to Dovecot: install `dovecot.index` and delete
/// Dovecot's log, cache and backup, which would contradict it (doc §7.5).
pub fn export_dovecot_index(dir: &Path, snapshot: &[u8]) -> Result<()> {
    use super::dovecot_index::{INDEX_FILE as DOVECOT_INDEX, LOG_FILE as DOVECOT_LOG, LOG2_FILE};
    for name in [
        DOVECOT_LOG,
        LOG2_FILE,
        "dovecot.index.cache",
        "dovecot.index.backup",
    ] {
        match fs::remove_file(dir.join(name)) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(StorageError::io(&dir.join(name), e)),
        }
    }
    replace_file(dir, DOVECOT_INDEX, snapshot)?;
    sync_dir(dir)
}

/// Bodies saved by Dovecot's zlib plugin (`Z` metadata). gzip is read; the
/// other formats (bz2, lz4, zstd, xz) are refused clearly.
fn decompress(uid: u32, stored: &[u8], plain_size: u64) -> Result<Vec<u8>> {
    if !stored.starts_with(&[0x1f, 0x8b]) {
        return Err(StorageError::Unsupported {
            uid,
            feature: "compressed body other than gzip (Z)",
        });
    }
    if plain_size > MAX_READ_BYTES as u64 {
        return Err(StorageError::MessageTooLarge);
    }
    let mut out = Vec::with_capacity(plain_size as usize);
    // Never inflate past the announced size (+1 to notice a lie).
    flate2::read::GzDecoder::new(stored)
        .take(plain_size + 1)
        .read_to_end(&mut out)
        .map_err(|e| StorageError::CorruptMessage {
            uid,
            reason: format!("gzip: {e}"),
        })?;
    if out.len() as u64 != plain_size {
        return Err(StorageError::CorruptMessage {
            uid,
            reason: "gzip body does not match its Z size".into(),
        });
    }
    Ok(out)
}

/// Which part of a message's wire form (CRLF line ends) to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WirePart {
    /// `len` bytes from `start` (BODY[]<start.len>).
    Range { start: u64, len: u64 },
    /// The header, through the empty line that ends it (BODY[HEADER]).
    Header,
}

/// `part` of each of `uids`, read one after another in the calling
/// (blocking) thread: one pool trip for a whole FETCH chunk.
pub fn read_parts(
    dir: &Path,
    uids: &[u32],
    attachment_dir: Option<&Path>,
    part: MessagePart,
) -> Vec<Result<Vec<u8>>> {
    uids.iter()
        .map(|&uid| match part {
            MessagePart::Whole => {
                read_body(dir, uid, attachment_dir).map(|body| dbox_file::to_crlf(&body))
            }
            MessagePart::Header => read_wire(dir, uid, attachment_dir, WirePart::Header),
            MessagePart::Range { start, len } => {
                read_wire(dir, uid, attachment_dir, WirePart::Range { start, len })
            }
        })
        .collect()
}

/// Read part of a message without loading all of it: the stored body is
/// streamed in chunks and converted to CRLF on the fly, stopping as soon as
/// the part is complete. Transformed bodies (Z, X) fall back to a full read.
pub fn read_wire(
    dir: &Path,
    uid: u32,
    attachment_dir: Option<&Path>,
    part: WirePart,
) -> Result<Vec<u8>> {
    const CHUNK: usize = 64 * 1024;
    let path = mail_path(dir, uid);
    let file = File::open(&path).map_err(|e| match e.kind() {
        ErrorKind::NotFound => StorageError::NoSuchMessage(uid),
        _ => StorageError::io(&path, e),
    })?;
    let (hdr, md) = read_headers(&file, &path, uid)?;
    if md.ext_refs.is_some() || md.plain_size.is_some() {
        let full = dbox_file::to_crlf(&read_body(dir, uid, attachment_dir)?);
        return Ok(select_part(&full, part));
    }
    let (start, end) = match part {
        WirePart::Range { start, len } => (start, start.saturating_add(len)),
        WirePart::Header => (0, u64::MAX),
    };
    let mut out = Vec::new();
    let mut wire_pos = 0u64;
    let mut prev_cr = false;
    let mut off = 0u64;
    let mut buf = vec![0u8; CHUNK];
    while off < hdr.body_size && wire_pos < end {
        let n = (hdr.body_size - off).min(CHUNK as u64) as usize;
        file.read_exact_at(&mut buf[..n], hdr.body_offset + off)
            .map_err(|e| StorageError::io(&path, e))?;
        off += n as u64;
        for &b in &buf[..n] {
            let crlf = b == b'\n' && !prev_cr;
            prev_cr = b == b'\r';
            for w in if crlf {
                &b"\r\n"[..]
            } else {
                std::slice::from_ref(&b)
            } {
                if wire_pos >= start && wire_pos < end {
                    out.push(*w);
                }
                wire_pos += 1;
            }
            if part == WirePart::Header && (out == b"\r\n" || out.ends_with(b"\r\n\r\n")) {
                return Ok(out);
            }
        }
        if out.len() > MAX_READ_BYTES {
            return Err(StorageError::MessageTooLarge);
        }
    }
    Ok(out)
}

fn select_part(full: &[u8], part: WirePart) -> Vec<u8> {
    match part {
        WirePart::Range { start, len } => {
            let s = usize::try_from(start).unwrap_or(usize::MAX).min(full.len());
            let e = s
                .saturating_add(usize::try_from(len).unwrap_or(usize::MAX))
                .min(full.len());
            full[s..e].to_vec()
        }
        WirePart::Header => {
            if full.starts_with(b"\r\n") {
                return b"\r\n".to_vec();
            }
            match memchr::memmem::find(full, b"\r\n\r\n") {
                Some(i) => full[..i + 4].to_vec(),
                None => full.to_vec(),
            }
        }
    }
}

/// Parse the file header and metadata block of an open mail file.
fn read_headers(
    file: &File,
    path: &Path,
    uid: u32,
) -> Result<(dbox_file::DboxHeader, dbox_file::DboxMetadata)> {
    let len = file
        .metadata()
        .map_err(|e| StorageError::io(path, e))?
        .len();
    let mut prefix = vec![0u8; (MAX_HEADER_LINE + 4096).min(len as usize)];
    file.read_exact_at(&mut prefix, 0)
        .map_err(|e| StorageError::io(path, e))?;
    let corrupt = |reason: String| StorageError::CorruptMessage { uid, reason };
    let hdr = dbox_file::parse_header(&prefix).map_err(|e| corrupt(e.to_string()))?;
    let meta_start = hdr.body_offset.saturating_add(hdr.body_size);
    if meta_start > len {
        return Err(corrupt("body size runs past the end of the file".into()));
    }
    let mut tail = vec![0u8; ((len - meta_start) as usize).min(MAX_METADATA)];
    file.read_exact_at(&mut tail, meta_start)
        .map_err(|e| StorageError::io(path, e))?;
    let md = dbox_file::parse_metadata(&tail).map_err(|e| corrupt(e.to_string()))?;
    Ok((hdr, md))
}
