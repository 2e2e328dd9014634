//! One mbox file as a mailbox, Dovecot-compatible. Blocking code: every
//! method runs on the blocking pool.
//!
//! Locking follows Dovecot's defaults: reads take an fcntl read lock,
//! writes an fcntl write lock and then the `<mbox>.lock` dotlock (skipped
//! with a warning when the directory is not writable, like `dotlock_try`).
//!
//! Changes other than appends rewrite the file: the new contents go to a
//! temp file beside it (fsync, rename, directory fsync), or, where the
//! directory is not writable (a `/var/mail` spool), are written in place
//! and fsynced. Appends go to the end and then bump `X-IMAPbase` in place.

use super::format::{self, ImapBase, MessageStatus, RawMessage};
use super::from_line;
use super::sys::fcntl_lock;
use crate::storage::dotlock::Dotlock;
use crate::storage::error::{Result, StorageError};
use crate::storage::guid;
use crate::storage::index::disk;
use crate::storage::index::state::MAX_KEYWORDS;
use crate::storage::indexed::folder::{
    FlagChange, FolderFormat, FolderScan, FoundMessage, NewMessage, settled,
};
use crate::storage::indexed::uidvalidity;
use crate::storage::indexed::unix_now;
use crate::storage::sdbox::dbox_file;
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::ops::Range;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

/// tern's copy of the folder's UIDVALIDITY, last UID and mailbox GUID, so
/// they survive the mbox becoming empty (nothing left to carry
/// `X-IMAPbase`): `<uidvalidity> <last-uid> <guid-hex>`.
pub const BASE_FILE: &str = "tern.mbox-base";
/// `mbox_lock_timeout` (Dovecot: 5 minutes; a session is waiting here).
const LOCK_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest mbox file read whole.
pub const MAX_MBOX_BYTES: u64 = 4 << 30;

/// (file fingerprint, message span by UID).
type SpanCache = (Vec<u64>, HashMap<u32, Range<usize>>);

pub struct MboxFolder {
    path: PathBuf,
    index_dir: PathBuf,
    /// Where `dovecot-uidvalidity` lives.
    uidv_dir: PathBuf,
    /// Message spans by UID, valid while the file's fingerprint matches.
    spans: Mutex<Option<SpanCache>>,
    /// Readers of this process against its writers (see `read`).
    io_lock: RwLock<()>,
    is_inbox: bool,
}

/// A locked, open mbox file; locks go away on drop.
struct Locked {
    file: File,
    _dotlock: Option<Dotlock>,
}

/// The folder as read and numbered.
struct Synced {
    base: ImapBase,
    guid: [u8; 16],
    /// (message, uid), UIDs ascending.
    msgs: Vec<(RawMessage, u32)>,
    /// The file must be rewritten for the numbering to stick.
    dirty: bool,
    problems: Vec<String>,
}

impl Synced {
    /// Message `uid` as the engine sees it: sizes from its client view
    /// (`view`), `dates` = (INTERNALDATE, save date), and the GUID mbox
    /// derives from UIDVALIDITY, UID and the mailbox GUID (it stores none).
    fn found(
        &self,
        uid: u32,
        flags: u8,
        keywords: Vec<String>,
        dates: (i64, i64),
        view: &[u8],
    ) -> FoundMessage {
        FoundMessage {
            uid,
            flags,
            keywords,
            internal_date: dates.0,
            save_date: dates.1,
            physical_size: view.len() as u64,
            virtual_size: dbox_file::virtual_size(view),
            guid: format!(
                "{:08x}{:08x}{}",
                self.base.uidvalidity,
                uid,
                guid::to_hex(&self.guid)
            ),
            pop3_uidl: None,
            pop3_order: None,
        }
    }
}

fn corrupt(path: &Path, e: impl std::fmt::Display) -> StorageError {
    StorageError::Internal(format!("{}: {e}", path.display()))
}

fn fingerprint_of(m: &fs::Metadata) -> Vec<u64> {
    vec![
        m.dev(),
        m.ino(),
        m.len(),
        m.mtime() as u64,
        m.mtime_nsec() as u64,
    ]
}

fn mtime_ns(m: &fs::Metadata) -> u64 {
    (m.mtime() as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(m.mtime_nsec() as u64)
}

impl MboxFolder {
    pub fn new(path: PathBuf, index_dir: PathBuf, uidv_dir: PathBuf) -> Self {
        MboxFolder {
            path,
            index_dir,
            uidv_dir,
            spans: Mutex::new(None),
            io_lock: RwLock::new(()),
            is_inbox: false,
        }
    }

    /// This is INBOX: a missing file is an empty mailbox (a spool file
    /// appears with the first delivery), created on the first save.
    pub fn inbox(mut self) -> Self {
        self.is_inbox = true;
        self
    }

    /// INBOX's file does not exist (and we may not be able to create it).
    fn missing_inbox(&self) -> bool {
        self.is_inbox && !self.path.exists()
    }

    /// An empty INBOX without a file: numbering from tern's base file.
    fn empty_scan(&self) -> Result<FolderScan> {
        let (uidv, last, g) = match self.read_base_file() {
            Some(b) => b,
            None => {
                let uidv = uidvalidity::allocate(&self.uidv_dir, unix_now() as u32)?;
                let s = Synced {
                    base: ImapBase {
                        uidvalidity: uidv,
                        last_uid: 0,
                        keywords: Vec::new(),
                    },
                    guid: guid::new_guid(),
                    msgs: Vec::new(),
                    dirty: false,
                    problems: Vec::new(),
                };
                self.write_base_file(&s)?;
                (uidv, 0, s.guid)
            }
        };
        Ok(FolderScan {
            uidvalidity: uidv,
            uidnext: last.saturating_add(1),
            mailbox_guid: Some(g),
            messages: Vec::new(),
            problems: Vec::new(),
        })
    }

    fn lock(&self, write: bool) -> Result<Locked> {
        let file = OpenOptions::new()
            .read(true)
            .write(write)
            // Dovecot creates a missing INBOX when it saves.
            .create(write && self.is_inbox)
            .mode(0o600)
            .open(&self.path)
            .map_err(|e| match e.kind() {
                ErrorKind::NotFound => StorageError::MailboxGone,
                _ => StorageError::io(&self.path, e),
            })?;
        fcntl_lock(&file, write, LOCK_TIMEOUT).map_err(|e| StorageError::io(&self.path, e))?;
        let dotlock = if write {
            let d = Dotlock::acquire(&self.path, true)?;
            if d.is_none() {
                tracing::warn!(mbox = %self.path.display(),
                    "cannot create the dotlock (directory not writable); relying on fcntl only");
            }
            d
        } else {
            None
        };
        Ok(Locked {
            file,
            _dotlock: dotlock,
        })
    }

    fn read_all(&self, l: &Locked) -> Result<Vec<u8>> {
        let len = l
            .file
            .metadata()
            .map_err(|e| StorageError::io(&self.path, e))?
            .len();
        if len > MAX_MBOX_BYTES {
            return Err(StorageError::MessageTooLarge);
        }
        let mut data = Vec::with_capacity(len as usize);
        (&l.file)
            .read_to_end(&mut data)
            .map_err(|e| StorageError::io(&self.path, e))?;
        Ok(data)
    }

    fn read_base_file(&self) -> Option<(u32, u32, [u8; 16])> {
        let text = fs::read_to_string(self.index_dir.join(BASE_FILE)).ok()?;
        let mut it = text.split_ascii_whitespace();
        let uidv = it.next()?.parse().ok().filter(|&u| u != 0)?;
        let last = it.next()?.parse().ok()?;
        let g = guid::from_hex(it.next()?)?;
        Some((uidv, last, g))
    }

    fn write_base_file(&self, s: &Synced) -> Result<()> {
        let text = format!(
            "{} {} {}\n",
            s.base.uidvalidity,
            s.base.last_uid,
            guid::to_hex(&s.guid)
        );
        fs::create_dir_all(&self.index_dir).map_err(|e| StorageError::io(&self.index_dir, e))?;
        disk::replace_file(&self.index_dir, BASE_FILE, text.as_bytes())
    }

    /// Read and number the messages as Dovecot's sync does.
    fn sync(&self, data: &[u8]) -> Result<Synced> {
        let mut raw = format::parse(data).map_err(|e| corrupt(&self.path, e))?;
        let mut problems = Vec::new();
        let mut dirty = false;
        let saved = self.read_base_file();
        let mut file_base = raw.first().and_then(|m| m.imapbase.clone());
        if raw.first().is_some_and(|m| m.pseudo) {
            raw.remove(0);
            dirty = true; // tern keeps X-IMAPbase in the first real message
        }
        let (mut base, trust_uids) = match (file_base.take(), saved) {
            (Some(b), _) => (b, true),
            (None, Some((uidv, last, _))) => (
                ImapBase {
                    uidvalidity: uidv,
                    last_uid: last,
                    keywords: Vec::new(),
                },
                true,
            ),
            (None, None) => {
                let uidv = uidvalidity::allocate(&self.uidv_dir, unix_now() as u32)?;
                (
                    ImapBase {
                        uidvalidity: uidv,
                        last_uid: 0,
                        keywords: Vec::new(),
                    },
                    false,
                )
            }
        };
        let guid = match saved {
            Some((uidv, _, g)) if uidv == base.uidvalidity => g,
            _ => guid::new_guid(),
        };
        if !raw.is_empty() && raw[0].imapbase.is_none() {
            dirty = true;
        }
        let limit = base.last_uid;
        let mut prev = 0u32;
        let mut msgs = Vec::with_capacity(raw.len());
        for m in raw {
            let uid = match m.uid {
                Some(u) if trust_uids && u > prev && u <= limit => u,
                other => {
                    if other.is_some() {
                        problems.push(format!(
                            "X-UID {other:?} out of order or forged; renumbered"
                        ));
                    }
                    dirty = true;
                    base.last_uid = base.last_uid.max(prev).saturating_add(1);
                    base.last_uid
                }
            };
            prev = uid;
            for k in &m.keywords {
                if !base.keywords.iter().any(|x| x.eq_ignore_ascii_case(k)) {
                    base.keywords.push(k.clone());
                    dirty = true;
                }
            }
            msgs.push((m, uid));
        }
        base.last_uid = base.last_uid.max(prev);
        Ok(Synced {
            base,
            guid,
            msgs,
            dirty,
            problems,
        })
    }

    /// The file's new contents after changes (`status` by UID).
    fn render(data: &[u8], s: &Synced, status: &HashMap<u32, MessageStatus>) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + s.msgs.len() * 128);
        for (i, (m, uid)) in s.msgs.iter().enumerate() {
            let st = status.get(uid).cloned().unwrap_or(MessageStatus {
                uid: *uid,
                flags: m.flags,
                old: m.old,
                keywords: m.keywords.clone(),
            });
            let from_end = m.header.start.saturating_sub(1).max(m.span.start);
            let from = String::from_utf8_lossy(&data[m.span.start..from_end]).into_owned();
            format::write_message(
                &mut out,
                &from,
                &format::visible_header(&data[m.header.clone()]),
                &data[m.body.clone()],
                &st,
                (i == 0).then_some(&s.base),
            );
        }
        out
    }

    /// Replace the file's contents durably (caller holds the write locks).
    fn replace(&self, l: &Locked, bytes: &[u8]) -> Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.tern-{}.tmp", std::process::id()));
        let meta = l
            .file
            .metadata()
            .map_err(|e| StorageError::io(&self.path, e))?;
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
        {
            Ok(mut f) => {
                let done = (|| {
                    f.write_all(bytes)?;
                    let _ = std::os::unix::fs::fchown(&f, Some(meta.uid()), Some(meta.gid()));
                    f.set_permissions(fs::Permissions::from_mode(
                        meta.permissions().mode() & 0o7777,
                    ))?;
                    f.sync_all()?;
                    fs::rename(&tmp, &self.path)
                })();
                if let Err(e) = done {
                    let _ = fs::remove_file(&tmp);
                    return Err(StorageError::io(&self.path, e));
                }
                disk::sync_dir(dir)
            }
            Err(e) if e.kind() == ErrorKind::PermissionDenied => {
                // A spool directory we may not write: rewrite in place.
                let done = (|| {
                    l.file.write_all_at(bytes, 0)?;
                    l.file.set_len(bytes.len() as u64)?;
                    l.file.sync_all()
                })();
                done.map_err(|e| StorageError::io(&self.path, e))
            }
            Err(e) => Err(StorageError::io(&tmp, e)),
        }
    }

    /// Describe the synced messages and remember their spans.
    fn describe(&self, data: &[u8], s: &Synced) -> Result<Vec<FoundMessage>> {
        let mut out = Vec::with_capacity(s.msgs.len());
        let mut spans = HashMap::with_capacity(s.msgs.len());
        for (m, uid) in &s.msgs {
            let view = format::client_view(data, m);
            spans.insert(*uid, m.span.clone());
            let dates = (m.from.time, m.from.time);
            out.push(s.found(*uid, m.flags, m.keywords.clone(), dates, &view));
        }
        let fp = fs::metadata(&self.path)
            .map(|m| fingerprint_of(&m))
            .unwrap_or_default();
        *self.spans.lock().unwrap_or_else(|p| p.into_inner()) = Some((fp, spans));
        Ok(out)
    }

    /// Lock, read, number, rewrite if the numbering must be stored.
    fn synced_locked(&self, l: &Locked) -> Result<(Vec<u8>, Synced)> {
        let mut data = self.read_all(l)?;
        if let Some(cut) = torn_tail(&data)? {
            // An append that died half-way (it was never acknowledged).
            tracing::warn!(mbox = %self.path.display(), offset = cut,
                "moving a partially written message at the end of the mbox aside");
            // Kept aside rather than deleted, in case it was not ours.
            fs::create_dir_all(&self.index_dir)
                .map_err(|e| StorageError::io(&self.index_dir, e))?;
            disk::replace_file(
                &self.index_dir,
                &format!("torn.{}.{cut}", unix_now()),
                &data[cut..],
            )?;
            l.file
                .set_len(cut as u64)
                .and_then(|_| l.file.sync_all())
                .map_err(|e| StorageError::io(&self.path, e))?;
            data.truncate(cut);
        }
        let s = self.sync(&data)?;
        if !s.dirty {
            return Ok((data, s));
        }
        let bytes = Self::render(&data, &s, &HashMap::new());
        self.replace(l, &bytes)?;
        self.write_base_file(&s)?;
        let again = self.sync(&bytes)?;
        Ok((
            bytes,
            Synced {
                problems: s.problems,
                ..again
            },
        ))
    }

    fn rewrite_with(
        &self,
        l: &Locked,
        data: &[u8],
        s: &Synced,
        status: &HashMap<u32, MessageStatus>,
    ) -> Result<()> {
        let bytes = Self::render(data, s, status);
        self.replace(l, &bytes)?;
        self.write_base_file(s)?;
        let again = self.sync(&bytes)?;
        self.describe(&bytes, &again).map(|_| ())
    }
}

impl FolderFormat for MboxFolder {
    fn index_dir(&self) -> PathBuf {
        self.index_dir.clone()
    }

    fn fingerprint(&self) -> Result<Vec<u64>> {
        match fs::metadata(&self.path) {
            Ok(m) if !settled(&[mtime_ns(&m)]) => Ok(Vec::new()),
            Ok(m) => Ok(fingerprint_of(&m)),
            Err(e) if e.kind() == ErrorKind::NotFound && self.is_inbox => Ok(vec![0]),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(StorageError::MailboxGone),
            Err(e) => Err(StorageError::io(&self.path, e)),
        }
    }

    fn scan(&self) -> Result<FolderScan> {
        let _guard = self.io_lock.write().unwrap_or_else(|p| p.into_inner());
        if self.missing_inbox() {
            return self.empty_scan();
        }
        let l = self.lock(true)?;
        let (data, s) = self.synced_locked(&l)?;
        if self
            .read_base_file()
            .is_none_or(|(u, last, _)| u != s.base.uidvalidity || last != s.base.last_uid)
        {
            self.write_base_file(&s)?;
        }
        let messages = self.describe(&data, &s)?;
        Ok(FolderScan {
            uidvalidity: s.base.uidvalidity,
            uidnext: s.base.last_uid.saturating_add(1),
            mailbox_guid: Some(s.guid),
            messages,
            problems: s.problems,
        })
    }

    fn append(&self, messages: Vec<NewMessage>) -> Result<Vec<FoundMessage>> {
        let _guard = self.io_lock.write().unwrap_or_else(|p| p.into_inner());
        let l = self.lock(true)?;
        let (data, mut s) = self.synced_locked(&l)?;
        let now = unix_now();
        let first_uid = s.base.last_uid.saturating_add(1);
        let mut kw_added = false;
        for m in &messages {
            for k in &m.keywords {
                if !s.base.keywords.iter().any(|x| x.eq_ignore_ascii_case(k)) {
                    s.base.keywords.push(k.clone());
                    kw_added = true;
                }
            }
        }
        let was_empty = s.msgs.is_empty();
        let mut tail = Vec::new();
        if !data.is_empty() && !data.ends_with(b"\n\n") {
            tail.extend_from_slice(if data.ends_with(b"\n") {
                b"\n"
            } else {
                b"\n\n"
            });
        }
        let mut found = Vec::with_capacity(messages.len());
        let new_base = ImapBase {
            last_uid: first_uid
                .saturating_add(messages.len() as u32)
                .saturating_sub(1),
            ..s.base.clone()
        };
        for (i, m) in messages.iter().enumerate() {
            let uid = first_uid.saturating_add(i as u32);
            let (hdr, body) = format::split_incoming(&m.body);
            let st = MessageStatus {
                uid,
                flags: m.flags,
                old: false,
                keywords: m.keywords.clone(),
            };
            let from = from_line::format(m.envelope_from.as_deref().unwrap_or(""), m.internal_date);
            format::write_message(
                &mut tail,
                &from,
                &hdr,
                &body,
                &st,
                (was_empty && i == 0).then_some(&new_base),
            );
            let mut view = hdr.clone();
            view.push(b'\n');
            view.extend_from_slice(&body);
            // From_ lines hold whole seconds in local time.
            let dates = (m.internal_date, now);
            found.push(s.found(uid, m.flags, m.keywords.clone(), dates, &view));
        }
        // X-IMAPbase's last UID is zero-padded to 10 digits: bump it in place.
        let in_place = (!was_empty && !kw_added)
            .then(|| base_digits(&data, &s.msgs[0].0))
            .flatten();
        s.base = new_base;
        if was_empty || in_place.is_some() {
            let write = (|| {
                l.file.write_all_at(&tail, data.len() as u64)?;
                l.file.sync_all()?;
                if let Some(at) = in_place {
                    l.file
                        .write_all_at(format!("{:010}", s.base.last_uid).as_bytes(), at as u64)?;
                    l.file.sync_all()?;
                }
                Ok(())
            })();
            if let Err(e) = write {
                // Cut off a partial append so no half message stays visible.
                let _ = l.file.set_len(data.len() as u64);
                return Err(StorageError::io(&self.path, e));
            }
            self.write_base_file(&s)?;
        } else {
            let mut bytes = Self::render(&data, &s, &HashMap::new());
            if !bytes.is_empty() && !tail.is_empty() && tail.starts_with(b"\n") {
                tail.remove(0);
            }
            bytes.extend_from_slice(&tail);
            self.replace(&l, &bytes)?;
            self.write_base_file(&s)?;
        }
        *self.spans.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(found)
    }

    fn set_flags(&self, changes: &[FlagChange]) -> Result<()> {
        let _guard = self.io_lock.write().unwrap_or_else(|p| p.into_inner());
        let l = self.lock(true)?;
        let (data, mut s) = self.synced_locked(&l)?;
        let mut status = HashMap::new();
        for c in changes {
            let Some((m, _)) = s.msgs.iter().find(|(_, u)| *u == c.uid) else {
                continue;
            };
            for k in &c.keywords {
                if !s.base.keywords.iter().any(|x| x.eq_ignore_ascii_case(k)) {
                    s.base.keywords.push(k.clone());
                }
            }
            status.insert(
                c.uid,
                MessageStatus {
                    uid: c.uid,
                    flags: c.flags,
                    old: m.old,
                    keywords: c.keywords.clone(),
                },
            );
        }
        self.rewrite_with(&l, &data, &s, &status)
    }

    fn expunge(&self, uids: &[u32]) -> Result<()> {
        let _guard = self.io_lock.write().unwrap_or_else(|p| p.into_inner());
        let l = self.lock(true)?;
        let (data, mut s) = self.synced_locked(&l)?;
        s.msgs.retain(|(_, u)| !uids.contains(u));
        self.rewrite_with(&l, &data, &s, &HashMap::new())
    }

    fn read(&self, uid: u32) -> Result<Vec<u8>> {
        for attempt in 0..2 {
            if attempt > 0 {
                self.scan()?;
            }
            // Shared with this process's other readers, exclusive of its
            // writers (fcntl locks do not exclude threads of one process).
            let _guard = self.io_lock.read().unwrap_or_else(|p| p.into_inner());
            let l = self.lock(false)?;
            let fp = fingerprint_of(
                &l.file
                    .metadata()
                    .map_err(|e| StorageError::io(&self.path, e))?,
            );
            let span = {
                let cache = self.spans.lock().unwrap_or_else(|p| p.into_inner());
                match cache.as_ref() {
                    Some((f, spans)) if *f == fp => Some(spans.get(&uid).cloned()),
                    _ => None,
                }
            };
            let Some(span) = span else {
                continue; // stale offsets: rescan, then try again
            };
            let Some(span) = span else {
                return Err(StorageError::NoSuchMessage(uid));
            };
            let mut buf = vec![0u8; span.len()];
            l.file
                .read_exact_at(&mut buf, span.start as u64)
                .map_err(|e| StorageError::io(&self.path, e))?;
            let msgs = format::parse(&buf).map_err(|e| corrupt(&self.path, e))?;
            match msgs.first() {
                Some(m) if m.uid == Some(uid) => return Ok(format::client_view(&buf, m)),
                _ => continue,
            }
        }
        Err(StorageError::Internal(format!(
            "{}: message UID {uid} keeps moving",
            self.path.display()
        )))
    }

    fn max_keywords(&self) -> usize {
        MAX_KEYWORDS
    }
}

/// Where a torn final message starts: its `Content-Length` promises more
/// body than the file holds. Only
/// messages whose X-UID lies above `X-IMAPbase`'s last UID count: an append
/// bumps that field after the message is durable, so these were never
/// acknowledged. Mail of other programs (no X-UID) is never cut.
fn torn_tail(data: &[u8]) -> Result<Option<usize>> {
    let msgs = match format::parse(data) {
        Ok(m) => m,
        Err(_) => return Ok(None),
    };
    let (Some(first), Some(last)) = (msgs.first(), msgs.last()) else {
        return Ok(None);
    };
    let Some(limit) = first.imapbase.as_ref().map(|b| b.last_uid) else {
        return Ok(None);
    };
    if msgs.len() < 2 || last.uid.is_none_or(|u| u <= limit) {
        return Ok(None);
    }
    // tern and Dovecot always write Content-Length; a header cut short
    // before it cannot be told from foreign mail and is left alone.
    let short = last.content_length.is_some_and(|cl| last.body.len() < cl);
    Ok(short.then_some(last.span.start))
}

/// Byte offset of the 10-digit last-UID field of `X-IMAPbase`, if present
/// in that form in the first message's header.
fn base_digits(data: &[u8], first: &RawMessage) -> Option<usize> {
    let hdr = &data[first.header.clone()];
    let at = memchr::memmem::find(hdr, b"X-IMAPbase: ")?;
    let line_start = at + "X-IMAPbase: ".len();
    let rest = &hdr[line_start..];
    let sp = memchr::memchr(b' ', rest)?;
    let digits = rest.get(sp + 1..sp + 11)?;
    let after = rest.get(sp + 11).copied();
    (digits.iter().all(u8::is_ascii_digit) && matches!(after, None | Some(b' ') | Some(b'\n')))
        .then_some(first.header.start + line_start + sp + 1)
}
