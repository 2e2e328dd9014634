//! One Maildir folder (`cur/ new/ tmp/` + `dovecot-uidlist` +
//! `dovecot-keywords`), Dovecot-compatible. Blocking code: every method
//! runs on the blocking pool.
//!
//! Saves: write `tmp/<stem>`, fsync, rename into `new/` (no flags) or
//! `cur/<stem>:2,<flags>`, fsync the directory, then add the uidlist record
//! under `dovecot-uidlist.lock`. Flags change by rename only.

use super::filename::{self, MaildirName};
use super::keywords;
use super::uidlist::{self, UidRecord, Uidlist};
use crate::storage::dotlock::Dotlock;
use crate::storage::error::{Result, StorageError};
use crate::storage::guid;
use crate::storage::index::disk;
use crate::storage::indexed::folder::{
    FlagChange, FolderFormat, FolderScan, FoundMessage, NewMessage, settled,
};
use crate::storage::indexed::uidvalidity;
use crate::storage::indexed::unix_now;
use crate::storage::sdbox::dbox_file;
use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Files in `tmp/` older than this are left-overs of crashed saves.
const TMP_MAX_AGE: Duration = Duration::from_secs(36 * 3600);

static SAVE_COUNTER: AtomicU64 = AtomicU64::new(0);

pub struct MaildirFolder {
    dir: PathBuf,
    /// Where `dovecot-uidvalidity` lives (the mail root).
    control: PathBuf,
    /// uid → path relative to `dir` (`cur/<name>`), as of the last look.
    files: Mutex<HashMap<u32, String>>,
    /// The uidlist as last read or written, with the file's identity then.
    uidlist: Mutex<Option<(Vec<u64>, Uidlist)>>,
    /// uid → what its file said at the last scan.
    facts: Mutex<HashMap<u32, FileFacts>>,
}

/// What a message file's metadata (not its name) says; it does not change
/// while the file lives, whatever renames flag changes make.
#[derive(Debug, Clone)]
struct FileFacts {
    stem: String,
    internal_date: i64,
    save_date: i64,
    physical_size: u64,
    virtual_size: u64,
}

fn io_err(p: &Path) -> impl FnOnce(std::io::Error) -> StorageError + '_ {
    move |e| StorageError::io(p, e)
}

fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

fn mtime_ns(p: &Path) -> u64 {
    fs::metadata(p)
        .map(|m| {
            (m.mtime() as u64)
                .wrapping_mul(1_000_000_000)
                .wrapping_add(m.mtime_nsec() as u64)
        })
        .unwrap_or(0)
}

fn list_dir(dir: &Path) -> Result<Vec<String>> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == ErrorKind::NotFound => return Err(StorageError::MailboxGone),
        Err(e) => return Err(StorageError::io(dir, e)),
    };
    let mut out = Vec::new();
    for e in rd {
        let e = e.map_err(io_err(dir))?;
        if let Some(n) = e.file_name().to_str()
            && filename::is_message_file(n)
        {
            out.push(n.to_string());
        }
    }
    Ok(out)
}

impl MaildirFolder {
    pub fn new(dir: PathBuf, control: PathBuf) -> Self {
        MaildirFolder {
            dir,
            control,
            files: Mutex::new(HashMap::new()),
            uidlist: Mutex::new(None),
            facts: Mutex::new(HashMap::new()),
        }
    }

    fn lock_uidlist(&self) -> Result<Option<Dotlock>> {
        Dotlock::acquire(&self.dir.join(uidlist::FILE_NAME), false)
    }

    fn files(&self) -> std::sync::MutexGuard<'_, HashMap<u32, String>> {
        // A poisoned map is only a cache of names: keep using it.
        self.files.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn facts(&self) -> std::sync::MutexGuard<'_, HashMap<u32, FileFacts>> {
        // Only a cache, like `files`.
        self.facts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// (inode, size, mtime) of the uidlist: unchanged means our cached
    /// parse is still what is on disk.
    fn uidlist_ident(&self) -> Option<Vec<u64>> {
        let m = fs::metadata(self.dir.join(uidlist::FILE_NAME)).ok()?;
        Some(vec![
            m.ino(),
            m.len(),
            m.mtime() as u64,
            m.mtime_nsec() as u64,
        ])
    }

    fn remember_uidlist(&self, list: &Uidlist) {
        let ident = self.uidlist_ident();
        *self.uidlist.lock().unwrap_or_else(|p| p.into_inner()) = ident.map(|i| (i, list.clone()));
    }

    /// Read the uidlist; `None` when missing, an error note when corrupt.
    /// Re-parsed only when the file changed since we last read or wrote it.
    fn read_uidlist(&self) -> Result<(Option<Uidlist>, Option<String>)> {
        if let Some(ident) = self.uidlist_ident() {
            let cache = self.uidlist.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((known, list)) = cache.as_ref()
                && *known == ident
            {
                return Ok((Some(list.clone()), None));
            }
        }
        let p = self.dir.join(uidlist::FILE_NAME);
        match fs::read(&p) {
            Ok(b) => match uidlist::parse(&b) {
                Ok(l) => {
                    self.remember_uidlist(&l);
                    Ok((Some(l), None))
                }
                Err(e) => Ok((None, Some(format!("dovecot-uidlist: {e}")))),
            },
            Err(e) if e.kind() == ErrorKind::NotFound => Ok((None, None)),
            Err(e) => Err(StorageError::io(&p, e)),
        }
    }

    fn write_uidlist(&self, list: &Uidlist) -> Result<()> {
        disk::replace_file(&self.dir, uidlist::FILE_NAME, &uidlist::format(list))?;
        disk::sync_dir(&self.dir)?;
        self.remember_uidlist(list);
        Ok(())
    }

    /// Add the records from `from` on at the end of the file, as Dovecot
    /// does for new mail (the header's `N` is then stale; readers take the
    /// highest UID + 1). Caller holds the uidlist dotlock.
    fn append_uidlist(&self, list: &Uidlist, from: usize) -> Result<()> {
        let mut text = String::new();
        for r in list.records.iter().skip(from) {
            uidlist::format_record(&mut text, r);
        }
        if text.is_empty() {
            return Ok(());
        }
        let p = self.dir.join(uidlist::FILE_NAME);
        let mut f = OpenOptions::new()
            .append(true)
            .open(&p)
            .map_err(io_err(&p))?;
        f.write_all(text.as_bytes())
            .and_then(|_| f.sync_data())
            .map_err(io_err(&p))?;
        self.remember_uidlist(list);
        Ok(())
    }

    fn fresh_uidlist(&self) -> Result<Uidlist> {
        let uidv = uidvalidity::allocate(&self.control, unix_now() as u32)?;
        Ok(Uidlist::new(uidv, Some(guid::to_hex(&guid::new_guid()))))
    }

    fn read_keywords(&self) -> Vec<Option<String>> {
        fs::read(self.dir.join(keywords::FILE_NAME))
            .map(|b| keywords::parse(&b))
            .unwrap_or_default()
    }

    /// Letters for `names`, defining new ones in `dovecot-keywords`.
    fn letters_for(&self, names: &[String]) -> Result<Vec<u8>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let find = |kw: &[Option<String>], n: &str| {
            kw.iter()
                .position(|k| k.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(n)))
        };
        let kw = self.read_keywords();
        if names.iter().all(|n| find(&kw, n).is_some()) {
            return Ok(names
                .iter()
                .filter_map(|n| find(&kw, n))
                .map(|i| i as u8)
                .collect());
        }
        let _lock = Dotlock::acquire(&self.dir.join(keywords::FILE_NAME), false)?;
        let mut kw = self.read_keywords();
        let mut out = Vec::new();
        for n in names {
            let i = match find(&kw, n) {
                Some(i) => i,
                None => {
                    let free = kw.iter().position(|k| k.is_none()).unwrap_or(kw.len());
                    if free >= keywords::MAX_LETTERS {
                        return Err(StorageError::TooManyKeywords);
                    }
                    if free == kw.len() {
                        kw.push(None);
                    }
                    kw[free] = Some(n.clone());
                    free
                }
            };
            out.push(i as u8);
        }
        disk::replace_file(&self.dir, keywords::FILE_NAME, &keywords::format(&kw))?;
        disk::sync_dir(&self.dir)?;
        Ok(out)
    }

    /// Move `new/` files to `cur/` (taking ownership), clean old `tmp/`
    /// files; returns every message file's stem → `cur/<name>`.
    fn collect_files(&self) -> Result<HashMap<String, String>> {
        let (new_dir, cur_dir) = (self.dir.join("new"), self.dir.join("cur"));
        let mut moved = false;
        for n in list_dir(&new_dir)? {
            let target = if n.contains(":2,") {
                n.clone()
            } else {
                format!("{}:2,", filename::stem_of(&n))
            };
            match fs::rename(new_dir.join(&n), cur_dir.join(&target)) {
                Ok(()) => moved = true,
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(StorageError::io(&new_dir.join(&n), e)),
            }
        }
        if moved {
            disk::sync_dir(&cur_dir)?;
            disk::sync_dir(&new_dir)?;
        }
        let tmp = self.dir.join("tmp");
        if let Ok(names) = list_dir(&tmp) {
            let now = SystemTime::now();
            for n in names {
                let p = tmp.join(&n);
                let old = fs::metadata(&p)
                    .ok()
                    .map(|m| UNIX_EPOCH + Duration::from_secs(m.ctime().max(0) as u64))
                    .and_then(|c| now.duration_since(c).ok())
                    .is_some_and(|age| age > TMP_MAX_AGE);
                if old {
                    let _ = fs::remove_file(&p);
                }
            }
        }
        let mut out = HashMap::new();
        for n in list_dir(&cur_dir)? {
            out.insert(filename::stem_of(&n).to_string(), format!("cur/{n}"));
        }
        Ok(out)
    }

    /// What the file itself says about `rec` (one stat, maybe a read).
    fn file_facts(&self, rec: &UidRecord, rel: &str, name: &MaildirName) -> Result<FileFacts> {
        let path = self.dir.join(rel);
        let meta = fs::metadata(&path).map_err(io_err(&path))?;
        let size = name
            .size
            .or_else(|| rec.ext('S').and_then(|v| v.parse().ok()))
            .unwrap_or(meta.len());
        let vsize = match name
            .vsize
            .or_else(|| rec.ext('W').and_then(|v| v.parse().ok()))
        {
            Some(v) => v,
            None => {
                let body = fs::read(&path).map_err(io_err(&path))?;
                dbox_file::virtual_size(&body)
            }
        };
        Ok(FileFacts {
            stem: name.stem.clone(),
            internal_date: meta.mtime(),
            save_date: meta.ctime(),
            physical_size: size,
            virtual_size: vsize,
        })
    }

    /// `rec` as found at `rel`. The file's facts are taken from `known`
    /// when it is the same file (same UID and stem: a flag change only
    /// renames it), so a rescan costs a directory listing, not a stat
    /// per message.
    fn describe(
        &self,
        rec: &UidRecord,
        rel: &str,
        kw: &[Option<String>],
        known: Option<&FileFacts>,
    ) -> Result<(FoundMessage, FileFacts)> {
        let name = filename::parse(rel.rsplit('/').next().unwrap_or(rel));
        let facts = match known.filter(|f| f.stem == name.stem) {
            Some(f) => f.clone(),
            None => self.file_facts(rec, rel, &name)?,
        };
        let found = FoundMessage {
            uid: rec.uid,
            flags: name.flags,
            keywords: name
                .keyword_letters
                .iter()
                .filter_map(|&l| kw.get(l as usize).cloned().flatten())
                .collect(),
            internal_date: facts.internal_date,
            save_date: facts.save_date,
            physical_size: facts.physical_size,
            virtual_size: facts.virtual_size,
            guid: rec
                .ext('G')
                .map(str::to_string)
                .unwrap_or_else(|| name.stem.clone()),
            pop3_uidl: rec.ext('P').map(str::to_string),
            pop3_order: rec.ext('O').and_then(|v| v.parse().ok()),
        };
        Ok((found, facts))
    }

    /// Current relative path of `uid` (following renames by others).
    fn locate(&self, uid: u32) -> Result<PathBuf> {
        let known = self.files().get(&uid).cloned();
        if let Some(rel) = &known {
            let p = self.dir.join(rel);
            if p.exists() {
                return Ok(p);
            }
        }
        let stem = match &known {
            Some(rel) => filename::stem_of(rel.rsplit('/').next().unwrap_or(rel)).to_string(),
            None => {
                let (list, _) = self.read_uidlist()?;
                let Some(r) = list.and_then(|l| l.records.into_iter().find(|r| r.uid == uid))
                else {
                    return Err(StorageError::NoSuchMessage(uid));
                };
                r.stem
            }
        };
        for sub in ["cur", "new"] {
            for n in list_dir(&self.dir.join(sub))? {
                if filename::stem_of(&n) == stem {
                    let rel = format!("{sub}/{n}");
                    self.files().insert(uid, rel.clone());
                    return Ok(self.dir.join(rel));
                }
            }
        }
        Err(StorageError::NoSuchMessage(uid))
    }

    /// Put prepared `tmp/<stem>` files in place and give them UIDs.
    fn place(&self, prepared: Vec<(PathBuf, String, NewMessage)>) -> Result<Vec<FoundMessage>> {
        let mut placed = Vec::with_capacity(prepared.len());
        let mut fail = None;
        for (tmp, stem, m) in prepared {
            if fail.is_some() {
                let _ = fs::remove_file(&tmp);
                continue;
            }
            let letters = match self.letters_for(&m.keywords) {
                Ok(l) => l,
                Err(e) => {
                    let _ = fs::remove_file(&tmp);
                    fail = Some(e);
                    continue;
                }
            };
            let rel = if m.flags == 0 && letters.is_empty() {
                format!("new/{stem}")
            } else {
                format!("cur/{}", filename::with_info(&stem, m.flags, &letters, ""))
            };
            let dest = self.dir.join(&rel);
            if let Err(e) = fs::rename(&tmp, &dest) {
                let _ = fs::remove_file(&tmp);
                fail = Some(StorageError::io(&dest, e));
                continue;
            }
            placed.push((rel, stem, m));
        }
        for sub in ["new", "cur"] {
            if placed.iter().any(|(rel, _, _)| rel.starts_with(sub)) {
                disk::sync_dir(&self.dir.join(sub))?;
            }
        }
        if let Some(e) = fail
            && placed.is_empty()
        {
            return Err(e);
        }
        // The files are durable; now the UIDs.
        let _lock = self.lock_uidlist()?;
        let (list, _) = self.read_uidlist()?;
        let mut list = match list {
            Some(l) => l,
            None => {
                drop(_lock);
                self.scan()?;
                let _again = self.lock_uidlist()?;
                return self.finish_place(placed, _again);
            }
        };
        let known = list.records.len();
        let out = self.assign(&mut list, &placed);
        self.append_uidlist(&list, known)?;
        self.remember(&out, &placed);
        Ok(out)
    }

    fn finish_place(
        &self,
        placed: Vec<(String, String, NewMessage)>,
        _lock: Option<Dotlock>,
    ) -> Result<Vec<FoundMessage>> {
        let (list, note) = self.read_uidlist()?;
        let mut list = list.ok_or_else(|| {
            StorageError::Internal(note.unwrap_or_else(|| "dovecot-uidlist missing".into()))
        })?;
        let out = self.assign(&mut list, &placed);
        self.write_uidlist(&list)?;
        self.remember(&out, &placed);
        Ok(out)
    }

    fn remember(&self, found: &[FoundMessage], placed: &[(String, String, NewMessage)]) {
        let mut files = self.files();
        for (f, (rel, _, _)) in found.iter().zip(placed) {
            files.insert(f.uid, rel.clone());
        }
    }

    fn assign(
        &self,
        list: &mut Uidlist,
        placed: &[(String, String, NewMessage)],
    ) -> Vec<FoundMessage> {
        let now = unix_now();
        let mut out = Vec::with_capacity(placed.len());
        for (_, stem, m) in placed {
            // Someone else's sync may have numbered the file already.
            let uid = match list.records.iter().find(|r| &r.stem == stem) {
                Some(r) => r.uid,
                None => {
                    let uid = list.next_uid;
                    list.next_uid = uid.saturating_add(1);
                    let mut ext = Vec::new();
                    if let Some(g) = m.guid.as_ref().filter(|g| !g.is_empty() && *g != stem) {
                        ext.push(('G', g.clone()));
                    }
                    if let Some(p) = &m.pop3_uidl {
                        ext.push(('P', p.clone()));
                    }
                    if let Some(o) = m.pop3_order {
                        ext.push(('O', o.to_string()));
                    }
                    list.records.push(UidRecord {
                        uid,
                        ext,
                        stem: stem.clone(),
                    });
                    uid
                }
            };
            let parsed: MaildirName = filename::parse(stem);
            out.push(FoundMessage {
                uid,
                flags: m.flags,
                keywords: m.keywords.clone(),
                internal_date: m.internal_date,
                save_date: now,
                physical_size: parsed.size.unwrap_or(m.body.len() as u64),
                virtual_size: parsed
                    .vsize
                    .unwrap_or_else(|| dbox_file::virtual_size(&m.body)),
                guid: m
                    .guid
                    .clone()
                    .filter(|g| !g.is_empty())
                    .unwrap_or_else(|| stem.clone()),
                pop3_uidl: m.pop3_uidl.clone(),
                pop3_order: m.pop3_order,
            });
        }
        out
    }

    fn new_stem(&self, size: u64, vsize: u64) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        filename::new_stem(
            now.as_secs() as i64,
            now.subsec_micros(),
            SAVE_COUNTER.fetch_add(1, Ordering::Relaxed),
            &hostname(),
            size,
            vsize,
        )
    }
}

impl FolderFormat for MaildirFolder {
    fn index_dir(&self) -> PathBuf {
        self.dir.clone()
    }

    fn fingerprint(&self) -> Result<Vec<u64>> {
        let ul = self.dir.join(uidlist::FILE_NAME);
        let times = [
            mtime_ns(&self.dir.join("new")),
            mtime_ns(&self.dir.join("cur")),
            mtime_ns(&ul),
            mtime_ns(&self.dir.join(keywords::FILE_NAME)),
        ];
        if !settled(&times) {
            return Ok(Vec::new());
        }
        let mut fp = times.to_vec();
        fp.push(fs::metadata(&ul).map(|m| m.len()).unwrap_or(0));
        Ok(fp)
    }

    fn scan(&self) -> Result<FolderScan> {
        if !self.dir.join("cur").is_dir() {
            return Err(StorageError::MailboxGone);
        }
        let _lock = self.lock_uidlist()?;
        let mut problems = Vec::new();
        let on_disk = self.collect_files()?;
        let (list, note) = self.read_uidlist()?;
        let had_list = list.is_some();
        if let Some(n) = note {
            problems.push(format!("{n}; assigning new UIDs under a new UIDVALIDITY"));
        }
        let mut list = match list {
            Some(l) => l,
            None => self.fresh_uidlist()?,
        };
        let before = list.records.len();
        list.records.retain(|r| on_disk.contains_key(&r.stem));
        let mut changed = !had_list || list.records.len() != before;
        let mut unknown: Vec<&String> = on_disk
            .keys()
            .filter(|s| !list.records.iter().any(|r| &r.stem == *s))
            .collect();
        if !unknown.is_empty() {
            // The stem starts with the delivery time: oldest first.
            unknown.sort();
            for s in unknown {
                let uid = list.next_uid;
                list.next_uid = uid.saturating_add(1);
                list.records.push(UidRecord {
                    uid,
                    ext: Vec::new(),
                    stem: s.clone(),
                });
            }
            changed = true;
        }
        if list.guid.is_none() {
            list.guid = Some(guid::to_hex(&guid::new_guid()));
            changed = true;
        }
        if changed {
            self.write_uidlist(&list)?;
        }
        let kw = self.read_keywords();
        let mut messages = Vec::with_capacity(list.records.len());
        let mut files = HashMap::with_capacity(list.records.len());
        let old_facts = std::mem::take(&mut *self.facts());
        let mut facts = HashMap::with_capacity(list.records.len());
        for r in &list.records {
            let Some(rel) = on_disk.get(&r.stem) else {
                continue;
            };
            match self.describe(r, rel, &kw, old_facts.get(&r.uid)) {
                Ok((m, f)) => {
                    files.insert(r.uid, rel.clone());
                    facts.insert(r.uid, f);
                    messages.push(m);
                }
                Err(e) => problems.push(format!("{rel}: {e}")),
            }
        }
        *self.files() = files;
        *self.facts() = facts;
        Ok(FolderScan {
            uidvalidity: list.uidvalidity,
            uidnext: list.next_uid,
            mailbox_guid: list.guid.as_deref().and_then(guid::from_hex),
            messages,
            problems,
        })
    }

    fn append(&self, messages: Vec<NewMessage>) -> Result<Vec<FoundMessage>> {
        let tmp_dir = self.dir.join("tmp");
        let mut prepared = Vec::with_capacity(messages.len());
        for m in messages {
            let stem = self.new_stem(m.body.len() as u64, dbox_file::virtual_size(&m.body));
            let tmp = tmp_dir.join(&stem);
            let written = (|| {
                let mut f = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&tmp)?;
                f.write_all(&m.body)?;
                let t = UNIX_EPOCH + Duration::from_secs(m.internal_date.max(0) as u64);
                f.set_modified(t)?;
                f.sync_all()
            })();
            if let Err(e) = written {
                let _ = fs::remove_file(&tmp);
                for (p, _, _) in &prepared {
                    let _ = fs::remove_file(p);
                }
                return Err(StorageError::io(&tmp, e));
            }
            prepared.push((tmp, stem, m));
        }
        self.place(prepared)
    }

    fn set_flags(&self, changes: &[FlagChange]) -> Result<()> {
        let cur = self.dir.join("cur");
        for c in changes {
            let letters = self.letters_for(&c.keywords)?;
            let from = match self.locate(c.uid) {
                Ok(p) => p,
                Err(StorageError::NoSuchMessage(_)) => continue, // expunged meanwhile
                Err(e) => return Err(e),
            };
            let old = from
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let parsed = filename::parse(&old);
            let new = filename::with_info(&parsed.stem, c.flags, &letters, &parsed.other_flags);
            let to = cur.join(&new);
            if from != to {
                fs::rename(&from, &to).map_err(io_err(&to))?;
            }
            self.files().insert(c.uid, format!("cur/{new}"));
        }
        disk::sync_dir(&cur)
    }

    fn expunge(&self, uids: &[u32]) -> Result<()> {
        let mut touched = false;
        for &uid in uids {
            match self.locate(uid) {
                Ok(p) => match fs::remove_file(&p) {
                    Ok(()) => touched = true,
                    Err(e) if e.kind() == ErrorKind::NotFound => {}
                    Err(e) => return Err(StorageError::io(&p, e)),
                },
                Err(StorageError::NoSuchMessage(_)) => {}
                Err(e) => return Err(e),
            }
            self.files().remove(&uid);
        }
        if touched {
            disk::sync_dir(&self.dir.join("cur"))?;
            disk::sync_dir(&self.dir.join("new"))?;
        }
        Ok(())
    }

    fn read(&self, uid: u32) -> Result<Vec<u8>> {
        let p = self.locate(uid)?;
        match fs::read(&p) {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                // Renamed between locate and read: look once more.
                let p = self.locate(uid)?;
                fs::read(&p).map_err(io_err(&p))
            }
            Err(e) => Err(StorageError::io(&p, e)),
        }
    }

    fn max_keywords(&self) -> usize {
        keywords::MAX_LETTERS
    }

    fn message_path(&self, uid: u32) -> Option<PathBuf> {
        self.locate(uid).ok()
    }

    fn link_in(&self, sources: &[(PathBuf, FoundMessage)]) -> Option<Result<Vec<FoundMessage>>> {
        let tmp_dir = self.dir.join("tmp");
        let mut prepared = Vec::with_capacity(sources.len());
        for (src, m) in sources {
            let stem = self.new_stem(m.physical_size, m.virtual_size);
            let tmp = tmp_dir.join(&stem);
            if fs::hard_link(src, &tmp).is_err() {
                // Another filesystem or a vanished source: fall back to copying.
                for (p, _, _) in &prepared {
                    let _ = fs::remove_file(p);
                }
                return None;
            }
            prepared.push((
                tmp,
                stem,
                NewMessage {
                    body: Vec::new(),
                    flags: m.flags,
                    keywords: m.keywords.clone(),
                    internal_date: m.internal_date,
                    guid: Some(m.guid.clone()),
                    pop3_uidl: None,
                    pop3_order: None,
                    envelope_from: None,
                },
            ));
        }
        Some(self.place(prepared))
    }
}
